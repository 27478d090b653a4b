//go:build !(goexperiment.simd && amd64)

package kernels

// siluSIMD is never called without the vectors (simdLevel is not AVX2 or AVX-512 here).
func siluSIMD(x, up []float32) int { panic("kernels: no SIMD") }
