//go:build goexperiment.simd && amd64

package kernels

import "simd/archsimd"

// matVecLanesSIMD computes MatVecLanes (len(x) a positive multiple of 16) and returns how many
// rows it did: all. Each row keeps DotLanes' 16 lanes in two 256-bit accumulators and its
// reduction order. Two rows run side by side, one from each half of the matrix (halves), so
// that the matrix is read as two streams far apart: decoding reads weights from memory, not
// from a cache, and one core reads two such streams faster than one (see the packed kernels),
// while four neighbouring rows side by side (four streams a row apart) ran at 8–10 GB/s where
// one stream runs at 13–16 (a 37 MB matrix, this machine).
func matVecLanesSIMD(dst, w, x []float32) int {
	c := len(x)
	w = w[:len(dst)*c]
	var q [2][4]float32
	half := halves(0, len(dst))
	for i := 0; i < half; i++ {
		ra, rb := halfPair(0, len(dst), half, i)
		// The rows and x walk 32 values at a time (one length comparison each; indexing by i
		// cost a bounds check per load).
		rowA, rowB, xs := w[ra*c:][:c], w[rb*c:][:c], x
		a0, b0 := archsimd.Float32x8{}, archsimd.Float32x8{}
		a1, b1 := a0, b0
		for len(rowA) >= 32 && len(rowB) >= 32 && len(xs) >= 32 {
			wa, wb, xr := (*[32]float32)(rowA), (*[32]float32)(rowB), (*[32]float32)(xs)
			x0, x1 := archsimd.LoadFloat32x8Array((*[8]float32)(xr[0:8])), archsimd.LoadFloat32x8Array((*[8]float32)(xr[8:16]))
			a0 = archsimd.LoadFloat32x8Array((*[8]float32)(wa[0:8])).MulAdd(x0, a0)
			b0 = archsimd.LoadFloat32x8Array((*[8]float32)(wa[8:16])).MulAdd(x1, b0)
			a1 = archsimd.LoadFloat32x8Array((*[8]float32)(wb[0:8])).MulAdd(x0, a1)
			b1 = archsimd.LoadFloat32x8Array((*[8]float32)(wb[8:16])).MulAdd(x1, b1)
			x2, x3 := archsimd.LoadFloat32x8Array((*[8]float32)(xr[16:24])), archsimd.LoadFloat32x8Array((*[8]float32)(xr[24:32]))
			a0 = archsimd.LoadFloat32x8Array((*[8]float32)(wa[16:24])).MulAdd(x2, a0)
			b0 = archsimd.LoadFloat32x8Array((*[8]float32)(wa[24:32])).MulAdd(x3, b0)
			a1 = archsimd.LoadFloat32x8Array((*[8]float32)(wb[16:24])).MulAdd(x2, a1)
			b1 = archsimd.LoadFloat32x8Array((*[8]float32)(wb[24:32])).MulAdd(x3, b1)
			rowA, rowB, xs = rowA[32:], rowB[32:], xs[32:]
		}
		if len(rowA) >= 16 && len(rowB) >= 16 && len(xs) >= 16 {
			wa, wb, xr := (*[16]float32)(rowA), (*[16]float32)(rowB), (*[16]float32)(xs)
			x0, x1 := archsimd.LoadFloat32x8Array((*[8]float32)(xr[0:8])), archsimd.LoadFloat32x8Array((*[8]float32)(xr[8:16]))
			a0 = archsimd.LoadFloat32x8Array((*[8]float32)(wa[0:8])).MulAdd(x0, a0)
			b0 = archsimd.LoadFloat32x8Array((*[8]float32)(wa[8:16])).MulAdd(x1, b0)
			a1 = archsimd.LoadFloat32x8Array((*[8]float32)(wb[0:8])).MulAdd(x0, a1)
			b1 = archsimd.LoadFloat32x8Array((*[8]float32)(wb[8:16])).MulAdd(x1, b1)
		}
		h0, h1 := a0.Add(b0), a1.Add(b1)
		h0.GetLo().Add(h0.GetHi()).StoreArray(&q[0])
		h1.GetLo().Add(h1.GetHi()).StoreArray(&q[1])
		archsimd.ClearAVXUpperBits()
		dst[ra] = (q[0][0] + q[0][2]) + (q[0][1] + q[0][3])
		dst[rb] = (q[1][0] + q[1][2]) + (q[1][1] + q[1][3])
	}
	return len(dst)
}
