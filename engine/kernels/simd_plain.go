//go:build !(goexperiment.simd && amd64)

package kernels

// Without the simd experiment (or off amd64) every kernel runs its plain-Go version.
var simdLevel = simdNone

func dotLanesSIMD(a, b []float32) float32   { return dotLanesPlain(a, b) }
func dotBlockedSIMD(a, b []float32) float32 { return dotBlockedPlain(a, b) }

func attnValuesSIMD(out, p, v []float32, stride, off int) int { return 0 }

func vecDotQ8_0SIMD(row, act []byte, nb int) float32 { panic("kernels: no SIMD") }
func vecDotQ4_0SIMD(row, act []byte, nb int) float32 { panic("kernels: no SIMD") }
