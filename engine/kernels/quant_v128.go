//go:build goexperiment.simd && (wasm || arm64)

package kernels

import (
	"math"
	"simd/archsimd"

	"github.com/attnscope/attnscope/engine/quant"
)

// The integer block sums of the quantized dot products and the dequantizations on 128-bit
// vectors (WebAssembly's SIMD128, arm64's NEON): byte products widened to 16 bits (at most
// 128·128, which fits), then to 32 bits and added; the block's float arithmetic as quant's plain
// loop does it, so the bits are the plain version's. Each platform gives the widenings
// (mulWiden, widen8, widen16).

// dotI8x16 adds the products of 16 signed bytes of x and y into four 32-bit sums.
func dotI8x16(x, y archsimd.Int8x16) archsimd.Int32x4 {
	lo, hi := mulWiden(x, y)
	a, b := widen16(lo)
	c, d := widen16(hi)
	return a.Add(b).Add(c.Add(d))
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
		// The conversions keep a compiler from fusing the multiply and the add (arm64's FMADD).
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

// storeScaled writes float32(q)·d for the 16 signed bytes of q into o.
func storeScaled(o []float32, q archsimd.Int8x16, d archsimd.Float32x4) {
	lo, hi := widen8(q)
	a, b := widen16(lo)
	c, e := widen16(hi)
	a.ConvertToFloat32().Mul(d).Store(o[0:4])
	b.ConvertToFloat32().Mul(d).Store(o[4:8])
	c.ConvertToFloat32().Mul(d).Store(o[8:12])
	e.ConvertToFloat32().Mul(d).Store(o[12:16])
}

func dequantQ8_0SIMD(dst []float32, src []byte, nb int) {
	for i := 0; i < nb; i++ {
		x := src[i*q8_0Bytes : (i+1)*q8_0Bytes]
		o := dst[i*qk : (i+1)*qk]
		d := archsimd.BroadcastFloat32x4(f16At(x))
		storeScaled(o[0:16], archsimd.LoadUint8x16(x[2:18]).BitsToInt8(), d)
		storeScaled(o[16:32], archsimd.LoadUint8x16(x[18:34]).BitsToInt8(), d)
	}
}

func dequantQ4_0SIMD(dst []float32, src []byte, nb int) {
	mask, eight := archsimd.BroadcastUint8x16(0x0f), archsimd.BroadcastUint8x16(8)
	for i := 0; i < nb; i++ {
		x := src[i*q4_0Bytes : (i+1)*q4_0Bytes]
		o := dst[i*qk : (i+1)*qk]
		d := archsimd.BroadcastFloat32x4(f16At(x))
		q := archsimd.LoadUint8x16(x[2:18])
		storeScaled(o[0:16], q.And(mask).Sub(eight).BitsToInt8(), d)
		storeScaled(o[16:32], q.ShiftAllRight(4).Sub(eight).BitsToInt8(), d)
	}
}

// halvesSIMD decodes binary16 (bf false) or bfloat16 (bf true) values of src into dst, four
// at a time while sixteen bytes remain to load, and returns how many: the bits of
// quant.F16ToF32 and quant.BF16ToF32 (the 256-bit halvesSIMD's operations, on four lanes).
func halvesSIMD(dst []float32, src []byte, bf bool) int {
	abs, sign := archsimd.BroadcastInt32x4(0x7fff), archsimd.BroadcastInt32x4(0x8000)
	expMask, bias := archsimd.BroadcastInt32x4(0x1f<<23), archsimd.BroadcastInt32x4((127-15)<<23)
	quiet := archsimd.BroadcastInt32x4(0x00400000)
	sub0, nanAbove, zero := archsimd.BroadcastInt32x4((127-14)<<23), archsimd.BroadcastInt32x4(0x7c00), archsimd.BroadcastInt32x4(0)
	i := 0
	for ; i+8 <= len(dst); i += 4 {
		h := archsimd.LoadUint8x16Array((*[16]uint8)(src[2*i : 2*i+16])).ReshapeToUint16s().ExtendLo4ToUint32().BitsToInt32()
		o := (*[4]float32)(dst[i : i+4])
		if bf {
			h.ShiftAllLeft(16).ToBits().BitsToFloat32().StoreArray(o)
			continue
		}
		m := h.And(abs)
		v := m.ShiftAllLeft(13)
		e := v.And(expMask)
		sub := v.Add(sub0).ToBits().BitsToFloat32().Sub(sub0.ToBits().BitsToFloat32()).ToBits().BitsToInt32()
		v = v.Add(bias)
		v = v.Add(e.Equal(expMask).ToInt32x4().And(bias))
		v = v.Or(m.Greater(nanAbove).ToInt32x4().And(quiet))
		v = v.Xor(v.Xor(sub).And(e.Equal(zero).ToInt32x4()))
		v.Or(h.And(sign).ShiftAllLeft(16)).ToBits().BitsToFloat32().StoreArray(o)
	}
	return i
}

// kquantsSIMD says whether dequantKSIMD takes type t: Q6_K. Q4_K and Q5_K decoded four at a
// time were no faster than plain Go in WebAssembly (BenchmarkDequantize n=768 in Node: Q4_K
// 1.31–1.49 against 1.37–1.43 µs, Q5_K 1.95–2.40 against 1.92–1.97; Q6_K 0.75 against 1.95).
func kquantsSIMD(t quant.Type) bool { return t == quant.Q6_K }

// dequantKSIMD decodes nb Q6_K super-blocks four values at a time, with quant's operations
// per value (the 256-bit kernels' order), so the same bits.
func dequantKSIMD(t quant.Type, dst []float32, src []byte, nb int) {
	for i := 0; i < nb; i++ {
		dequantQ6KBlock4((*[quant.QKK]float32)(dst[i*quant.QKK:]), src[i*t.BlockBytes():])
	}
}

// dequantQ6KBlock4 decodes one Q6_K super-block (as dequantQ6KBlock).
func dequantQ6KBlock4(out *[quant.QKK]float32, b []byte) {
	var ds [16]uint32 // d·sc as float32 bits
	d := f16At(b[208:])
	for j := range ds {
		ds[j] = math.Float32bits(d * float32(int8(b[192+j])))
	}
	nib, three, off := archsimd.BroadcastUint32x4(0x0f), archsimd.BroadcastUint32x4(3), archsimd.BroadcastInt32x4(32)
	for n := 0; n < 2; n++ {
		for l := 0; l < 32; l += 4 {
			is := 8*n + l/16
			a, c := lowBytes4(b[64*n+l:]), lowBytes4(b[64*n+l+32:])
			h := lowBytes4(b[128+32*n+l:])
			q1 := a.And(nib).Or(h.And(three).ShiftAllLeft(4)).BitsToInt32().Sub(off)
			q2 := c.And(nib).Or(h.ShiftAllRight(2).And(three).ShiftAllLeft(4)).BitsToInt32().Sub(off)
			q3 := a.ShiftAllRight(4).Or(h.ShiftAllRight(4).And(three).ShiftAllLeft(4)).BitsToInt32().Sub(off)
			q4 := c.ShiftAllRight(4).Or(h.ShiftAllRight(6).ShiftAllLeft(4)).BitsToInt32().Sub(off)
			o := out[128*n+l:]
			q1.ConvertToFloat32().Mul(archsimd.BroadcastUint32x4(ds[is]).BitsToFloat32()).StoreArray((*[4]float32)(o[0:4]))
			q2.ConvertToFloat32().Mul(archsimd.BroadcastUint32x4(ds[is+2]).BitsToFloat32()).StoreArray((*[4]float32)(o[32:36]))
			q3.ConvertToFloat32().Mul(archsimd.BroadcastUint32x4(ds[is+4]).BitsToFloat32()).StoreArray((*[4]float32)(o[64:68]))
			q4.ConvertToFloat32().Mul(archsimd.BroadcastUint32x4(ds[is+6]).BitsToFloat32()).StoreArray((*[4]float32)(o[96:100]))
		}
	}
}

// lowBytes4 returns the four bytes at b[0:4] widened to 32 bits: a sixteen-byte load where b
// has the bytes, else through a copy (the end of src).
func lowBytes4(b []byte) archsimd.Uint32x4 {
	if len(b) >= 16 {
		return archsimd.LoadUint8x16Array((*[16]uint8)(b[:16])).ExtendLo8ToUint16().ExtendLo4ToUint32()
	}
	var t [16]uint8
	copy(t[:], b[:4])
	return archsimd.LoadUint8x16Array(&t).ExtendLo8ToUint16().ExtendLo4ToUint32()
}

// legacySIMD says whether dequantLegacySIMD takes type t here: none (Q4_1, Q5_0 and Q5_1 have
// vector kernels on amd64 only).
func legacySIMD(t quant.Type) bool { return false }

func dequantLegacySIMD(t quant.Type, dst []float32, src []byte, nb int) {
	panic("kernels: no vector kernel for " + t.String())
}
