//go:build goexperiment.simd

package kernels

import "simd/archsimd"

// The widenings the 128-bit quantized kernels (quant_v128.go) are written with, on NEON: the
// high halves are moved down first (NEON's widening instructions take the low half).

// mulWiden returns the products of the low and of the high eight signed bytes of x and y.
func mulWiden(x, y archsimd.Int8x16) (lo, hi archsimd.Int16x8) {
	return x.MulWidenLo(y), x.HiToLo().MulWidenLo(y.HiToLo())
}

// widen8 returns the low and the high eight signed bytes of q as 16-bit values.
func widen8(q archsimd.Int8x16) (lo, hi archsimd.Int16x8) {
	return q.ExtendLo8ToInt16(), q.HiToLo().ExtendLo8ToInt16()
}

// widen16 returns the low and the high four 16-bit values of h as 32-bit values.
func widen16(h archsimd.Int16x8) (lo, hi archsimd.Int32x4) {
	return h.ExtendLo4ToInt32(), h.HiToLo().ExtendLo4ToInt32()
}

// lowBytes packs the low bytes of the sixteen int32 lanes of a, b, c and d in order: the low
// halves of the lanes (even int16 elements), then their low bytes (even bytes).
func lowBytes(a, b, c, d archsimd.Int32x4) archsimd.Uint8x16 {
	ab := a.ToBits().ReshapeToUint16s().ConcatEven(b.ToBits().ReshapeToUint16s())
	cd := c.ToBits().ReshapeToUint16s().ConcatEven(d.ToBits().ReshapeToUint16s())
	return ab.ReshapeToUint8s().ConcatEven(cd.ReshapeToUint8s())
}
