//go:build linux && (amd64 || arm64)

package cuda

import (
	"fmt"
	"unsafe"

	"github.com/ebitengine/purego"
)

// libcudaNames are the driver library's names, tried in order.
var libcudaNames = []string{"libcuda.so.1", "libcuda.so"}

// driver holds the CUDA driver API entry points, resolved at run time.
type driver struct {
	cuInit                    func(flags uint32) int32
	cuDriverGetVersion        func(v *int32) int32
	cuDeviceGetCount          func(n *int32) int32
	cuDeviceGet               func(dev *int32, ordinal int32) int32
	cuDeviceGetName           func(name *byte, n int32, dev int32) int32
	cuDeviceTotalMem          func(bytes *uint64, dev int32) int32
	cuDeviceGetAttribute      func(v *int32, attr int32, dev int32) int32
	cuDevicePrimaryCtxRetain  func(ctx *uintptr, dev int32) int32
	cuDevicePrimaryCtxRelease func(dev int32) int32
	cuCtxSetCurrent           func(ctx uintptr) int32
	cuCtxSynchronize          func() int32
	cuModuleLoadDataEx        func(mod *uintptr, image *byte, n uint32, opts *int32, vals *uintptr) int32
	cuModuleUnload            func(mod uintptr) int32
	cuModuleGetFunction       func(fn *uintptr, mod uintptr, name *byte) int32
	cuFuncSetAttribute        func(fn uintptr, attr int32, v int32) int32
	cuMemAlloc                func(ptr *uint64, size uint64) int32
	cuMemFree                 func(ptr uint64) int32
	cuMemGetInfo              func(free, total *uint64) int32
	cuMemcpyHtoD              func(dst uint64, src unsafe.Pointer, n uint64) int32
	cuMemcpyDtoH              func(dst unsafe.Pointer, src uint64, n uint64) int32
	cuMemcpyDtoD              func(dst, src uint64, n uint64) int32
	cuMemsetD32               func(dst uint64, v uint32, n uint64) int32
	cuLaunchKernel            func(fn uintptr, gx, gy, gz, bx, by, bz, shmem uint32, stream uintptr, params *unsafe.Pointer, extra *unsafe.Pointer) int32
	cuGetErrorName            func(err int32, s **byte) int32
	cuEventCreate             func(ev *uintptr, flags uint32) int32
	cuEventRecord             func(ev uintptr, stream uintptr) int32
	cuEventSynchronize        func(ev uintptr) int32
	cuEventElapsedTime        func(ms *float32, start, end uintptr) int32
	cuEventDestroy            func(ev uintptr) int32

	// Entry points of the calls made for every operation, called without reflection.
	pLaunch, pHtoD, pDtoH, pDtoD uintptr
}

