package quant

// Q8_0, Q8_1 and Q8_K: 8-bit values, 32 per block (Q8_0, Q8_1) or 256 (Q8_K). Q8_1 and Q8_K
// are the formats ggml quantizes activations to for its integer dot products.

const (
	q8_0Bytes = 2 + QK
	q8_1Bytes = 4 + QK
	q8KBytes  = 4 + QKK + QKK/16*2
)

// Dequantize writes the block's 32 weights: dst[j] = float32(q_j)·d (ggml's dequantize_row_q8_0).
func (b *BlockQ8_0) Dequantize(dst *[QK]float32) {
	d := F16ToF32(b.D)
	for j, q := range b.Qs {
		dst[j] = float32(q) * d
	}
}

// Quantize fills the block from 32 values with ggml's quantize_row_q8_0_ref: d = max|x|/127,
// id = 1/d (0 if d is 0), q = roundf(x·id) (ties away from zero), b.D = F32ToF16(d).
func (b *BlockQ8_0) Quantize(src *[QK]float32) {
	amax := absMaxQ8(src[:])
	d := amax / 127
	id := inverse(d)
	b.D = F32ToF16(d)
	for j, x := range src {
		b.Qs[j] = int8(roundAway(float32(x * id)))
	}
}

// Quantize fills the block from 32 values with ggml's quantize_row_q8_1_ref: the values as in
// BlockQ8_0.Quantize, and b.S = F32ToF16(float32(Σq)·d).
func (b *BlockQ8_1) Quantize(src *[QK]float32) {
	amax := absMaxQ8(src[:])
	d := amax / 127
	id := inverse(d)
	b.D = F32ToF16(d)
	var sum int32
	for j, x := range src {
		q := int8(roundAway(float32(x * id)))
		b.Qs[j] = q
		sum += int32(q)
	}
	b.S = F32ToF16(float32(sum) * d)
}

// Dequantize writes the block's 32 values: dst[j] = float32(q_j)·d.
func (b *BlockQ8_1) Dequantize(dst *[QK]float32) {
	d := F16ToF32(b.D)
	for j, q := range b.Qs {
		dst[j] = float32(q) * d
	}
}

// absMaxQ8 is ggml's `amax = MAX(amax, fabsf(v))` loop, MAX(a, b) being a > b ? a : b: a NaN
// replaces amax, and the next value replaces the NaN.
func absMaxQ8(x []float32) float32 {
	var amax float32
	for _, v := range x {
		if a := abs32(v); !(amax > a) {
			amax = a
		}
	}
	return amax
}

// Dequantize writes the super-block's 256 values: dst[j] = b.D·float32(q_j) (ggml's
// dequantize_row_q8_K).
func (b *BlockQ8K) Dequantize(dst *[QKK]float32) {
	for j, q := range b.Qs {
		dst[j] = b.D * float32(q)
	}
}

// Quantize fills the super-block from 256 values with ggml's quantize_row_q8_K_ref: m is the
// value of largest magnitude (sign kept), iscale = −127/m, q = min(127, nearest_int(iscale·x))
// (ties to even), BSums the sums of each 16 q, and D = 1/iscale. An all-zero input gives D = 0
// and all q and BSums zero (ggml leaves BSums as they were in that case).
func (b *BlockQ8K) Quantize(src *[QKK]float32) {
	maxv, amax := absMax(src[:])
	if amax == 0 {
		*b = BlockQ8K{}
		return
	}
	iscale := -127 / maxv
	for j, x := range src {
		b.Qs[j] = int8(min(127, nearestInt(float32(iscale*x))))
	}
	for g := range b.BSums {
		var s int32
		for _, q := range b.Qs[16*g : 16*g+16] {
			s += int32(q)
		}
		b.BSums[g] = int16(s)
	}
	b.D = 1 / iscale
}

// DequantizeQ8_0 decodes Q8_0 blocks: len(dst) must be a multiple of 32 and len(src) 34 bytes
// per 32 values.
func DequantizeQ8_0(dst []float32, src []byte) {
	checkRow("DequantizeQ8_0", Q8_0, len(dst), len(src))
	var b BlockQ8_0
	for i := 0; i < len(dst)/QK; i++ {
		b.Load(src[i*q8_0Bytes:])
		b.Dequantize((*[QK]float32)(dst[i*QK:]))
	}
}

// QuantizeQ8_0 encodes src as Q8_0 blocks (BlockQ8_0.Quantize): len(src) must be a multiple
// of 32 and len(dst) 34 bytes per 32 values.
func QuantizeQ8_0(dst []byte, src []float32) {
	checkRow("QuantizeQ8_0", Q8_0, len(src), len(dst))
	var b BlockQ8_0
	for i := 0; i < len(src)/QK; i++ {
		b.Quantize((*[QK]float32)(src[i*QK:]))
		b.Store(dst[i*q8_0Bytes:])
	}
}

// DequantizeQ8_1 decodes Q8_1 blocks (the sums are not needed): len(dst) must be a multiple of
// 32 and len(src) 36 bytes per 32 values.
func DequantizeQ8_1(dst []float32, src []byte) {
	checkRow("DequantizeQ8_1", Q8_1, len(dst), len(src))
	var b BlockQ8_1
	for i := 0; i < len(dst)/QK; i++ {
		b.Load(src[i*q8_1Bytes:])
		b.Dequantize((*[QK]float32)(dst[i*QK:]))
	}
}

// QuantizeQ8_1 encodes src as Q8_1 blocks (BlockQ8_1.Quantize): len(src) must be a multiple
// of 32 and len(dst) 36 bytes per 32 values.
func QuantizeQ8_1(dst []byte, src []float32) {
	checkRow("QuantizeQ8_1", Q8_1, len(src), len(dst))
	var b BlockQ8_1
	for i := 0; i < len(src)/QK; i++ {
		b.Quantize((*[QK]float32)(src[i*QK:]))
		b.Store(dst[i*q8_1Bytes:])
	}
}

// DequantizeQ8K decodes Q8_K super-blocks: len(dst) must be a multiple of 256 and len(src)
// 292 bytes per 256 values.
func DequantizeQ8K(dst []float32, src []byte) {
	checkRow("DequantizeQ8K", Q8_K, len(dst), len(src))
	var b BlockQ8K
	for i := 0; i < len(dst)/QKK; i++ {
		b.Load(src[i*q8KBytes:])
		b.Dequantize((*[QKK]float32)(dst[i*QKK:]))
	}
}

// QuantizeQ8K encodes src as Q8_K super-blocks (BlockQ8K.Quantize): len(src) must be a
// multiple of 256 and len(dst) 292 bytes per 256 values.
func QuantizeQ8K(dst []byte, src []float32) {
	checkRow("QuantizeQ8K", Q8_K, len(src), len(dst))
	var b BlockQ8K
	for i := 0; i < len(src)/QKK; i++ {
		b.Quantize((*[QKK]float32)(src[i*QKK:]))
		b.Store(dst[i*q8KBytes:])
	}
}
