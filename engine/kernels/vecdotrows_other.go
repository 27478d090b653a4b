//go:build !(goexperiment.simd && amd64)

package kernels

// Without AVX2 VecDotRows runs VecDot row by row.

func vecDotRowsQ8_0SIMD(dst []float32, w, act []byte, nb int) int { return 0 }
func vecDotRowsQ4_0SIMD(dst []float32, w, act []byte, nb int) int { return 0 }
