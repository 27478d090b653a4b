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
