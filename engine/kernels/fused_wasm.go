//go:build wasm

package kernels

// unfused makes the float kernels' lane loops multiply and add in two roundings on WebAssembly,
// which has no fused multiply-add: emulating each fused step exactly (in float64 with a check
// for double rounding) cost about ten times the work there. Browser results therefore differ
// from native ones in the last bits (the page's trace is checked against the native engine's
// within 1e-5); native builds keep llama.cpp's fused orders exactly.
const unfused = true

// siluExp is SiLU's exponential: expUnfused here (the fused steps of ExpApprox emulated exactly
// cost about ten times as much), so the browser's SiLU differs from the native one in the last
// bits, as its lane loops do.
func siluExp(x float32) float32 { return expUnfused(x) }

// softmaxExp is SoftmaxChunked's exponential: expUnfused here, as siluExp.
func softmaxExp(x float32) float32 { return expUnfused(x) }
