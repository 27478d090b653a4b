package kernels

import "github.com/attnscope/attnscope/engine/quant"

// VecDotRows sets dst[r] = VecDot(t, row r of w, act, n) for the len(dst) rows of w (row-major,
// rows of type t holding n values each, act encoded as quant.VecDotType(t)): the same bits as
// VecDot row by row. For Q8_0 and Q4_0 with AVX2, eight rows run side by side (on a packed copy,
// see Pack and VecDotRowsPacked): their integer block sums are taken with byte products (the
// sign trick: |x| times y with x's sign, summed in pairs to 16 bits, then to 32 bits; exact),
// gathered into one vector with a row per lane, and each lane adds its float terms in
// quant.VecDot's order, so every row's chain of roundings is the scalar one.
func VecDotRows(t quant.Type, dst []float32, w, act []byte, n int) {
	rows := len(dst)
	if rows == 0 {
		return
	}
	if len(w)%rows != 0 {
		panic("kernels: VecDotRows: weights are not whole rows")
	}
	rb := len(w) / rows
	if Packs(t) && quantSIMD && n > 0 && n%qk == 0 && len(act) == n/qk*q8_0Bytes {
		// The vector kernels read packed rows: pack these (a copy; backends keep their
		// weights packed and call VecDotRowsPacked).
		if p, err := Pack(t, w, rows, n); err == nil {
			as := make([]uint32, n/qk)
			ActScales(as, act)
			VecDotRowsPacked(dst, p, 0, act, as)
			return
		}
	}
	for r := 0; r < rows; r++ {
		dst[r] = VecDot(t, w[r*rb:(r+1)*rb], act, n)
	}
}
