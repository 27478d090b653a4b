package quant

// Q4_0 and Q4_1: 32 weights per block, 4 bits each.

const (
	q4_0Bytes = 2 + QK/2
	q4_1Bytes = 4 + QK/2
)

// Dequantize writes the block's 32 weights: dst[j] = float32(q_j−8)·d with d = F16ToF32(b.D)
// (ggml's dequantize_row_q4_0).
func (b *BlockQ4_0) Dequantize(dst *[QK]float32) {
	d := F16ToF32(b.D)
	for j, q := range b.Qs {
		dst[j] = float32(int32(q&0x0f)-8) * d
		dst[j+QK/2] = float32(int32(q>>4)-8) * d
	}
}

// Quantize fills the block from 32 values with ggml's quantize_row_q4_0_ref: m is the value of
// largest magnitude (sign kept), d = m/−8, id = 1/d (0 if d is 0), q = min(15, trunc(x·id + 8.5)),
// and b.D = F32ToF16(d).
func (b *BlockQ4_0) Quantize(src *[QK]float32) {
	maxv, _ := absMax(src[:])
	d := maxv / -8
	id := inverse(d)
	b.D = F32ToF16(d)
	for j := range b.Qs {
		x0 := float32(src[j] * id)
		x1 := float32(src[j+QK/2] * id)
		q0 := min(15, int32(int8(truncInt(x0+8.5))))
		q1 := min(15, int32(int8(truncInt(x1+8.5))))
		b.Qs[j] = uint8(q0) | uint8(q1)<<4
	}
}

// Dequantize writes the block's 32 weights: dst[j] = float32(q_j)·d + m with d, m the block's
// scale and minimum (ggml's dequantize_row_q4_1; the product is rounded before the sum).
func (b *BlockQ4_1) Dequantize(dst *[QK]float32) {
	d, m := F16ToF32(b.D), F16ToF32(b.M)
	for j, q := range b.Qs {
		dst[j] = float32(float32(q&0x0f)*d) + m
		dst[j+QK/2] = float32(float32(q>>4)*d) + m
	}
}

// Quantize fills the block from 32 values with ggml's quantize_row_q4_1_ref: d = (max−min)/15,
// id = 1/d (0 if d is 0), q = min(15, trunc((x−min)·id + 0.5)), b.D = F32ToF16(d),
// b.M = F32ToF16(min).
func (b *BlockQ4_1) Quantize(src *[QK]float32) {
	lo, hi := minMax(src[:])
	d := (hi - lo) / 15
	id := inverse(d)
	b.D, b.M = F32ToF16(d), F32ToF16(lo)
	for j := range b.Qs {
		x0 := float32((src[j] - lo) * id)
		x1 := float32((src[j+QK/2] - lo) * id)
		q0 := min(15, int32(int8(truncInt(x0+0.5))))
		q1 := min(15, int32(int8(truncInt(x1+0.5))))
		b.Qs[j] = uint8(q0) | uint8(q1)<<4
	}
}

// DequantizeQ4_0 decodes Q4_0 blocks: len(dst) must be a multiple of 32 and len(src) 18 bytes
// per 32 values.
func DequantizeQ4_0(dst []float32, src []byte) {
	checkRow("DequantizeQ4_0", Q4_0, len(dst), len(src))
	var b BlockQ4_0
	for i := 0; i < len(dst)/QK; i++ {
		b.Load(src[i*q4_0Bytes:])
		b.Dequantize((*[QK]float32)(dst[i*QK:]))
	}
}

// QuantizeQ4_0 encodes src as Q4_0 blocks (BlockQ4_0.Quantize): len(src) must be a multiple
// of 32 and len(dst) 18 bytes per 32 values.
func QuantizeQ4_0(dst []byte, src []float32) {
	checkRow("QuantizeQ4_0", Q4_0, len(src), len(dst))
	var b BlockQ4_0
	for i := 0; i < len(src)/QK; i++ {
		b.Quantize((*[QK]float32)(src[i*QK:]))
		b.Store(dst[i*q4_0Bytes:])
	}
}

// DequantizeQ4_1 decodes Q4_1 blocks: len(dst) must be a multiple of 32 and len(src) 20 bytes
// per 32 values.
func DequantizeQ4_1(dst []float32, src []byte) {
	checkRow("DequantizeQ4_1", Q4_1, len(dst), len(src))
	var b BlockQ4_1
	for i := 0; i < len(dst)/QK; i++ {
		b.Load(src[i*q4_1Bytes:])
		b.Dequantize((*[QK]float32)(dst[i*QK:]))
	}
}

// QuantizeQ4_1 encodes src as Q4_1 blocks (BlockQ4_1.Quantize): len(src) must be a multiple
// of 32 and len(dst) 20 bytes per 32 values.
func QuantizeQ4_1(dst []byte, src []float32) {
	checkRow("QuantizeQ4_1", Q4_1, len(src), len(dst))
	var b BlockQ4_1
	for i := 0; i < len(src)/QK; i++ {
		b.Quantize((*[QK]float32)(src[i*QK:]))
		b.Store(dst[i*q4_1Bytes:])
	}
}
