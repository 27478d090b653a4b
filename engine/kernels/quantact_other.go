//go:build !(goexperiment.simd && (amd64 || arm64 || wasm))

package kernels

// Without the simd experiment (or on another architecture), activations are quantized by the
// plain code.

// quantActKernel says that QuantizeQ8_0Activations has a vector version in this build.
const quantActKernel = false

func quantizeQ8_0ActSIMD(dst []byte, x []float32) { quantizeQ8_0ActPlain(dst, x) }
