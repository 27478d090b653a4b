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

// lowByteIndex[k] moves the low bytes of an int32 vector's four lanes to bytes 4k…4k+3 (the
// other bytes zero: indices past 15 select zero).
var lowByteIndex = [4][16]int8{
	{0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1},
	{-1, -1, -1, -1, 0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1},
	{-1, -1, -1, -1, -1, -1, -1, -1, 0, 4, 8, 12, -1, -1, -1, -1},
	{-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 4, 8, 12},
}

// lowBytes packs the low bytes of the sixteen int32 lanes of a, b, c and d in order (one
// swizzle each, then ors).
func lowBytes(a, b, c, d archsimd.Int32x4) archsimd.Uint8x16 {
	pa := a.ToBits().ReshapeToUint8s().BitsToInt8().LookupOrZero(archsimd.LoadInt8x16Array(&lowByteIndex[0]))
	pb := b.ToBits().ReshapeToUint8s().BitsToInt8().LookupOrZero(archsimd.LoadInt8x16Array(&lowByteIndex[1]))
	pc := c.ToBits().ReshapeToUint8s().BitsToInt8().LookupOrZero(archsimd.LoadInt8x16Array(&lowByteIndex[2]))
	pd := d.ToBits().ReshapeToUint8s().BitsToInt8().LookupOrZero(archsimd.LoadInt8x16Array(&lowByteIndex[3]))
	return pa.Or(pb).Or(pc.Or(pd)).ToBits()
}
