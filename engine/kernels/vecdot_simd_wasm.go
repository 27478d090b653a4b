//go:build goexperiment.simd

package kernels

import "simd/archsimd"

// WebAssembly's 128-bit SIMD has no fused multiply-add, so the float kernels, whose summation
// orders are chains of fused multiply-adds, stay in plain Go there. The integer block sums of
// the quantized dot products and the dequantizations need none and run on v128 lanes: byte
// products widened to 16 bits (at most 128·128, which fits), then to 32 bits and added.

// simdLevel: no float kernels on vectors here.
var simdLevel = simdNone

// quantSIMD: the integer kernels below are used.
var quantSIMD = true

func dotLanesSIMD(a, b []float32) float32                        { return dotLanesPlain(a, b) }
func dotBlockedSIMD(a, b []float32) float32                      { return dotBlockedPlain(a, b) }
func softmaxChunksSIMD(x []float32, n int, maxv float32) float64 { panic("kernels: no SIMD") }
func scaleSIMD(x []float32, s float32) int                       { return 0 }
func matVecLanesSIMD(dst, w, x []float32) int                    { return 0 }

// The widenings the 128-bit quantized kernels (quant_v128.go) are written with.

// mulWiden returns the products of the low and of the high eight signed bytes of x and y.
func mulWiden(x, y archsimd.Int8x16) (lo, hi archsimd.Int16x8) {
	return x.MulWidenLo(y), x.MulWidenHi(y)
}

// widen8 returns the low and the high eight signed bytes of q as 16-bit values.
func widen8(q archsimd.Int8x16) (lo, hi archsimd.Int16x8) {
	return q.ExtendLo8ToInt16(), q.ExtendHi8ToInt16()
}

// widen16 returns the low and the high four 16-bit values of h as 32-bit values.
func widen16(h archsimd.Int16x8) (lo, hi archsimd.Int32x4) {
	return h.ExtendLo4ToInt32(), h.ExtendHi4ToInt32()
}
