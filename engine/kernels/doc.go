// Package kernels holds the numerical inner loops of the engine: normalizations, softmax,
// positional rotations, activations, dot products and attention rows. Every function writes
// into a caller-provided destination and allocates nothing; lengths that do not match panic
// with a "kernels: ..." message.
//
// Each kernel has a plain-Go version, the reference. Where the simd experiment is built in
// (GOEXPERIMENT=simd), files named *_simd.go add vector versions, chosen at run time from the
// CPU's features (SIMD reports which): on amd64 AVX2 or AVX-512 for the dot products,
// MatVecLanes, MatMulLanes, MatVecQLanes (quantized rows decoded inside the float32 product),
// the attention row, SoftmaxChunked, VecDot, VecDotRows and Dequantize; on arm64 NEON for
// the dot products and MatVecLanes; on WebAssembly SIMD128 for VecDot and Dequantize only
// (it has no fused multiply-add, which the float kernels' orders need). They compute the same
// operations in the same order and return the same bits, which differential and fuzz tests
// check. Files named *_plain.go stand in for them in other builds.
//
// Imports: the standard library (simd/archsimd in *_simd.go) and engine/quant.
package kernels
