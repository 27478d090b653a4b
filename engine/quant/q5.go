package quant

// Q5_0 and Q5_1: 32 weights per block, 5 bits each (four in Qs, the fifth in Qh).

const (
	q5_0Bytes = 2 + 4 + QK/2
	q5_1Bytes = 4 + 4 + QK/2
)

// fives returns the 5-bit values of elements j and j+16 of a Q5 block.
func fives(qs uint8, qh uint32, j int) (int32, int32) {
	h0 := (qh >> j << 4) & 0x10
	h1 := (qh >> (j + 12)) & 0x10
	return int32(uint32(qs&0x0f) | h0), int32(uint32(qs>>4) | h1)
}

// packFives stores the 5-bit values q0, q1 of elements j and j+16 into qs and qh.
func packFives(qs *uint8, qh *uint32, j int, q0, q1 uint8) {
	*qs = q0&0x0f | (q1&0x0f)<<4
	*qh |= uint32(q0&0x10)>>4<<j | uint32(q1&0x10)>>4<<(j+QK/2)
}

// Dequantize writes the block's 32 weights: dst[j] = float32(q_j−16)·d (ggml's
// dequantize_row_q5_0).
func (b *BlockQ5_0) Dequantize(dst *[QK]float32) {
	d := F16ToF32(b.D)
	qh := le.Uint32(b.Qh[:])
	for j, q := range b.Qs {
		x0, x1 := fives(q, qh, j)
		dst[j] = float32(x0-16) * d
		dst[j+QK/2] = float32(x1-16) * d
	}
}

// Quantize fills the block from 32 values with ggml's quantize_row_q5_0_ref: m is the value of
// largest magnitude (sign kept), d = m/−16, id = 1/d (0 if d is 0),
// q = min(31, trunc(x·id + 16.5)), and b.D = F32ToF16(d).
func (b *BlockQ5_0) Quantize(src *[QK]float32) {
	maxv, _ := absMax(src[:])
	d := maxv / -16
	id := inverse(d)
	b.D = F32ToF16(d)
	var qh uint32
	for j := range b.Qs {
		x0 := float32(src[j] * id)
		x1 := float32(src[j+QK/2] * id)
		q0 := min(31, int32(int8(truncInt(x0+16.5))))
		q1 := min(31, int32(int8(truncInt(x1+16.5))))
		packFives(&b.Qs[j], &qh, j, uint8(q0), uint8(q1))
	}
	le.PutUint32(b.Qh[:], qh)
}

// Dequantize writes the block's 32 weights: dst[j] = float32(q_j)·d + m (ggml's
// dequantize_row_q5_1; the product is rounded before the sum).
func (b *BlockQ5_1) Dequantize(dst *[QK]float32) {
	d, m := F16ToF32(b.D), F16ToF32(b.M)
	qh := le.Uint32(b.Qh[:])
	for j, q := range b.Qs {
		x0, x1 := fives(q, qh, j)
		dst[j] = float32(float32(x0)*d) + m
		dst[j+QK/2] = float32(float32(x1)*d) + m
	}
}

// Quantize fills the block from 32 values with ggml's quantize_row_q5_1_ref: d = (max−min)/31,
// id = 1/d (0 if d is 0), q = uint8(trunc((x−min)·id + 0.5)) (ggml clamps nothing here; the
// value never exceeds 31 for finite input), b.D = F32ToF16(d), b.M = F32ToF16(min).
func (b *BlockQ5_1) Quantize(src *[QK]float32) {
	lo, hi := minMax(src[:])
	d := (hi - lo) / 31
	id := inverse(d)
	b.D, b.M = F32ToF16(d), F32ToF16(lo)
	var qh uint32
	for j := range b.Qs {
		x0 := float32((src[j] - lo) * id)
		x1 := float32((src[j+QK/2] - lo) * id)
		q0 := uint8(truncInt(x0 + 0.5))
		q1 := uint8(truncInt(x1 + 0.5))
		packFives(&b.Qs[j], &qh, j, q0, q1)
	}
	le.PutUint32(b.Qh[:], qh)
}

// DequantizeQ5_0 decodes Q5_0 blocks: len(dst) must be a multiple of 32 and len(src) 22 bytes
// per 32 values.
func DequantizeQ5_0(dst []float32, src []byte) {
	checkRow("DequantizeQ5_0", Q5_0, len(dst), len(src))
	var b BlockQ5_0
	for i := 0; i < len(dst)/QK; i++ {
		b.Load(src[i*q5_0Bytes:])
		b.Dequantize((*[QK]float32)(dst[i*QK:]))
	}
}

// QuantizeQ5_0 encodes src as Q5_0 blocks (BlockQ5_0.Quantize): len(src) must be a multiple
// of 32 and len(dst) 22 bytes per 32 values.
func QuantizeQ5_0(dst []byte, src []float32) {
	checkRow("QuantizeQ5_0", Q5_0, len(src), len(dst))
	var b BlockQ5_0
	for i := 0; i < len(src)/QK; i++ {
		b.Quantize((*[QK]float32)(src[i*QK:]))
		b.Store(dst[i*q5_0Bytes:])
	}
}

// DequantizeQ5_1 decodes Q5_1 blocks: len(dst) must be a multiple of 32 and len(src) 24 bytes
// per 32 values.
func DequantizeQ5_1(dst []float32, src []byte) {
	checkRow("DequantizeQ5_1", Q5_1, len(dst), len(src))
	var b BlockQ5_1
	for i := 0; i < len(dst)/QK; i++ {
		b.Load(src[i*q5_1Bytes:])
		b.Dequantize((*[QK]float32)(dst[i*QK:]))
	}
}

// QuantizeQ5_1 encodes src as Q5_1 blocks (BlockQ5_1.Quantize): len(src) must be a multiple
// of 32 and len(dst) 24 bytes per 32 values.
func QuantizeQ5_1(dst []byte, src []float32) {
	checkRow("QuantizeQ5_1", Q5_1, len(src), len(dst))
	var b BlockQ5_1
	for i := 0; i < len(src)/QK; i++ {
		b.Quantize((*[QK]float32)(src[i*QK:]))
		b.Store(dst[i*q5_1Bytes:])
	}
}
