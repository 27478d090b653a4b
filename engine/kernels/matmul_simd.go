//go:build goexperiment.simd && amd64

package kernels

import "simd/archsimd"

// matMulLanesSIMD computes MatMulLanes for the inputs n&^1 in pairs (c a multiple of 16) and
// returns how many inputs it did. Rows go in groups of four; the last len%4 rows are done by
// matVecLanesSIMD's dot products (dotLanesSIMD). Each (row, input) entry keeps DotLanes' 16
// lanes and its reduction order: lanes 0–7 (elements k…k+7 of every 16) are summed in a first
// pass over the row and lanes 8–15 in a second one, so that a tile of four rows by two inputs
// needs only eight accumulators (more make the compiler spill them inside the loop).
func matMulLanesSIMD(dst []float32, ldd int, w, x []float32, c int) int {
	rows, n := len(w)/c, len(x)/c
	n2 := n &^ 1
	var lo, hi [8][8]float32
	var q [8][4]float32
	for i := 0; i < n2; i += 2 {
		x0 := x[i*c : (i+1)*c]
		x1 := x[(i+1)*c : (i+2)*c]
		r := 0
		for ; r+4 <= rows; r += 4 {
			tile42(&lo, w[r*c:(r+4)*c], x0, x1, c, 0)
			tile42(&hi, w[r*c:(r+4)*c], x0, x1, c, 8)
			for e := range lo {
				h := archsimd.LoadFloat32x8Array(&lo[e]).Add(archsimd.LoadFloat32x8Array(&hi[e]))
				h.GetLo().Add(h.GetHi()).StoreArray(&q[e])
			}
			archsimd.ClearAVXUpperBits()
			for e := range q {
				// Entry e is row r+e/2, input i+e%2.
				dst[(i+e%2)*ldd+r+e/2] = (q[e][0] + q[e][2]) + (q[e][1] + q[e][3])
			}
		}
		for ; r < rows; r++ {
			wr := w[r*c : (r+1)*c]
			dst[i*ldd+r] = dotLanesSIMD(wr, x0)
			dst[(i+1)*ldd+r] = dotLanesSIMD(wr, x1)
		}
	}
	return n2
}

// tile42 sums, for the four rows of w (c columns each) and the inputs x0 and x1, the lanes
// h…h+7 (h = 0 or 8) of DotLanes: acc[2·row+input] lane l = Σ over k of w[row][16k+h+l]·x[16k+h+l]
// by fused multiply-adds in order.
func tile42(acc *[8][8]float32, w, x0, x1 []float32, c, h int) {
	w0, w1, w2, w3 := w[0:c], w[c:2*c], w[2*c:3*c], w[3*c:4*c]
	x0, x1 = x0[:len(w0)], x1[:len(w0)]
	z := archsimd.Float32x8{}
	a0, a1, a2, a3, a4, a5, a6, a7 := z, z, z, z, z, z, z, z
	for k := h; k+8 <= len(w0); k += 16 {
		u0 := archsimd.LoadFloat32x8Array((*[8]float32)(x0[k : k+8]))
		u1 := archsimd.LoadFloat32x8Array((*[8]float32)(x1[k : k+8]))
		v := archsimd.LoadFloat32x8Array((*[8]float32)(w0[k : k+8]))
		a0 = v.MulAdd(u0, a0)
		a1 = v.MulAdd(u1, a1)
		v = archsimd.LoadFloat32x8Array((*[8]float32)(w1[k : k+8]))
		a2 = v.MulAdd(u0, a2)
		a3 = v.MulAdd(u1, a3)
		v = archsimd.LoadFloat32x8Array((*[8]float32)(w2[k : k+8]))
		a4 = v.MulAdd(u0, a4)
		a5 = v.MulAdd(u1, a5)
		v = archsimd.LoadFloat32x8Array((*[8]float32)(w3[k : k+8]))
		a6 = v.MulAdd(u0, a6)
		a7 = v.MulAdd(u1, a7)
	}
	a0.StoreArray(&acc[0])
	a1.StoreArray(&acc[1])
	a2.StoreArray(&acc[2])
	a3.StoreArray(&acc[3])
	a4.StoreArray(&acc[4])
	a5.StoreArray(&acc[5])
	a6.StoreArray(&acc[6])
	a7.StoreArray(&acc[7])
}
