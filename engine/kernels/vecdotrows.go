package kernels

import "github.com/attnscope/attnscope/engine/quant"

// VecDotRows sets dst[r] = VecDot(t, row r of w, act, n) for the len(dst) rows of w (row-major,
// rows of type t holding n values each, act encoded as quant.VecDotType(t)): the same bits as
// VecDot row by row, on rows in ggml's encoding. The vector products of several rows at once read
// packed rows (Pack, VecDotRowsPacked), which a backend keeps instead of the encoding.
func VecDotRows(t quant.Type, dst []float32, w, act []byte, n int) {
	rows := len(dst)
	if rows == 0 {
		return
	}
	if len(w)%rows != 0 {
		panic("kernels: VecDotRows: weights are not whole rows")
	}
	rb := len(w) / rows
	for r := 0; r < rows; r++ {
		dst[r] = VecDot(t, w[r*rb:(r+1)*rb], act, n)
	}
}
