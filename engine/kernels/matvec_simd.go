//go:build goexperiment.simd && amd64

package kernels

import (
	"simd/archsimd"
	"unsafe"
)

// matVecLanesSIMD computes MatVecLanes (len(x) a positive multiple of 16) and returns how many
// rows it did: all. Each row keeps DotLanes' 16 lanes in two 256-bit accumulators and its
// reduction order. Rows run one after the other, so that the matrix is read as one stream:
// decoding reads weights from memory, not from a cache, and four rows side by side (four
// streams) ran at 8–10 GB/s where one runs at 13–16 (a 37 MB matrix, this machine), while in
// a cache both run alike. Blocks are addressed from base pointers after one range check.
func matVecLanesSIMD(dst, w, x []float32) int {
	c := len(x)
	if len(dst) == 0 {
		return 0
	}
	_ = w[len(dst)*c-1]
	wp, xp := unsafe.Pointer(&w[0]), unsafe.Pointer(&x[0])
	c32 := c &^ 31
	var q [4]float32
	for r := range dst {
		rp := unsafe.Add(wp, r*c*4)
		a0, b0 := archsimd.Float32x8{}, archsimd.Float32x8{}
		i := 0
		for ; i < c32; i += 32 {
			a0 = archsimd.LoadFloat32x8Array((*[8]float32)(unsafe.Add(rp, i*4))).MulAdd(archsimd.LoadFloat32x8Array((*[8]float32)(unsafe.Add(xp, i*4))), a0)
			b0 = archsimd.LoadFloat32x8Array((*[8]float32)(unsafe.Add(rp, i*4+32))).MulAdd(archsimd.LoadFloat32x8Array((*[8]float32)(unsafe.Add(xp, i*4+32))), b0)
			a0 = archsimd.LoadFloat32x8Array((*[8]float32)(unsafe.Add(rp, i*4+64))).MulAdd(archsimd.LoadFloat32x8Array((*[8]float32)(unsafe.Add(xp, i*4+64))), a0)
			b0 = archsimd.LoadFloat32x8Array((*[8]float32)(unsafe.Add(rp, i*4+96))).MulAdd(archsimd.LoadFloat32x8Array((*[8]float32)(unsafe.Add(xp, i*4+96))), b0)
		}
		if i < c {
			a0 = archsimd.LoadFloat32x8Array((*[8]float32)(unsafe.Add(rp, i*4))).MulAdd(archsimd.LoadFloat32x8Array((*[8]float32)(unsafe.Add(xp, i*4))), a0)
			b0 = archsimd.LoadFloat32x8Array((*[8]float32)(unsafe.Add(rp, i*4+32))).MulAdd(archsimd.LoadFloat32x8Array((*[8]float32)(unsafe.Add(xp, i*4+32))), b0)
		}
		h0 := a0.Add(b0)
		h0.GetLo().Add(h0.GetHi()).StoreArray(&q)
		archsimd.ClearAVXUpperBits()
		dst[r] = (q[0] + q[2]) + (q[1] + q[3])
	}
	return len(dst)
}
