// Package kernels holds the numerical inner loops of the engine: normalizations, softmax,
// positional rotations, activations, dot products, quantized products and attention rows.
// Every kernel writes into a caller-provided destination and allocates nothing (Pack, which
// rearranges a matrix once when it is loaded, returns a new one); lengths that do not match
// panic with a "kernels: ..." message.
//
// Each kernel has a plain-Go version, the reference. Where the simd experiment is built in
// (GOEXPERIMENT=simd), files named *_simd.go add vector versions, chosen at run time from the
// CPU's features (SIMD reports which): on amd64 AVX2 or AVX-512 for the dot products,
// MatVecLanes, MatMulLanes, the packed Q8_0/Q4_0 products (VecDotRowsPacked with quantized
// activations, VecDotRowsPackedTile for sixteen inputs at a time (Q4_0), MatVecQLanesPacked in
// float32; see Pack), the attention row and four prompt rows at once (AttentionRows),
// SoftmaxChunked, SwiGLU, QuantizeQ8_0Activations, VecDot and Dequantize; on arm64 NEON for
// the dot products, MatVecLanes, VecDot and Dequantize (Q8_0, Q4_0); on WebAssembly SIMD128 for VecDot, Dequantize,
// VecDotRowsPacked (and its tile, Q8_0) and, with two roundings instead of fused multiply-adds
// (WebAssembly has none; see unfused), the float lane loops and attention (AttentionRows too).
// They compute the same operations in the same order and return the same bits as the plain
// versions of the same build, which differential and fuzz tests check.
// Files named *_plain.go or *_other.go stand in for them in other builds.
//
// Imports: the standard library (simd/archsimd in *_simd.go) and engine/quant.
package kernels
