//go:build goexperiment.simd && amd64

package kernels

import "simd/archsimd"

// matVecLanesSIMD computes MatVecLanes for the rows len(dst)&^3 in groups of four (len(x) a
// positive multiple of 16) and returns how many rows it did. Each row keeps DotLanes' 16 lanes
// in two 256-bit accumulators and its reduction order.
func matVecLanesSIMD(dst, w, x []float32) int {
	c := len(x)
	n4 := len(dst) &^ 3
	var q [4][4]float32
	for r := 0; r < n4; r += 4 {
		w0 := w[r*c : (r+1)*c]
		w1 := w[(r+1)*c : (r+2)*c]
		w2 := w[(r+2)*c : (r+3)*c]
		w3 := w[(r+3)*c : (r+4)*c]
		z := archsimd.Float32x8{}
		a0, b0, a1, b1, a2, b2, a3, b3 := z, z, z, z, z, z, z, z
		for i := 0; i < c; i += 16 {
			xl := archsimd.LoadFloat32x8(x[i : i+8])
			xh := archsimd.LoadFloat32x8(x[i+8 : i+16])
			a0 = archsimd.LoadFloat32x8(w0[i:i+8]).MulAdd(xl, a0)
			b0 = archsimd.LoadFloat32x8(w0[i+8:i+16]).MulAdd(xh, b0)
			a1 = archsimd.LoadFloat32x8(w1[i:i+8]).MulAdd(xl, a1)
			b1 = archsimd.LoadFloat32x8(w1[i+8:i+16]).MulAdd(xh, b1)
			a2 = archsimd.LoadFloat32x8(w2[i:i+8]).MulAdd(xl, a2)
			b2 = archsimd.LoadFloat32x8(w2[i+8:i+16]).MulAdd(xh, b2)
			a3 = archsimd.LoadFloat32x8(w3[i:i+8]).MulAdd(xl, a3)
			b3 = archsimd.LoadFloat32x8(w3[i+8:i+16]).MulAdd(xh, b3)
		}
		// reduce16 per row: halves (lanes l and l+8), then quarters; the pairs in scalar code.
		h0, h1, h2, h3 := a0.Add(b0), a1.Add(b1), a2.Add(b2), a3.Add(b3)
		h0.GetLo().Add(h0.GetHi()).StoreArray(&q[0])
		h1.GetLo().Add(h1.GetHi()).StoreArray(&q[1])
		h2.GetLo().Add(h2.GetHi()).StoreArray(&q[2])
		h3.GetLo().Add(h3.GetHi()).StoreArray(&q[3])
		archsimd.ClearAVXUpperBits()
		for k := range q {
			dst[r+k] = (q[k][0] + q[k][2]) + (q[k][1] + q[k][3])
		}
	}
	return n4
}
