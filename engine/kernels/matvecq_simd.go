//go:build goexperiment.simd && amd64

package kernels

import "simd/archsimd"

// The fused kernels run four rows side by side, as matVecLanesSIMD does: each row keeps
// DotLanes' 16 lanes in two 256-bit accumulators (elements 0–7 and 8–15 of every 16), and the
// four rows' chains of fused multiply-adds are independent. A block of 32 weights is four
// groups of eight: signed bytes widened to 32 bits, converted to float32 and multiplied by the
// block scale (exact, as in Dequantize). The scales of a batch of blocks are converted first,
// in integer arithmetic (see f16Bits).

// matVecQ8_0LanesSIMD computes MatVecQLanes for Q8_0 rows in groups of four and returns how
// many rows it did (len(dst)&^3).
func matVecQ8_0LanesSIMD(dst []float32, w []byte, x []float32) int {
	c := len(x)
	nb := c / qk
	rb := nb * q8_0Bytes
	n4 := len(dst) &^ 3
	var d [4][vecBatch]uint32
	var q [4][4]float32
	for r := 0; r < n4; r += 4 {
		w0 := w[r*rb : (r+1)*rb]
		w1 := w[(r+1)*rb : (r+2)*rb]
		w2 := w[(r+2)*rb : (r+3)*rb]
		w3 := w[(r+3)*rb : (r+4)*rb]
		z := archsimd.Float32x8{}
		a0, b0, a1, b1, a2, b2, a3, b3 := z, z, z, z, z, z, z, z
		for k0 := 0; k0 < nb; k0 += vecBatch {
			m := min(vecBatch, nb-k0)
			scales4(&d, w0, w1, w2, w3, k0, m, q8_0Bytes)
			for k := 0; k < m; k++ {
				o := (k0+k)*q8_0Bytes + 2
				xb := x[(k0+k)*qk : (k0+k+1)*qk]
				x0 := archsimd.LoadFloat32x8(xb[0:8])
				x1 := archsimd.LoadFloat32x8(xb[8:16])
				x2 := archsimd.LoadFloat32x8(xb[16:24])
				x3 := archsimd.LoadFloat32x8(xb[24:32])

				dv := archsimd.BroadcastUint32x8(d[0][k]).AsFloat32x8()
				p := archsimd.LoadUint8x16(w0[o : o+16]).AsInt8x16()
				h := p.AsInt32x4().PermuteScalars(2, 3, 2, 3).AsInt8x16()
				a0 = p.ExtendLo8ToInt32().ConvertToFloat32().Mul(dv).MulAdd(x0, a0)
				b0 = h.ExtendLo8ToInt32().ConvertToFloat32().Mul(dv).MulAdd(x1, b0)
				p = archsimd.LoadUint8x16(w0[o+16 : o+32]).AsInt8x16()
				h = p.AsInt32x4().PermuteScalars(2, 3, 2, 3).AsInt8x16()
				a0 = p.ExtendLo8ToInt32().ConvertToFloat32().Mul(dv).MulAdd(x2, a0)
				b0 = h.ExtendLo8ToInt32().ConvertToFloat32().Mul(dv).MulAdd(x3, b0)

				dv = archsimd.BroadcastUint32x8(d[1][k]).AsFloat32x8()
				p = archsimd.LoadUint8x16(w1[o : o+16]).AsInt8x16()
				h = p.AsInt32x4().PermuteScalars(2, 3, 2, 3).AsInt8x16()
				a1 = p.ExtendLo8ToInt32().ConvertToFloat32().Mul(dv).MulAdd(x0, a1)
				b1 = h.ExtendLo8ToInt32().ConvertToFloat32().Mul(dv).MulAdd(x1, b1)
				p = archsimd.LoadUint8x16(w1[o+16 : o+32]).AsInt8x16()
				h = p.AsInt32x4().PermuteScalars(2, 3, 2, 3).AsInt8x16()
				a1 = p.ExtendLo8ToInt32().ConvertToFloat32().Mul(dv).MulAdd(x2, a1)
				b1 = h.ExtendLo8ToInt32().ConvertToFloat32().Mul(dv).MulAdd(x3, b1)

				dv = archsimd.BroadcastUint32x8(d[2][k]).AsFloat32x8()
				p = archsimd.LoadUint8x16(w2[o : o+16]).AsInt8x16()
				h = p.AsInt32x4().PermuteScalars(2, 3, 2, 3).AsInt8x16()
				a2 = p.ExtendLo8ToInt32().ConvertToFloat32().Mul(dv).MulAdd(x0, a2)
				b2 = h.ExtendLo8ToInt32().ConvertToFloat32().Mul(dv).MulAdd(x1, b2)
				p = archsimd.LoadUint8x16(w2[o+16 : o+32]).AsInt8x16()
				h = p.AsInt32x4().PermuteScalars(2, 3, 2, 3).AsInt8x16()
				a2 = p.ExtendLo8ToInt32().ConvertToFloat32().Mul(dv).MulAdd(x2, a2)
				b2 = h.ExtendLo8ToInt32().ConvertToFloat32().Mul(dv).MulAdd(x3, b2)

				dv = archsimd.BroadcastUint32x8(d[3][k]).AsFloat32x8()
				p = archsimd.LoadUint8x16(w3[o : o+16]).AsInt8x16()
				h = p.AsInt32x4().PermuteScalars(2, 3, 2, 3).AsInt8x16()
				a3 = p.ExtendLo8ToInt32().ConvertToFloat32().Mul(dv).MulAdd(x0, a3)
				b3 = h.ExtendLo8ToInt32().ConvertToFloat32().Mul(dv).MulAdd(x1, b3)
				p = archsimd.LoadUint8x16(w3[o+16 : o+32]).AsInt8x16()
				h = p.AsInt32x4().PermuteScalars(2, 3, 2, 3).AsInt8x16()
				a3 = p.ExtendLo8ToInt32().ConvertToFloat32().Mul(dv).MulAdd(x2, a3)
				b3 = h.ExtendLo8ToInt32().ConvertToFloat32().Mul(dv).MulAdd(x3, b3)
			}
		}
		reduce4Rows(dst[r:r+4], &q, a0, b0, a1, b1, a2, b2, a3, b3)
	}
	return n4
}

