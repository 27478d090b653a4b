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

// dotI8x16 adds the products of 16 signed bytes of x and y into four 32-bit sums.
func dotI8x16(x, y archsimd.Int8x16) archsimd.Int32x4 {
	lo, hi := x.MulWidenLo(y), x.MulWidenHi(y)
	return lo.ExtendLo4ToInt32().Add(lo.ExtendHi4ToInt32()).Add(hi.ExtendLo4ToInt32().Add(hi.ExtendHi4ToInt32()))
}

func hsum4(v archsimd.Int32x4) int32 {
	return (v.GetElem(0) + v.GetElem(1)) + (v.GetElem(2) + v.GetElem(3))
}

func vecDotQ8_0SIMD(row, act []byte, nb int) float32 {
	var sum float32
	for i := 0; i < nb; i++ {
		x, y := row[i*q8_0Bytes:(i+1)*q8_0Bytes], act[i*q8_0Bytes:(i+1)*q8_0Bytes]
		x0, x1 := archsimd.LoadUint8x16(x[2:18]).BitsToInt8(), archsimd.LoadUint8x16(x[18:34]).BitsToInt8()
		y0, y1 := archsimd.LoadUint8x16(y[2:18]).BitsToInt8(), archsimd.LoadUint8x16(y[18:34]).BitsToInt8()
		s := hsum4(dotI8x16(x0, y0).Add(dotI8x16(x1, y1)))
		dx, dy := f16At(x), f16At(y)
		sum += float32(float32(s) * float32(dx*dy))
	}
	return sum
}

func vecDotQ4_0SIMD(row, act []byte, nb int) float32 {
	var sum float32
	mask, eight := archsimd.BroadcastUint8x16(0x0f), archsimd.BroadcastUint8x16(8)
	for i := 0; i < nb; i++ {
		x, y := row[i*q4_0Bytes:(i+1)*q4_0Bytes], act[i*q8_0Bytes:(i+1)*q8_0Bytes]
		q := archsimd.LoadUint8x16(x[2:18])
		lo := q.And(mask).Sub(eight).BitsToInt8()
		hi := q.ShiftAllRight(4).Sub(eight).BitsToInt8()
		y0, y1 := archsimd.LoadUint8x16(y[2:18]).BitsToInt8(), archsimd.LoadUint8x16(y[18:34]).BitsToInt8()
		s := hsum4(dotI8x16(lo, y0).Add(dotI8x16(hi, y1)))
		dx, dy := f16At(x), f16At(y)
		sum += float32(float32(float32(s)*dx) * dy)
	}
	return sum
}

// storeScaled writes float32(v_j)·d for the 16 signed 16-bit values of lo and hi into o.
func storeScaled(o []float32, lo, hi archsimd.Int16x8, d archsimd.Float32x4) {
	lo.ExtendLo4ToInt32().ConvertToFloat32().Mul(d).Store(o[0:4])
	lo.ExtendHi4ToInt32().ConvertToFloat32().Mul(d).Store(o[4:8])
	hi.ExtendLo4ToInt32().ConvertToFloat32().Mul(d).Store(o[8:12])
	hi.ExtendHi4ToInt32().ConvertToFloat32().Mul(d).Store(o[12:16])
}

func dequantQ8_0SIMD(dst []float32, src []byte, nb int) {
	for i := 0; i < nb; i++ {
		x := src[i*q8_0Bytes : (i+1)*q8_0Bytes]
		o := dst[i*qk : (i+1)*qk]
		d := archsimd.BroadcastFloat32x4(f16At(x))
		q0, q1 := archsimd.LoadUint8x16(x[2:18]).BitsToInt8(), archsimd.LoadUint8x16(x[18:34]).BitsToInt8()
		storeScaled(o[0:16], q0.ExtendLo8ToInt16(), q0.ExtendHi8ToInt16(), d)
		storeScaled(o[16:32], q1.ExtendLo8ToInt16(), q1.ExtendHi8ToInt16(), d)
	}
}

func dequantQ4_0SIMD(dst []float32, src []byte, nb int) {
	mask, eight := archsimd.BroadcastUint8x16(0x0f), archsimd.BroadcastUint8x16(8)
	for i := 0; i < nb; i++ {
		x := src[i*q4_0Bytes : (i+1)*q4_0Bytes]
		o := dst[i*qk : (i+1)*qk]
		d := archsimd.BroadcastFloat32x4(f16At(x))
		q := archsimd.LoadUint8x16(x[2:18])
		lo := q.And(mask).Sub(eight).BitsToInt8()
		hi := q.ShiftAllRight(4).Sub(eight).BitsToInt8()
		storeScaled(o[0:16], lo.ExtendLo8ToInt16(), lo.ExtendHi8ToInt16(), d)
		storeScaled(o[16:32], hi.ExtendLo8ToInt16(), hi.ExtendHi8ToInt16(), d)
	}
}
