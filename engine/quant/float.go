package quant

import (
	"encoding/binary"
	"fmt"
	"math"
)

// checkRow panics unless dst holds a whole number of blocks of t and src is exactly their size.
// name is the calling function, for the message.
func checkRow(name string, t Type, nValues, nBytes int) {
	bs, bb := t.BlockSize(), t.BlockBytes()
	if nValues%bs != 0 {
		panic(fmt.Sprintf("quant: %s: %d values is not a multiple of the %s block size %d", name, nValues, t, bs))
	}
	if want := nValues / bs * bb; nBytes != want {
		panic(fmt.Sprintf("quant: %s: %d bytes for %d values of %s, want %d", name, nBytes, nValues, t, want))
	}
}

// DequantizeF32 decodes little-endian float32 values: dst[i] = src[4i:4i+4].
// len(src) must be 4·len(dst).
func DequantizeF32(dst []float32, src []byte) {
	checkRow("DequantizeF32", F32, len(dst), len(src))
	for i := range dst {
		dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
	}
}

// QuantizeF32 encodes float32 values little-endian. len(dst) must be 4·len(src).
func QuantizeF32(dst []byte, src []float32) {
	checkRow("QuantizeF32", F32, len(src), len(dst))
	for i, v := range src {
		binary.LittleEndian.PutUint32(dst[4*i:], math.Float32bits(v))
	}
}

// DequantizeF16 decodes little-endian binary16 values with F16ToF32. len(src) must be 2·len(dst).
func DequantizeF16(dst []float32, src []byte) {
	checkRow("DequantizeF16", F16, len(dst), len(src))
	for i := range dst {
		dst[i] = F16ToF32(binary.LittleEndian.Uint16(src[2*i:]))
	}
}

// QuantizeF16 encodes values as little-endian binary16 with F32ToF16 (ggml's
// ggml_fp32_to_fp16_row). len(dst) must be 2·len(src).
func QuantizeF16(dst []byte, src []float32) {
	checkRow("QuantizeF16", F16, len(src), len(dst))
	for i, v := range src {
		binary.LittleEndian.PutUint16(dst[2*i:], F32ToF16(v))
	}
}

// DequantizeBF16 decodes little-endian bfloat16 values with BF16ToF32. len(src) must be 2·len(dst).
func DequantizeBF16(dst []float32, src []byte) {
	checkRow("DequantizeBF16", BF16, len(dst), len(src))
	for i := range dst {
		dst[i] = BF16ToF32(binary.LittleEndian.Uint16(src[2*i:]))
	}
}

// QuantizeBF16 encodes values as little-endian bfloat16 with F32ToBF16 (ggml's
// ggml_fp32_to_bf16_row_ref). len(dst) must be 2·len(src).
func QuantizeBF16(dst []byte, src []float32) {
	checkRow("QuantizeBF16", BF16, len(src), len(dst))
	for i, v := range src {
		binary.LittleEndian.PutUint16(dst[2*i:], F32ToBF16(v))
	}
}

// abs32 is |v| by clearing the sign bit (NaN stays NaN).
func abs32(v float32) float32 { return math.Float32frombits(math.Float32bits(v) &^ (1 << 31)) }

// absMax returns the value of largest magnitude in x, sign kept, and that magnitude; the first
// one wins ties and NaNs are skipped, as in ggml's reference quantizers.
func absMax(x []float32) (maxv, amax float32) {
	for _, v := range x {
		if a := abs32(v); amax < a {
			amax, maxv = a, v
		}
	}
	return maxv, amax
}

// minMax returns the smallest and largest value of x starting from ±FLT_MAX, as ggml's Q4_1
// and Q5_1 reference quantizers do (NaNs are skipped).
func minMax(x []float32) (lo, hi float32) {
	lo, hi = math.MaxFloat32, -math.MaxFloat32
	for _, v := range x {
		if v < lo {
			lo = v
		}
		if v > hi {
			hi = v
		}
	}
	return lo, hi
}

// inverse is ggml's `d ? 1.0f/d : 0.0f` (a NaN d is true in C, so it gives NaN).
func inverse(d float32) float32 {
	if d != 0 {
		return 1 / d
	}
	return 0
}

// truncInt is C's float-to-int conversion: toward zero. Out-of-range and NaN inputs give
// whatever the platform's conversion gives (0x80000000 on x86, as in C there); they never panic.
func truncInt(f float32) int32 { return int32(f) }

// roundAway is C's roundf: nearest, ties away from zero, as an integer.
func roundAway(f float32) int32 { return int32(math.Round(float64(f))) }

// nearestInt is ggml's nearest_int: round to nearest even by adding 1.5·2²³, valid for
// |f| ≤ 4194303 (larger values give ggml's same meaningless result).
func nearestInt(f float32) int32 {
	v := f + 12582912
	return int32(math.Float32bits(v)&0x007fffff) - 0x00400000
}
