package kernels

// MatMulLanes sets dst[i·ldd+r] = DotLanes(w[r·c:(r+1)·c], x[i·c:(i+1)·c]) for every row r of
// w and every input i of x (row-major, c columns each): the product of a block of weight rows
// with a batch of inputs, each entry summed in DotLanes' order, so that it equals MatVecLanes
// run once per input, bit for bit. With SIMD, when c is a multiple of 16, tiles of four rows
// by two inputs run together: each weight vector loaded feeds two independent chains of fused
// multiply-adds and each input vector four.
func MatMulLanes(dst []float32, ldd int, w, x []float32, c int) {
	if c <= 0 || len(w)%c != 0 || len(x)%c != 0 {
		panic("kernels: MatMulLanes: weights or inputs are not whole rows")
	}
	rows, n := len(w)/c, len(x)/c
	if rows == 0 || n == 0 {
		return
	}
	if ldd < rows || len(dst) < (n-1)*ldd+rows {
		panic("kernels: MatMulLanes: destination too short")
	}
	i0 := 0
	if simdLevel != simdNone && c%16 == 0 {
		i0 = matMulLanesSIMD(dst, ldd, w, x, c)
	}
	for i := i0; i < n; i++ {
		MatVecLanes(dst[i*ldd:i*ldd+rows], w, x[i*c:(i+1)*c])
	}
}
