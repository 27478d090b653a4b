package quant

import "fmt"

// chunk is how many values DotRow dequantizes at a time: one K-quant super-block, or eight
// 32-value blocks, or 256 scalars.
const chunk = QKK

// DotRow returns the dot product of one row of type t (len(x) values stored in row) with x:
//
//	var sum float32
//	for j := range x { sum += float32(w[j] * x[j]) }
//
// where w is the row dequantized as Dequantize does it, one block at a time on the stack (no
// allocation); the sum is plain float32 in element order, each product rounded. It panics if t
// is not in Supported(), if len(x) is not a multiple of t's block size, or if len(row) is not
// the bytes of len(x) values.
func DotRow(t Type, row []byte, x []float32) float32 {
	checkSupported("DotRow", t)
	checkRow("DotRow", t, len(x), len(row))
	return dotRow(t, t.BlockSize(), t.BlockBytes(), row, x)
}

// MatVec computes dst[r] = DotRow(t, row r of w, x) for a rows×cols matrix w of type t stored
// row after row. It panics if t is not in Supported(), if len(dst) != rows, len(x) != cols,
// cols is not a multiple of t's block size, or len(w) is not rows times the bytes of a row.
func MatVec(t Type, dst []float32, w []byte, rows, cols int, x []float32) {
	checkSupported("MatVec", t)
	if rows < 0 || len(dst) != rows || len(x) != cols {
		panic(fmt.Sprintf("quant: MatVec: dst has %d values and x %d for a %d×%d matrix", len(dst), len(x), rows, cols))
	}
	bs, bb := t.BlockSize(), t.BlockBytes()
	if cols%bs != 0 {
		panic(fmt.Sprintf("quant: MatVec: %d columns is not a multiple of the %s block size %d", cols, t, bs))
	}
	rb := cols / bs * bb
	if len(w) != rows*rb {
		panic(fmt.Sprintf("quant: MatVec: %d bytes for a %d×%d %s matrix, want %d", len(w), rows, cols, t, rows*rb))
	}
	for r := range dst {
		dst[r] = dotRow(t, bs, bb, w[r*rb:(r+1)*rb], x)
	}
}

func checkSupported(name string, t Type) {
	if dequantizer(t) == nil {
		panic(fmt.Sprintf("quant: %s: type %s is not supported (supported: %s)", name, t, SupportedNames()))
	}
}

// dotRow is DotRow after the checks; bs and bb are t's block size and bytes.
func dotRow(t Type, bs, bb int, row []byte, x []float32) float32 {
	var buf [chunk]float32
	var sum float32
	for off := 0; off < len(x); off += chunk {
		n := min(chunk, len(x)-off)
		w := buf[:n]
		dequantizeChunk(t, w, row[off/bs*bb:(off+n)/bs*bb])
		xs := x[off : off+n]
		for j, v := range w {
			sum += float32(v * xs[j])
		}
	}
	return sum
}

// dequantizeChunk is Dequantize with direct calls, so that the caller's stack buffer stays on
// the stack.
func dequantizeChunk(t Type, dst []float32, src []byte) {
	switch t {
	case F32:
		DequantizeF32(dst, src)
	case F16:
		DequantizeF16(dst, src)
	case BF16:
		DequantizeBF16(dst, src)
	case Q4_0:
		DequantizeQ4_0(dst, src)
	case Q4_1:
		DequantizeQ4_1(dst, src)
	case Q5_0:
		DequantizeQ5_0(dst, src)
	case Q5_1:
		DequantizeQ5_1(dst, src)
	case Q8_0:
		DequantizeQ8_0(dst, src)
	case Q2_K:
		DequantizeQ2K(dst, src)
	case Q3_K:
		DequantizeQ3K(dst, src)
	case Q4_K:
		DequantizeQ4K(dst, src)
	case Q5_K:
		DequantizeQ5K(dst, src)
	case Q6_K:
		DequantizeQ6K(dst, src)
	default:
		panic(fmt.Sprintf("quant: type %s is not supported (supported: %s)", t, SupportedNames()))
	}
}
