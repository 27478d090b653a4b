// Package cpu is the reference Backend: weights stay in their ggml encoding in memory and each
// product dequantizes block by block, computing in float32, in parallel over rows.
//
// Imports: engine/backend, engine/quant.
package cpu
