//go:build !(goexperiment.simd && (amd64 || wasm))

package kernels

// Without AVX2 or v128 float kernels Argmax scans (argmaxPlain); these are never called.

func maxSIMD(x []float32) float32                      { panic("kernels: no SIMD") }
func firstEqualSIMD(x []float32, m float32) (int, int) { panic("kernels: no SIMD") }
