package quant

import (
	"fmt"
	"math"
)

// Quantized dot products as ggml's CPU backend takes them: the activations are first encoded as
// the weight type's "vec_dot_type" (QuantizeActivations), then each weight row is multiplied
// with them block by block in integers and scaled (VecDot). The arithmetic is that of ggml's
// generic, scalar kernels (ggml_vec_dot_<type>_<vec_dot_type> in ggml-cpu/quants.c and
// ggml_vec_dot_f32/f16/bf16 in ggml-cpu/vec.cpp), each float operation in the same order and
// rounded on its own (float32(a*b) + c, so that no platform fuses it into a multiply-add).
// ggml's per-ISA kernels sum the same block terms in other orders, and a C compiler may fuse
// some of the scalar ones; results then differ from these in the last bits only.

// VecDotType is the type ggml quantizes activations to before a dot product with weights of type t:
// F32→F32, F16→F16, BF16→BF16, Q4_0/Q5_0/Q8_0→Q8_0, Q4_1/Q5_1→Q8_1, Q2_K/Q3_K/Q4_K/Q5_K/Q6_K→Q8_K.
// It panics if t is not in Supported().
func VecDotType(t Type) Type {
	switch t {
	case F32, F16, BF16:
		return t
	case Q4_0, Q5_0, Q8_0:
		return Q8_0
	case Q4_1, Q5_1:
		return Q8_1
	case Q2_K, Q3_K, Q4_K, Q5_K, Q6_K:
		return Q8_K
	}
	panic(fmt.Sprintf("quant: VecDotType: type %s is not supported (supported: %s)", t, SupportedNames()))
}

// QuantizeActivations encodes x (len a multiple of t's block size) as VecDotType(t) into dst (RowBytes of that type, len(x)).
// F16, BF16 and Q8_K use ggml's reference encoders (Quantize); Q8_0 and Q8_1 round as ggml's
// vectorized quantizers do (see quantizeQ8Activations), because that is what llama.cpp runs on
// x86 and ARM. It allocates nothing; it panics if t is not
// in Supported(), if len(x) is not a multiple of t's block size, or if len(dst) is not the
// bytes of len(x) values of VecDotType(t).
func QuantizeActivations(t Type, dst []byte, x []float32) {
	vt := VecDotType(t)
	if bs := t.BlockSize(); len(x)%bs != 0 {
		panic(fmt.Sprintf("quant: QuantizeActivations: %d values is not a multiple of the %s block size %d", len(x), t, bs))
	}
	checkRow("QuantizeActivations", vt, len(x), len(dst))
	switch vt {
	case F32:
		QuantizeF32(dst, x)
	case F16:
		QuantizeF16(dst, x)
	case BF16:
		QuantizeBF16(dst, x)
	case Q8_0:
		quantizeQ8Activations(dst, x, false)
	case Q8_1:
		quantizeQ8Activations(dst, x, true)
	case Q8_K:
		QuantizeQ8K(dst, x)
	}
}

// VecDot returns the dot product of one weight row of type t with activations already encoded as VecDotType(t),
// computed as ggml's reference (generic, scalar) vec_dot_<t>_<vec_dot_type> does: integer sums per block
// (or sub-block for K-quants, with their scales/mins and Q8_K's bsums), scaled by the block scales, summed in float32.
// For F16: both operands F16, products accumulated as ggml_vec_dot_f16 does (converted to float, summed); BF16 likewise.
//
// In detail (d, m the weight block's scale and minimum, dy and sy the activation block's scale
// and stored sum, Σ an exact integer sum over the block):
//
//	Q4_0, Q5_0:  sum += (Σ qx·qy)·dx·dy, resp. (dx·dy)·Σ qx·qy, with qx = q−8, q−16
//	Q8_0:        sum += Σ qx·qy · (dx·dy)
//	Q4_1, Q5_1:  sum += (dx·dy)·Σ qx·qy + mx·sy
//	Q2_K:        sum += (dy·dx)·Σ sc·Σ qx·qy − (dy·dmin)·Σ m·bsum
//	Q3_K…Q6_K:   eight lanes l: lane[l] += (dx·dy)·Σ_{e≡l mod 8} sc·qx·qy per super-block, then
//	             sum (holding −Σ (dmin·dy)·Σ m·bsum for Q4_K, Q5_K) += lane[0] + … + lane[7]
//	F32, F16, BF16: products in float32 (exact for F16 and BF16) summed in float64, as
//	             ggml_float, and rounded to float32 at the end.
//
// The activations' sums (Q8_1's S, Q8_K's BSums) are used as stored. It allocates nothing; it
// panics if t is not in Supported(), if n is negative or not a multiple of t's block size, or
// if len(row) and len(act) are not the bytes of n values of t and of VecDotType(t).
func VecDot(t Type, row []byte, act []byte, n int) float32 {
	vt := VecDotType(t)
	if n < 0 {
		panic(fmt.Sprintf("quant: VecDot: negative length %d", n))
	}
	checkRow("VecDot", t, n, len(row))
	checkRow("VecDot", vt, n, len(act))
	nb := n / t.BlockSize()
	switch t {
	case F32:
		return dotF32(row, act, n)
	case F16:
		return dotF16(row, act, n)
	case BF16:
		return dotBF16(row, act, n)
	case Q4_0:
		return dotQ4_0(row, act, nb)
	case Q4_1:
		return dotQ4_1(row, act, nb)
	case Q5_0:
		return dotQ5_0(row, act, nb)
	case Q5_1:
		return dotQ5_1(row, act, nb)
	case Q8_0:
		return dotQ8_0(row, act, nb)
	case Q2_K:
		return dotQ2K(row, act, nb)
	case Q3_K:
		return dotQ3K(row, act, nb)
	case Q4_K:
		return dotQ4K(row, act, nb)
	case Q5_K:
		return dotQ5K(row, act, nb)
	case Q6_K:
		return dotQ6K(row, act, nb)
	}
	panic("unreachable")
}

// dotF32 is ggml_vec_dot_f32's scalar loop: float32 products summed in float64.
func dotF32(x, y []byte, n int) float32 {
	x, y = x[:4*n], y[:4*n]
	var sum float64
	for i := 0; i < 4*n; i += 4 {
		a := math.Float32frombits(le.Uint32(x[i:]))
		b := math.Float32frombits(le.Uint32(y[i:]))
		sum += float64(float32(a * b))
	}
	return float32(sum)
}

// dotF16 is ggml_vec_dot_f16's scalar loop: each product of two halves is exact in float32;
// the products are summed in float64.
func dotF16(x, y []byte, n int) float32 {
	x, y = x[:2*n], y[:2*n]
	var sum float64
	for i := 0; i < 2*n; i += 2 {
		sum += float64(float32(F16ToF32(le.Uint16(x[i:])) * F16ToF32(le.Uint16(y[i:]))))
	}
	return float32(sum)
}

// dotBF16 is ggml_vec_dot_bf16's scalar loop, as dotF16 with bfloat16 operands.
func dotBF16(x, y []byte, n int) float32 {
	x, y = x[:2*n], y[:2*n]
	var sum float64
	for i := 0; i < 2*n; i += 2 {
		sum += float64(float32(BF16ToF32(le.Uint16(x[i:])) * BF16ToF32(le.Uint16(y[i:]))))
	}
	return float32(sum)
}