// matVecQ4_0LanesSIMD computes MatVecQLanes for Q4_0 rows in groups of four and returns how
// many rows it did (len(dst)&^3). Element j < 16 of a block is the low nibble of byte j minus
// 8, element j+16 its high nibble minus 8.
func matVecQ4_0LanesSIMD(dst []float32, w []byte, x []float32) int {
	c := len(x)
	nb := c / qk
	rb := nb * q4_0Bytes
	n4 := len(dst) &^ 3
	var d [4][vecBatch]uint32
	var q [4][4]float32
	// The constants are 256 bits wide: the compiler spills 128-bit values with legacy SSE
	// moves, which are slow between 256-bit instructions; the low halves are taken where used.
	mask32, eight32 := archsimd.BroadcastUint8x32(0x0f), archsimd.BroadcastUint8x32(8)
	for r := 0; r < n4; r += 4 {
		w0 := w[r*rb : (r+1)*rb]
		w1 := w[(r+1)*rb : (r+2)*rb]
		w2 := w[(r+2)*rb : (r+3)*rb]
		w3 := w[(r+3)*rb : (r+4)*rb]
		z := archsimd.Float32x8{}
		a0, b0, a1, b1, a2, b2, a3, b3 := z, z, z, z, z, z, z, z
		for k0 := 0; k0 < nb; k0 += vecBatch {
			m := min(vecBatch, nb-k0)
			scales4(&d, w0, w1, w2, w3, k0, m, q4_0Bytes)
			for k := 0; k < m; k++ {
				o := (k0+k)*q4_0Bytes + 2
				xb := x[(k0+k)*qk : (k0+k+1)*qk]
				x0 := archsimd.LoadFloat32x8(xb[0:8])
				x1 := archsimd.LoadFloat32x8(xb[8:16])
				x2 := archsimd.LoadFloat32x8(xb[16:24])
				x3 := archsimd.LoadFloat32x8(xb[24:32])

				dv := archsimd.BroadcastUint32x8(d[0][k]).AsFloat32x8()
				v := archsimd.LoadUint8x16(w0[o : o+16])
				p := v.And(mask32.GetLo()).Sub(eight32.GetLo()).AsInt8x16()
				h := p.AsInt32x4().PermuteScalars(2, 3, 2, 3).AsInt8x16()
				a0 = p.ExtendLo8ToInt32().ConvertToFloat32().Mul(dv).MulAdd(x0, a0)
				b0 = h.ExtendLo8ToInt32().ConvertToFloat32().Mul(dv).MulAdd(x1, b0)
				p = v.AsUint16x8().ShiftAllRight(4).AsUint8x16().And(mask32.GetLo()).Sub(eight32.GetLo()).AsInt8x16()
				h = p.AsInt32x4().PermuteScalars(2, 3, 2, 3).AsInt8x16()
				a0 = p.ExtendLo8ToInt32().ConvertToFloat32().Mul(dv).MulAdd(x2, a0)
				b0 = h.ExtendLo8ToInt32().ConvertToFloat32().Mul(dv).MulAdd(x3, b0)

				dv = archsimd.BroadcastUint32x8(d[1][k]).AsFloat32x8()
				v = archsimd.LoadUint8x16(w1[o : o+16])
				p = v.And(mask32.GetLo()).Sub(eight32.GetLo()).AsInt8x16()
				h = p.AsInt32x4().PermuteScalars(2, 3, 2, 3).AsInt8x16()
				a1 = p.ExtendLo8ToInt32().ConvertToFloat32().Mul(dv).MulAdd(x0, a1)
				b1 = h.ExtendLo8ToInt32().ConvertToFloat32().Mul(dv).MulAdd(x1, b1)
				p = v.AsUint16x8().ShiftAllRight(4).AsUint8x16().And(mask32.GetLo()).Sub(eight32.GetLo()).AsInt8x16()
				h = p.AsInt32x4().PermuteScalars(2, 3, 2, 3).AsInt8x16()
				a1 = p.ExtendLo8ToInt32().ConvertToFloat32().Mul(dv).MulAdd(x2, a1)
				b1 = h.ExtendLo8ToInt32().ConvertToFloat32().Mul(dv).MulAdd(x3, b1)

				dv = archsimd.BroadcastUint32x8(d[2][k]).AsFloat32x8()
				v = archsimd.LoadUint8x16(w2[o : o+16])
				p = v.And(mask32.GetLo()).Sub(eight32.GetLo()).AsInt8x16()
				h = p.AsInt32x4().PermuteScalars(2, 3, 2, 3).AsInt8x16()
				a2 = p.ExtendLo8ToInt32().ConvertToFloat32().Mul(dv).MulAdd(x0, a2)
				b2 = h.ExtendLo8ToInt32().ConvertToFloat32().Mul(dv).MulAdd(x1, b2)
				p = v.AsUint16x8().ShiftAllRight(4).AsUint8x16().And(mask32.GetLo()).Sub(eight32.GetLo()).AsInt8x16()
				h = p.AsInt32x4().PermuteScalars(2, 3, 2, 3).AsInt8x16()
				a2 = p.ExtendLo8ToInt32().ConvertToFloat32().Mul(dv).MulAdd(x2, a2)
				b2 = h.ExtendLo8ToInt32().ConvertToFloat32().Mul(dv).MulAdd(x3, b2)

				dv = archsimd.BroadcastUint32x8(d[3][k]).AsFloat32x8()
				v = archsimd.LoadUint8x16(w3[o : o+16])
				p = v.And(mask32.GetLo()).Sub(eight32.GetLo()).AsInt8x16()
				h = p.AsInt32x4().PermuteScalars(2, 3, 2, 3).AsInt8x16()
				a3 = p.ExtendLo8ToInt32().ConvertToFloat32().Mul(dv).MulAdd(x0, a3)
				b3 = h.ExtendLo8ToInt32().ConvertToFloat32().Mul(dv).MulAdd(x1, b3)
				p = v.AsUint16x8().ShiftAllRight(4).AsUint8x16().And(mask32.GetLo()).Sub(eight32.GetLo()).AsInt8x16()
				h = p.AsInt32x4().PermuteScalars(2, 3, 2, 3).AsInt8x16()
				a3 = p.ExtendLo8ToInt32().ConvertToFloat32().Mul(dv).MulAdd(x2, a3)
				b3 = h.ExtendLo8ToInt32().ConvertToFloat32().Mul(dv).MulAdd(x3, b3)
			}
		}
		reduce4Rows(dst[r:r+4], &q, a0, b0, a1, b1, a2, b2, a3, b3)
	}
	return n4
}

