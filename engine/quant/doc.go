// Package quant defines ggml's tensor element types and block layouts (F32, F16, BF16, Q8_0,
// Q4_0, Q4_1, Q5_0, Q5_1, the K-quants Q2_K … Q6_K, and the activation formats Q8_1 and Q8_K),
// bit-compatible with ggml, with plain-Go dequantization, quantization and reference dot
// products.
//
//   - Scalars: F16ToF32, F32ToF16, BF16ToF32, F32ToBF16 round exactly as ggml (F16C) does.
//   - Layouts: one struct per block (BlockQ4_0 … BlockQ8K) with Load and Store to the stored
//     bytes, and per-block Dequantize / Quantize.
//   - Rows: DequantizeXxx(dst []float32, src []byte) per type and the Dequantize dispatcher for
//     every type in Supported(); QuantizeXxx(dst []byte, src []float32) with ggml's reference
//     rounding (quantize_row_*_ref, byte-identical to ggml's files) and the Quantize dispatcher
//     for QuantizeTypes().
//   - Reference products: DotRow and MatVec dequantize block by block on the stack and sum in
//     float32 in element order; faster kernels elsewhere must agree with them.
//
// Dequantization repeats ggml's float operations in ggml's order; products that ggml rounds
// before a sum are rounded explicitly here too (float32(a*b) + c), so no platform fuses them
// into a multiply-add. Row functions allocate nothing; wrong lengths panic with a "quant: "
// message; types a dispatcher cannot handle give errors wrapping ErrUnsupported that list the
// supported ones.
//
// Imports: the standard library only.
package quant
