//go:build !(goexperiment.simd && (amd64 || wasm || arm64))

package kernels

import "github.com/attnscope/attnscope/engine/quant"

// Without the simd experiment (or on other architectures) every kernel runs its plain-Go
// version.
var simdLevel = simdNone

var quantSIMD = false

func dotLanesSIMD(a, b []float32) float32   { return dotLanesPlain(a, b) }
func dotBlockedSIMD(a, b []float32) float32 { return dotBlockedPlain(a, b) }

func attnValuesSIMD(out, p, v []float32, stride, off int) int { return 0 }

func vecDotQ8_0SIMD(row, act []byte, nb int) float32 { panic("kernels: no SIMD") }
func vecDotQ4_0SIMD(row, act []byte, nb int) float32 { panic("kernels: no SIMD") }

func attnScoresSIMD(p, q, k []float32, stride, off int, scale float32) int { return 0 }

func softmaxChunksSIMD(x []float32, n int, maxv float32) float64 { panic("kernels: no SIMD") }
func scaleSIMD(x []float32, s float32) int                       { return 0 }

func dequantQ8_0SIMD(dst []float32, src []byte, nb int) { panic("kernels: no SIMD") }
func dequantQ4_0SIMD(dst []float32, src []byte, nb int) { panic("kernels: no SIMD") }
func halvesSIMD(dst []float32, src []byte, bf bool) int { return 0 }
func kquantsSIMD(t quant.Type) bool                     { return false }

func dequantKSIMD(t quant.Type, dst []float32, src []byte, nb int) { panic("kernels: no SIMD") }

func matVecLanesSIMD(dst, w, x []float32) int { return 0 }

func halfScoresSIMD(p, q []float32, k []uint16, stride, off int, scale float32) bool {
	panic("kernels: no vector kernels here")
}

func halfValuesSIMD(out, p []float32, v []uint16, stride, off int) {
	panic("kernels: no vector kernels here")
}

func widenHalvesSIMD(dst []float32, src []uint16) int { return 0 }

func legacySIMD(t quant.Type) bool { return false }

func dequantLegacySIMD(t quant.Type, dst []float32, src []byte, nb int) { panic("kernels: no SIMD") }
