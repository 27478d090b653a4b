package kernels

import (
	"encoding/binary"

	"github.com/attnscope/attnscope/engine/quant"
)

// Block sizes of the quantized dot products VecDot speeds up.
const (
	qk        = 32       // values per block
	q8_0Bytes = 2 + qk   // binary16 scale, 32 signed bytes
	q4_0Bytes = 2 + qk/2 // binary16 scale, 32 nibbles
	vecBatch  = 64       // blocks whose integer sums are taken before their float terms
)

// VecDot is quant.VecDot(t, row, act, n): one weight row of type t times activations encoded
// as quant.VecDotType(t). For Q8_0 and Q4_0 the integer sum of each block runs on vector units
// when the CPU has them (exact, so the same integers), and the float terms are then added in
// quant.VecDot's order:
//
//	Q8_0: sum += float32(Σ qx·qy) · (dx·dy)
//	Q4_0: sum += (float32(Σ (q−8)·qy) · dx) · dy
//
// so the result has the same bits. Other types, and bad lengths (which panic there), go to
// quant.VecDot.
func VecDot(t quant.Type, row, act []byte, n int) float32 {
	if quantSIMD && n > 0 && n%qk == 0 && len(act) == n/qk*q8_0Bytes {
		nb := n / qk
		switch {
		case t == quant.Q8_0 && len(row) == nb*q8_0Bytes:
			return vecDotQ8_0SIMD(row, act, nb)
		case t == quant.Q4_0 && len(row) == nb*q4_0Bytes:
			return vecDotQ4_0SIMD(row, act, nb)
		}
	}
	return quant.VecDot(t, row, act, n)
}

// f16At reads the binary16 scale at the start of b.
func f16At(b []byte) float32 { return quant.F16ToF32(binary.LittleEndian.Uint16(b)) }
