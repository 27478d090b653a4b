//go:build goexperiment.simd && amd64

package kernels

import "simd/archsimd"

// matVecLanesSIMD computes MatVecLanes (len(x) a positive multiple of 16) and returns how many
// rows it did: all. Each row keeps DotLanes' 16 lanes in two 256-bit accumulators and its
// reduction order. Rows run one after the other, so that the matrix is read as one stream:
// decoding reads weights from memory, not from a cache, and four rows side by side (four
// streams) ran at 8–10 GB/s where one runs at 13–16 (a 37 MB matrix, this machine), while in
// a cache both run alike.
func matVecLanesSIMD(dst, w, x []float32) int {
	c := len(x)
	rest := w[:len(dst)*c]
	var q [4]float32
	for r := range dst {
		// The row and x walk 32 values at a time (one length comparison each; indexing by i
		// cost a bounds check per load).
		row, xs := rest[:c], x
		rest = rest[c:]
		a0, b0 := archsimd.Float32x8{}, archsimd.Float32x8{}
		for len(row) >= 32 && len(xs) >= 32 {
			wr, xr := (*[32]float32)(row), (*[32]float32)(xs)
			a0 = archsimd.LoadFloat32x8Array((*[8]float32)(wr[0:8])).MulAdd(archsimd.LoadFloat32x8Array((*[8]float32)(xr[0:8])), a0)
			b0 = archsimd.LoadFloat32x8Array((*[8]float32)(wr[8:16])).MulAdd(archsimd.LoadFloat32x8Array((*[8]float32)(xr[8:16])), b0)
			a0 = archsimd.LoadFloat32x8Array((*[8]float32)(wr[16:24])).MulAdd(archsimd.LoadFloat32x8Array((*[8]float32)(xr[16:24])), a0)
			b0 = archsimd.LoadFloat32x8Array((*[8]float32)(wr[24:32])).MulAdd(archsimd.LoadFloat32x8Array((*[8]float32)(xr[24:32])), b0)
			row, xs = row[32:], xs[32:]
		}
		if len(row) >= 16 && len(xs) >= 16 {
			wr, xr := (*[16]float32)(row), (*[16]float32)(xs)
			a0 = archsimd.LoadFloat32x8Array((*[8]float32)(wr[0:8])).MulAdd(archsimd.LoadFloat32x8Array((*[8]float32)(xr[0:8])), a0)
			b0 = archsimd.LoadFloat32x8Array((*[8]float32)(wr[8:16])).MulAdd(archsimd.LoadFloat32x8Array((*[8]float32)(xr[8:16])), b0)
		}
		h0 := a0.Add(b0)
		h0.GetLo().Add(h0.GetHi()).StoreArray(&q)
		archsimd.ClearAVXUpperBits()
		dst[r] = (q[0] + q[2]) + (q[1] + q[3])
	}
	return len(dst)
}
