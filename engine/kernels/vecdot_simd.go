//go:build goexperiment.simd && amd64

package kernels

import "simd/archsimd"

// The integer sums of a batch of blocks are taken with 256-bit vectors (the signed bytes
// widened to 16 bits, multiplied and added in pairs into 32 bits, which cannot overflow) and
// stored as four partial sums per block; then the upper vector state is cleared and the float
// terms of the batch are added one block after the other in scalar code. The vector work is
// written out in the loops rather than in helper functions: calls between 256-bit
// instructions cost more than the work itself on some CPUs.

// vecDotQ8_0SIMD is quant.VecDot for Q8_0 weights.
func vecDotQ8_0SIMD(row, act []byte, nb int) float32 {
	var part [4 * vecBatch]int32
	var sum float32
	for b0 := 0; b0 < nb; b0 += vecBatch {
		m := min(vecBatch, nb-b0)
		x, y := row[b0*q8_0Bytes:(b0+m)*q8_0Bytes], act[b0*q8_0Bytes:(b0+m)*q8_0Bytes]
		for i := 0; i < m; i++ {
			xb, yb := x[i*q8_0Bytes+2:(i+1)*q8_0Bytes], y[i*q8_0Bytes+2:(i+1)*q8_0Bytes]
			x0 := archsimd.LoadUint8x16(xb[0:16]).AsInt8x16().ExtendToInt16()
			x1 := archsimd.LoadUint8x16(xb[16:32]).AsInt8x16().ExtendToInt16()
			y0 := archsimd.LoadUint8x16(yb[0:16]).AsInt8x16().ExtendToInt16()
			y1 := archsimd.LoadUint8x16(yb[16:32]).AsInt8x16().ExtendToInt16()
			v := x0.DotProductPairs(y0).Add(x1.DotProductPairs(y1))
			v.GetLo().Add(v.GetHi()).Store(part[4*i : 4*i+4])
		}
		archsimd.ClearAVXUpperBits()
		for i := 0; i < m; i++ {
			s := (part[4*i] + part[4*i+1]) + (part[4*i+2] + part[4*i+3])
			dx, dy := f16At(x[i*q8_0Bytes:]), f16At(y[i*q8_0Bytes:])
			sum += float32(float32(s) * float32(dx*dy))
		}
	}
	return sum
}

// vecDotQ4_0SIMD is quant.VecDot for Q4_0 weights: element j < 16 of a block is the low
// nibble of byte j minus 8, element j+16 its high nibble minus 8.
func vecDotQ4_0SIMD(row, act []byte, nb int) float32 {
	var part [4 * vecBatch]int32
	var sum float32
	mask, eight := archsimd.BroadcastUint8x16(0x0f), archsimd.BroadcastUint8x16(8)
	for b0 := 0; b0 < nb; b0 += vecBatch {
		m := min(vecBatch, nb-b0)
		x, y := row[b0*q4_0Bytes:(b0+m)*q4_0Bytes], act[b0*q8_0Bytes:(b0+m)*q8_0Bytes]
		for i := 0; i < m; i++ {
			q := archsimd.LoadUint8x16(x[i*q4_0Bytes+2 : (i+1)*q4_0Bytes])
			yb := y[i*q8_0Bytes+2 : (i+1)*q8_0Bytes]
			lo := q.And(mask).Sub(eight).AsInt8x16().ExtendToInt16()
			hi := q.AsUint16x8().ShiftAllRight(4).AsUint8x16().And(mask).Sub(eight).AsInt8x16().ExtendToInt16()
			y0 := archsimd.LoadUint8x16(yb[0:16]).AsInt8x16().ExtendToInt16()
			y1 := archsimd.LoadUint8x16(yb[16:32]).AsInt8x16().ExtendToInt16()
			v := lo.DotProductPairs(y0).Add(hi.DotProductPairs(y1))
			v.GetLo().Add(v.GetHi()).Store(part[4*i : 4*i+4])
		}
		archsimd.ClearAVXUpperBits()
		for i := 0; i < m; i++ {
			s := (part[4*i] + part[4*i+1]) + (part[4*i+2] + part[4*i+3])
			dx, dy := f16At(x[i*q4_0Bytes:]), f16At(y[i*q8_0Bytes:])
			sum += float32(float32(float32(s)*dx) * dy)
		}
	}
	return sum
}
