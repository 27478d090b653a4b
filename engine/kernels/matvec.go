package kernels

// MatVecLanes sets dst[r] = DotLanes(w[r·c:(r+1)·c], x) for every row r, with c = len(x): the
// product of a row-major matrix (len(dst) rows of c columns) with a vector, each row summed in
// DotLanes' order. With SIMD, when c is a multiple of 16, four rows run side by side (their
// chains of fused multiply-adds are independent), which hides the latency of each chain.
func MatVecLanes(dst, w, x []float32) {
	c := len(x)
	if len(w) != len(dst)*c {
		panic("kernels: MatVecLanes: matrix size is not rows × columns")
	}
	r0 := 0
	if simdLevel != simdNone && c%16 == 0 && c > 0 {
		r0 = matVecLanesSIMD(dst, w, x)
	}
	for r := r0; r < len(dst); r++ {
		dst[r] = DotLanes(w[r*c:(r+1)*c], x)
	}
}
