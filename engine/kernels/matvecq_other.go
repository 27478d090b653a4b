//go:build !(goexperiment.simd && amd64)

package kernels

// Without AVX2 the fused quantized products run their plain-Go versions.

func matVecQ8_0LanesSIMD(dst []float32, w []byte, x []float32) int { return 0 }
func matVecQ4_0LanesSIMD(dst []float32, w []byte, x []float32) int { return 0 }
