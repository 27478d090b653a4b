//go:build !(goexperiment.simd && (amd64 || arm64))

package kernels

// siluSIMD is never called without the vectors (simdLevel is not AVX2, AVX-512 or NEON here).
func siluSIMD(x, up []float32) int { panic("kernels: no SIMD") }
