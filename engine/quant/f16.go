package quant

import "math"

// F16ToF32 widens an IEEE 754 binary16 value to float32. Every half value is exact in float32,
// subnormals included. A NaN keeps its sign and payload and comes back quiet, as x86 F16C
// (VCVTPH2PS) and ARM FCVT return it.
func F16ToF32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h & 0x3ff)
	switch exp {
	case 0:
		// Zero or subnormal: mant·2⁻²⁴, exact in float32.
		v := float32(mant) * (1.0 / (1 << 24))
		return math.Float32frombits(sign | math.Float32bits(v))
	case 0x1f:
		if mant == 0 {
			return math.Float32frombits(sign | 0x7f800000)
		}
		return math.Float32frombits(sign | 0x7fc00000 | mant<<13)
	}
	return math.Float32frombits(sign | (exp+(127-15))<<23 | mant<<13)
}

// F32ToF16 narrows a float32 to binary16, rounding to nearest with ties to even, exactly as
// F16C's VCVTPS2PH with rounding mode 0 (ggml's GGML_FP32_TO_FP16): magnitudes from 65520 up
// become infinity, results below 2⁻¹⁴ become subnormal halves, and magnitudes at or below 2⁻²⁵
// become a signed zero. A NaN keeps its sign and the top ten bits of its significand, with the
// quiet bit set.
func F32ToF16(f float32) uint16 {
	bits := math.Float32bits(f)
	sign := uint16(bits>>16) & 0x8000
	exp := int(bits>>23) & 0xff
	mant := bits & 0x7fffff
	switch {
	case exp == 0xff:
		if mant != 0 {
			return sign | 0x7e00 | uint16(mant>>13)
		}
		return sign | 0x7c00
	case exp >= 127+16:
		return sign | 0x7c00
	case exp >= 127-14:
		// Normal half. Rounding may carry into the exponent, up to infinity, which is right.
		h := uint32(exp-(127-15))<<10 | mant>>13
		return sign | uint16(roundShifted(h, mant, 13))
	case exp >= 127-25:
		// Subnormal half: k·2⁻²⁴ with k = m·2^(exp-126), m the 24-bit significand. The top
		// case rounds up into the smallest normal half, which is right.
		m := mant | 0x800000
		shift := uint(126 - exp)
		return sign | uint16(roundShifted(m>>shift, m, shift))
	}
	return sign
}

// roundShifted rounds h = m>>shift to nearest even, looking at the bits of m shifted out.
func roundShifted(h, m uint32, shift uint) uint32 {
	rem := m & (1<<shift - 1)
	half := uint32(1) << (shift - 1)
	if rem > half || rem == half && h&1 == 1 {
		h++
	}
	return h
}

// BF16ToF32 widens a bfloat16 value to float32 (the value is the top half of a float32).
func BF16ToF32(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

// F32ToBF16 narrows a float32 to bfloat16 as ggml does (GGML_FP32_TO_BF16): round to nearest
// with ties to even, subnormals kept (not flushed), overflow to infinity, and a NaN truncated
// to its top half with the quiet bit set.
func F32ToBF16(f float32) uint16 {
	u := math.Float32bits(f)
	if u&0x7fffffff > 0x7f800000 {
		return uint16(u>>16) | 0x40
	}
	return uint16((u + 0x7fff + (u>>16)&1) >> 16)
}