// reduce4Rows finishes four rows' DotLanes sums from their lane halves (a: lanes 0–7, b: lanes
// 8–15) in reduce16's order and stores them in dst[0:4].
func reduce4Rows(dst []float32, q *[4][4]float32, a0, b0, a1, b1, a2, b2, a3, b3 archsimd.Float32x8) {
	h0, h1, h2, h3 := a0.Add(b0), a1.Add(b1), a2.Add(b2), a3.Add(b3)
	h0.GetLo().Add(h0.GetHi()).StoreArray(&q[0])
	h1.GetLo().Add(h1.GetHi()).StoreArray(&q[1])
	h2.GetLo().Add(h2.GetHi()).StoreArray(&q[2])
	h3.GetLo().Add(h3.GetHi()).StoreArray(&q[3])
	archsimd.ClearAVXUpperBits()
	_ = dst[3]
	for k := range q {
		dst[k] = (q[k][0] + q[k][2]) + (q[k][1] + q[k][3])
	}
}

// scales4 converts the scales of blocks k0…k0+m−1 of four rows of bs-byte blocks to float32
// bits: d[i][k] for row i, block k0+k.
func scales4(d *[4][vecBatch]uint32, w0, w1, w2, w3 []byte, k0, m, bs int) {
	for i, w := range [4][]byte{w0, w1, w2, w3} {
		w = w[k0*bs : (k0+m)*bs]
		for k := 0; k < m; k++ {
			h := uint32(w[k*bs]) | uint32(w[k*bs+1])<<8
			v, ok := f16BitsNormal(h)
			if !ok {
				v = f16BitsRare(h)
			}
			d[i][k] = v
		}
	}
}
