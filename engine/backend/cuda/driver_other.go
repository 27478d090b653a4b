//go:build !(linux && (amd64 || arm64))

package cuda

import (
	"fmt"
	"runtime"
	"unsafe"
)

// loadDriver always fails here: the driver is only loaded on Linux.
func loadDriver() (*driver, error) {
	return nil, fmt.Errorf("the CUDA backend runs on linux/amd64 and linux/arm64, not %s/%s", runtime.GOOS, runtime.GOARCH)
}

func (d *driver) launch(fn uintptr, gx, gy, bx, shmem uint32, params *unsafe.Pointer) int32 {
	panic("cuda: no driver")
}
func (d *driver) htod(dst uint64, src unsafe.Pointer, n uint64) int32 { panic("cuda: no driver") }
func (d *driver) dtoh(dst unsafe.Pointer, src uint64, n uint64) int32 { panic("cuda: no driver") }
func (d *driver) dtod(dst, src uint64, n uint64) int32                { panic("cuda: no driver") }

func (d *driver) errName(r int32) string { return fmt.Sprintf("CUDA error %d", r) }