// loadDriver opens the driver library and resolves every entry point, or says what is missing.
func loadDriver() (*driver, error) {
	var lib uintptr
	var errs []error
	for _, name := range libcudaNames {
		h, err := purego.Dlopen(name, purego.RTLD_NOW|purego.RTLD_GLOBAL)
		if err == nil {
			lib = h
			break
		}
		errs = append(errs, err)
	}
	if lib == 0 {
		return nil, fmt.Errorf("no NVIDIA driver library (%s): %v", libcudaNames[0], errs[0])
	}
	d := &driver{}
	syms := []struct {
		fn   any
		name string
	}{
		{&d.cuInit, "cuInit"},
		{&d.cuDriverGetVersion, "cuDriverGetVersion"},
		{&d.cuDeviceGetCount, "cuDeviceGetCount"},
		{&d.cuDeviceGet, "cuDeviceGet"},
		{&d.cuDeviceGetName, "cuDeviceGetName"},
		{&d.cuDeviceTotalMem, "cuDeviceTotalMem_v2"},
		{&d.cuDeviceGetAttribute, "cuDeviceGetAttribute"},
		{&d.cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain"},
		{&d.cuDevicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2"},
		{&d.cuCtxSetCurrent, "cuCtxSetCurrent"},
		{&d.cuCtxSynchronize, "cuCtxSynchronize"},
		{&d.cuModuleLoadDataEx, "cuModuleLoadDataEx"},
		{&d.cuModuleUnload, "cuModuleUnload"},
		{&d.cuModuleGetFunction, "cuModuleGetFunction"},
		{&d.cuFuncSetAttribute, "cuFuncSetAttribute"},
		{&d.cuMemAlloc, "cuMemAlloc_v2"},
		{&d.cuMemFree, "cuMemFree_v2"},
		{&d.cuMemGetInfo, "cuMemGetInfo_v2"},
		{&d.cuMemcpyHtoD, "cuMemcpyHtoD_v2"},
		{&d.cuMemcpyDtoH, "cuMemcpyDtoH_v2"},
		{&d.cuMemcpyDtoD, "cuMemcpyDtoD_v2"},
		{&d.cuMemsetD32, "cuMemsetD32_v2"},
		{&d.cuLaunchKernel, "cuLaunchKernel"},
		{&d.cuGetErrorName, "cuGetErrorName"},
		{&d.cuEventCreate, "cuEventCreate"},
		{&d.cuEventRecord, "cuEventRecord"},
		{&d.cuEventSynchronize, "cuEventSynchronize"},
		{&d.cuEventElapsedTime, "cuEventElapsedTime"},
		{&d.cuEventDestroy, "cuEventDestroy_v2"},
	}
	for _, s := range syms {
		if _, err := purego.Dlsym(lib, s.name); err != nil {
			return nil, fmt.Errorf("the NVIDIA driver library lacks %s (driver too old?)", s.name)
		}
		purego.RegisterLibFunc(s.fn, lib, s.name)
	}
	d.pLaunch, _ = purego.Dlsym(lib, "cuLaunchKernel")
	d.pHtoD, _ = purego.Dlsym(lib, "cuMemcpyHtoD_v2")
	d.pDtoH, _ = purego.Dlsym(lib, "cuMemcpyDtoH_v2")
	d.pDtoD, _ = purego.Dlsym(lib, "cuMemcpyDtoD_v2")
	return d, nil
}

// launch is cuLaunchKernel on the default stream.
func (d *driver) launch(fn uintptr, gx, gy, bx, shmem uint32, params *unsafe.Pointer) int32 {
	r, _, _ := purego.SyscallN(d.pLaunch, fn, uintptr(gx), uintptr(gy), 1, uintptr(bx), 1, 1, uintptr(shmem), 0,
		uintptr(unsafe.Pointer(params)), 0)
	return int32(r)
}

func (d *driver) htod(dst uint64, src unsafe.Pointer, n uint64) int32 {
	r, _, _ := purego.SyscallN(d.pHtoD, uintptr(dst), uintptr(src), uintptr(n))
	return int32(r)
}

func (d *driver) dtoh(dst unsafe.Pointer, src uint64, n uint64) int32 {
	r, _, _ := purego.SyscallN(d.pDtoH, uintptr(dst), uintptr(src), uintptr(n))
	return int32(r)
}

func (d *driver) dtod(dst, src uint64, n uint64) int32 {
	r, _, _ := purego.SyscallN(d.pDtoD, uintptr(dst), uintptr(src), uintptr(n))
	return int32(r)
}

// errName is the driver's name for a result code.
func (d *driver) errName(r int32) string {
	var s *byte
	if d.cuGetErrorName(r, &s) != 0 || s == nil {
		return fmt.Sprintf("CUDA error %d", r)
	}
	return fmt.Sprintf("%s (%d)", cString(s), r)
}

// cString copies a NUL-terminated C string.
func cString(p *byte) string {
	if p == nil {
		return ""
	}
	var b []byte
	for i := 0; i < 4096; i++ {
		c := *(*byte)(unsafe.Add(unsafe.Pointer(p), i))
		if c == 0 {
			break
		}
		b = append(b, c)
	}
	return string(b)
}
