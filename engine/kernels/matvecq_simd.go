//go:build goexperiment.simd && amd64

package kernels

import "simd/archsimd"

// The fused kernels (packed_simd.go) run four rows side by side, as matVecLanesSIMD does: each
// row keeps DotLanes' 16 lanes in two 256-bit accumulators (elements 0–7 and 8–15 of every 16),
// and the four rows' chains of fused multiply-adds are independent. A block of 32 weights is
// four groups of eight: signed bytes widened to 32 bits, converted to float32 and multiplied by
// the block scale (exact, as in Dequantize).

// reduce4Rows finishes four rows' DotLanes sums from their lane halves (a: lanes 0–7, b: lanes
// 8–15) in reduce16's order and stores them in dst[0:4].
func reduce4Rows(dst []float32, q *[4][4]float32, a0, b0, a1, b1, a2, b2, a3, b3 archsimd.Float32x8) {
	h0, h1, h2, h3 := a0.Add(b0), a1.Add(b1), a2.Add(b2), a3.Add(b3)
	h0.GetLo().Add(h0.GetHi()).StoreArray(&q[0])
	h1.GetLo().Add(h1.GetHi()).StoreArray(&q[1])
	h2.GetLo().Add(h2.GetHi()).StoreArray(&q[2])
	h3.GetLo().Add(h3.GetHi()).StoreArray(&q[3])
	archsimd.ClearAVXUpperBits()
	_ = dst[3]
	for k := range q {
		dst[k] = (q[k][0] + q[k][2]) + (q[k][1] + q[k][3])
	}
}
