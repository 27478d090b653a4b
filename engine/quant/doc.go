// Package quant defines ggml's tensor element types and block layouts (F32, F16, BF16, Q8_0,
// Q4_0, Q4_1, Q5_0, Q5_1, and the K-quants Q2_K … Q6_K), bit-compatible with ggml, with plain-Go
// dequantization, quantization and reference dot products.
//
// Imports: the standard library only.
package quant
