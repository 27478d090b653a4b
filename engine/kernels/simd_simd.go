//go:build goexperiment.simd && amd64

package kernels

import "simd/archsimd"

// simdLevel is the vector instruction set the kernels use, chosen from the CPU's features.
var simdLevel = detectSIMD()

// quantSIMD says whether the quantized kernels (VecDot, Dequantize) use vectors.
var quantSIMD = simdLevel != simdNone

func detectSIMD() int {
	switch {
	case archsimd.X86.AVX512() && archsimd.X86.FMA():
		return simdAVX512
	case archsimd.X86.AVX2() && archsimd.X86.FMA():
		return simdAVX2
	}
	return simdNone
}
