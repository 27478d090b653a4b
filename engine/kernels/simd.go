package kernels

// Vector instruction sets the kernels may run on (see simdLevel).
const (
	simdNone   = 0 // plain Go
	simdAVX2   = 1 // 256-bit vectors with fused multiply-add
	simdAVX512 = 2 // 512-bit vectors (AVX-512 F, CD, BW, DQ, VL)
	simdNEON   = 3 // arm64's 128-bit vectors with fused multiply-add
)

// floatLanesOn says whether the float kernels with fused multiply-adds (the softmax's and
// SiLU's exponentials) run on vectors now: AVX2, AVX-512 or NEON.
func floatLanesOn() bool {
	return simdLevel == simdAVX2 || simdLevel == simdAVX512 || simdLevel == simdNEON
}

// SIMD names the vector instruction set the kernels use on this machine: "avx512", "avx2",
// "neon" (arm64: the float32 dot and tiled products, the softmax's and SiLU's exponentials, the
// Q8_0 and Q4_0 dot products and dequantization, attention one query and four at a time),
// "simd128" (WebAssembly: the quantized kernels, VecDot and Dequantize, and the unfused float
// lane loops) or "none" (plain Go: another architecture, a CPU without AVX2 and FMA, or a build
// without the simd experiment).
func SIMD() string {
	switch simdLevel {
	case simdAVX512:
		return "avx512"
	case simdAVX2:
		return "avx2"
	case simdNEON:
		return "neon"
	}
	if quantSIMD {
		return "simd128" // WebAssembly: integer kernels and unfused float lanes (no fused multiply-add)
	}
	return "none"
}
