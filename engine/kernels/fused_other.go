//go:build !wasm

package kernels

// unfused is false natively: every lane step is a correctly rounded fused multiply-add, as in
// llama.cpp's CPU kernels (see fused_wasm.go for the browser).
const unfused = false

// siluExp is SiLU's exponential: ExpApprox, llama.cpp's.
func siluExp(x float32) float32 { return ExpApprox(x) }

// softmaxExp is SoftmaxChunked's exponential: ExpApprox, llama.cpp's.
func softmaxExp(x float32) float32 { return ExpApprox(x) }
