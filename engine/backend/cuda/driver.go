//go:build linux && (amd64 || arm64)

package cuda

import (
	"fmt"
	"unsafe"

	"github.com/ebitengine/purego"
)

// libcudaNames are the driver library's names, tried in order.
var libcudaNames = []string{"libcuda.so.1", "libcuda.so"}

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
		{&d.cuMemAllocHost, "cuMemAllocHost_v2"},
		{&d.cuMemFreeHost, "cuMemFreeHost"},
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
