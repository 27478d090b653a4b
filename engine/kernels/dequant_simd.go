//go:build goexperiment.simd && amd64

package kernels

import "simd/archsimd"

// The block scales of a batch are converted first in scalar code; the vector loop then only
// loads them (no scalar float work between 256-bit instructions).

// dequantQ8_0SIMD decodes nb Q8_0 blocks: dst[j] = float32(q_j)·d.
func dequantQ8_0SIMD(dst []float32, src []byte, nb int) {
	var d [vecBatch]float32
	for b0 := 0; b0 < nb; b0 += vecBatch {
		m := min(vecBatch, nb-b0)
		x := src[b0*q8_0Bytes : (b0+m)*q8_0Bytes]
		for i := 0; i < m; i++ {
			d[i] = f16At(x[i*q8_0Bytes:])
		}
		y := dst[b0*qk : (b0+m)*qk]
		for i := 0; i < m; i++ {
			dv := archsimd.BroadcastFloat32x8(d[i])
			q := x[i*q8_0Bytes+2 : (i+1)*q8_0Bytes]
			o := y[i*qk : (i+1)*qk]
			w0 := archsimd.LoadUint8x16(q[0:16]).AsInt8x16().ExtendToInt16()
			w1 := archsimd.LoadUint8x16(q[16:32]).AsInt8x16().ExtendToInt16()
			w0.GetLo().ExtendToInt32().ConvertToFloat32().Mul(dv).Store(o[0:8])
			w0.GetHi().ExtendToInt32().ConvertToFloat32().Mul(dv).Store(o[8:16])
			w1.GetLo().ExtendToInt32().ConvertToFloat32().Mul(dv).Store(o[16:24])
			w1.GetHi().ExtendToInt32().ConvertToFloat32().Mul(dv).Store(o[24:32])
		}
		archsimd.ClearAVXUpperBits()
	}
}

// dequantQ4_0SIMD decodes nb Q4_0 blocks: dst[j] = float32(q_j−8)·d, element j < 16 the low
// nibble of byte j, element j+16 its high nibble.
func dequantQ4_0SIMD(dst []float32, src []byte, nb int) {
	var d [vecBatch]float32
	for b0 := 0; b0 < nb; b0 += vecBatch {
		m := min(vecBatch, nb-b0)
		x := src[b0*q4_0Bytes : (b0+m)*q4_0Bytes]
		for i := 0; i < m; i++ {
			d[i] = f16At(x[i*q4_0Bytes:])
		}
		y := dst[b0*qk : (b0+m)*qk]
		mask, eight := archsimd.BroadcastUint8x16(0x0f), archsimd.BroadcastUint8x16(8)
		for i := 0; i < m; i++ {
			dv := archsimd.BroadcastFloat32x8(d[i])
			q := archsimd.LoadUint8x16(x[i*q4_0Bytes+2 : (i+1)*q4_0Bytes])
			o := y[i*qk : (i+1)*qk]
			lo := q.And(mask).Sub(eight).AsInt8x16().ExtendToInt16()
			hi := q.AsUint16x8().ShiftAllRight(4).AsUint8x16().And(mask).Sub(eight).AsInt8x16().ExtendToInt16()
			lo.GetLo().ExtendToInt32().ConvertToFloat32().Mul(dv).Store(o[0:8])
			lo.GetHi().ExtendToInt32().ConvertToFloat32().Mul(dv).Store(o[8:16])
			hi.GetLo().ExtendToInt32().ConvertToFloat32().Mul(dv).Store(o[16:24])
			hi.GetHi().ExtendToInt32().ConvertToFloat32().Mul(dv).Store(o[24:32])
		}
		archsimd.ClearAVXUpperBits()
	}
}

// halvesSIMD decodes the leading multiple of eight of len(dst) binary16 (bf false) or
// bfloat16 (bf true) values of src (little-endian) into dst and returns how many: the bits of
// quant.F16ToF32 and quant.BF16ToF32.
//
// A binary16 value widens exactly as follows, eight at a time, without a branch: the
// magnitude's exponent and significand move into place (shifted by 13) and the exponent is
// rebiased by 112; an infinity or NaN (exponent 31) gets another 112 (to 255) and a NaN its
// quiet bit; a zero or subnormal (exponent 0) takes instead the float value of the same bits
// with exponent 2⁻¹⁴ minus 2⁻¹⁴, which is m·2⁻²⁴ exactly (a zero +0), chosen by bits so that no
// other lane passes through arithmetic (which would quiet a NaN on its own); the sign goes on
// last.
func halvesSIMD(dst []float32, src []byte, bf bool) int {
	n := len(dst) &^ 7
	d, s := dst[:n], src[:2*n]
	if bf {
		for len(d) >= 8 {
			h := archsimd.LoadUint8x16Array((*[16]uint8)(s[:16])).AsUint16x8().ExtendToUint32()
			h.ShiftAllLeft(16).AsFloat32x8().StoreArray((*[8]float32)(d[:8]))
			d, s = d[8:], s[16:]
		}
		archsimd.ClearAVXUpperBits()
		return n
	}
	abs, sign := archsimd.BroadcastInt32x8(0x7fff), archsimd.BroadcastInt32x8(0x8000)
	expMask, bias := archsimd.BroadcastInt32x8(0x1f<<23), archsimd.BroadcastInt32x8((127-15)<<23)
	sub0, zero := archsimd.BroadcastInt32x8((127-14)<<23), archsimd.BroadcastInt32x8(0)
	nanAbove, quiet := archsimd.BroadcastInt32x8(0x7c00), archsimd.BroadcastInt32x8(0x00400000)
	for len(d) >= 8 {
		h := archsimd.LoadUint8x16Array((*[16]uint8)(s[:16])).AsUint16x8().ExtendToUint32().AsInt32x8()
		m := h.And(abs)
		v := m.ShiftAllLeft(13)
		e := v.And(expMask)
		sub := v.Add(sub0).AsFloat32x8().Sub(sub0.AsFloat32x8()).AsInt32x8()
		v = v.Add(bias)
		v = v.Add(e.Equal(expMask).ToInt32x8().And(bias))
		v = v.Or(m.Greater(nanAbove).ToInt32x8().And(quiet))
		v = v.Xor(v.Xor(sub).And(e.Equal(zero).ToInt32x8()))
		v.Or(h.And(sign).ShiftAllLeft(16)).AsFloat32x8().StoreArray((*[8]float32)(d[:8]))
		d, s = d[8:], s[16:]
	}
	archsimd.ClearAVXUpperBits()
	return n
}
