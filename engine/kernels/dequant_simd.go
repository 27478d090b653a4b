//go:build goexperiment.simd && amd64

package kernels

import (
	"math"
	"simd/archsimd"

	"github.com/attnscope/attnscope/engine/quant"
)

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

// kquantsSIMD says whether dequantKSIMD takes type t here: every K-quant.
func kquantsSIMD(t quant.Type) bool {
	return t == quant.Q2_K || t == quant.Q3_K || t == quant.Q4_K || t == quant.Q5_K || t == quant.Q6_K
}

// dequantKSIMD decodes nb super-blocks of a K-quant with quant's arithmetic per value (the
// group's float32 scale and minimum products first, then w = (d1·q) − m1, resp. (d·sc)·q, each
// product and difference rounded), so the same bits, eight values at a time.
// A super-block's loads may run on into the next one's bytes where src holds them.
func dequantKSIMD(t quant.Type, dst []float32, src []byte, nb int) {
	bb := t.BlockBytes()
	for i := 0; i < nb; i++ {
		out := (*[quant.QKK]float32)(dst[i*quant.QKK:])
		b := src[i*bb:]
		switch t {
		case quant.Q2_K:
			dequantQ2KBlock(out, b)
		case quant.Q3_K:
			dequantQ3KBlock(out, b)
		case quant.Q6_K:
			dequantQ6KBlock(out, b)
		case quant.Q5_K:
			dequantQ45KBlock(out, b, b[48:], b[16:48])
		default:
			dequantQ45KBlock(out, b, b[16:], nil)
		}
	}
}

// dequantQ2KBlock decodes one Q2_K super-block: group g of 16 values takes the two bits at
// 2·(g%8/2) of bytes 32·(g/8)+16·(g%2)… of qs, w = (d·(sc&15))·q − dmin·(sc>>4).
func dequantQ2KBlock(out *[quant.QKK]float32, b []byte) {
	var dl, ml [16]uint32 // group g's products, as float32 bits
	d, dmin := f16At(b[80:]), f16At(b[82:])
	for g := range dl {
		sc := b[g]
		dl[g], ml[g] = math.Float32bits(d*float32(sc&0x0f)), math.Float32bits(dmin*float32(sc>>4))
	}
	three := archsimd.BroadcastUint32x8(3)
	for g := 0; g < 16; g++ {
		q := b[16+32*(g/8)+16*(g%2):]
		// Counts in vectors: a count from a general register would pass through a legacy SSE
		// move, which stalls between 256-bit instructions.
		shift := archsimd.BroadcastUint32x8(uint32(g % 8 / 2 * 2))
		dv, mv := archsimd.BroadcastUint32x8(dl[g]).AsFloat32x8(), archsimd.BroadcastUint32x8(ml[g]).AsFloat32x8()
		x0 := lowBytes8(q).ShiftRight(shift).And(three)
		x1 := lowBytes8(q[8:]).ShiftRight(shift).And(three)
		x0.AsInt32x8().ConvertToFloat32().Mul(dv).Sub(mv).StoreArray((*[8]float32)(out[16*g:]))
		x1.AsInt32x8().ConvertToFloat32().Mul(dv).Sub(mv).StoreArray((*[8]float32)(out[16*g+8:]))
	}
	archsimd.ClearAVXUpperBits()
}

// dequantQ3KBlock decodes one Q3_K super-block: group g of 16 values takes the two bits at
// 2·(g%8/2) of bytes 32+32·(g/8)+16·(g%2)… and, where bit g/2 of hmask[16·(g%2)+l] is clear,
// 4 less; w = (d·sc)·q.
func dequantQ3KBlock(out *[quant.QKK]float32, b []byte) {
	var dl [16]uint32 // d·(scale − 32) of each group, as float32 bits
	d := f16At(b[108:])
	sc := quant.ScalesQ3K((*[12]uint8)(b[96:108]))
	for g := range dl {
		dl[g] = math.Float32bits(d * float32(sc[g]))
	}
	one, three, four := archsimd.BroadcastUint32x8(1), archsimd.BroadcastUint32x8(3), archsimd.BroadcastUint32x8(4)
	for g := 0; g < 16; g++ {
		off := 16 * (g % 2)
		q := b[32+32*(g/8)+off:]
		shift := archsimd.BroadcastUint32x8(uint32(g % 8 / 2 * 2)) // in vectors, as for Q2_K
		bit := archsimd.BroadcastUint32x8(uint32(g / 2))           // of hmask
		dv := archsimd.BroadcastUint32x8(dl[g]).AsFloat32x8()
		// 4 − 4·bit: the high bit set subtracts nothing.
		h0 := four.Sub(lowBytes8(b[off:]).ShiftRight(bit).And(one).ShiftAllLeft(2))
		h1 := four.Sub(lowBytes8(b[off+8:]).ShiftRight(bit).And(one).ShiftAllLeft(2))
		x0 := lowBytes8(q).ShiftRight(shift).And(three).AsInt32x8().Sub(h0.AsInt32x8())
		x1 := lowBytes8(q[8:]).ShiftRight(shift).And(three).AsInt32x8().Sub(h1.AsInt32x8())
		x0.ConvertToFloat32().Mul(dv).StoreArray((*[8]float32)(out[16*g:]))
		x1.ConvertToFloat32().Mul(dv).StoreArray((*[8]float32)(out[16*g+8:]))
	}
	archsimd.ClearAVXUpperBits()
}

// dequantQ45KBlock decodes one Q4_K (qh nil) or Q5_K super-block: b its bytes from the start
// (d, dmin, the packed scales), qs its quants and qh its fifth bits.
func dequantQ45KBlock(out *[quant.QKK]float32, b, qs, qh []byte) {
	var sc [8][2]uint32 // group j: d·scale and dmin·min, as float32 bits
	d, dmin := f16At(b[0:]), f16At(b[2:])
	for j := range sc {
		a, m := quant.ScaleMinK4(j, (*[12]uint8)(b[4:16]))
		sc[j] = [2]uint32{math.Float32bits(d * float32(a)), math.Float32bits(dmin * float32(m))}
	}
	nib, one := archsimd.BroadcastUint32x8(0x0f), archsimd.BroadcastUint32x8(1)
	for k := 0; k < 4; k++ {
		d0, m0 := archsimd.BroadcastUint32x8(sc[2*k][0]).AsFloat32x8(), archsimd.BroadcastUint32x8(sc[2*k][1]).AsFloat32x8()
		d1, m1 := archsimd.BroadcastUint32x8(sc[2*k+1][0]).AsFloat32x8(), archsimd.BroadcastUint32x8(sc[2*k+1][1]).AsFloat32x8()
		// The fifth bit of group 2k is bit 2k of qh[l], of group 2k+1 bit 2k+1: 16 when set
		// (min(bit, 1)·16).
		u0, u1 := archsimd.BroadcastUint32x8(1<<(2*k)), archsimd.BroadcastUint32x8(2<<(2*k))
		for l := 0; l < 32; l += 8 {
			w := lowBytes8(qs[32*k+l:])
			x0, x1 := w.And(nib), w.ShiftAllRight(4)
			if qh != nil {
				h := lowBytes8(qh[l:])
				x0 = x0.Add(h.And(u0).Min(one).ShiftAllLeft(4))
				x1 = x1.Add(h.And(u1).Min(one).ShiftAllLeft(4))
			}
			x0.AsInt32x8().ConvertToFloat32().Mul(d0).Sub(m0).StoreArray((*[8]float32)(out[64*k+l:]))
			x1.AsInt32x8().ConvertToFloat32().Mul(d1).Sub(m1).StoreArray((*[8]float32)(out[64*k+32+l:]))
		}
	}
	archsimd.ClearAVXUpperBits()
}

// dequantQ6KBlock decodes one Q6_K super-block: for l in each half n, four values from the low
// nibbles of ql[l] and ql[l+32], the high nibbles of both, and two bits each of qh[l], minus 32,
// times d·sc of their group of 16.
func dequantQ6KBlock(out *[quant.QKK]float32, b []byte) {
	var ds [16]uint32 // d·sc as float32 bits
	d := f16At(b[208:])
	for j := range ds {
		ds[j] = math.Float32bits(d * float32(int8(b[192+j])))
	}
	nib, three, off := archsimd.BroadcastUint32x8(0x0f), archsimd.BroadcastUint32x8(3), archsimd.BroadcastInt32x8(32)
	for n := 0; n < 2; n++ {
		for l := 0; l < 32; l += 8 {
			is := 8*n + l/16
			a, c := lowBytes8(b[64*n+l:]), lowBytes8(b[64*n+l+32:])
			h := lowBytes8(b[128+32*n+l:])
			q1 := a.And(nib).Or(h.And(three).ShiftAllLeft(4)).AsInt32x8().Sub(off)
			q2 := c.And(nib).Or(h.ShiftAllRight(2).And(three).ShiftAllLeft(4)).AsInt32x8().Sub(off)
			q3 := a.ShiftAllRight(4).Or(h.ShiftAllRight(4).And(three).ShiftAllLeft(4)).AsInt32x8().Sub(off)
			q4 := c.ShiftAllRight(4).Or(h.ShiftAllRight(6).ShiftAllLeft(4)).AsInt32x8().Sub(off)
			o := out[128*n+l:]
			q1.ConvertToFloat32().Mul(archsimd.BroadcastUint32x8(ds[is]).AsFloat32x8()).StoreArray((*[8]float32)(o[0:8]))
			q2.ConvertToFloat32().Mul(archsimd.BroadcastUint32x8(ds[is+2]).AsFloat32x8()).StoreArray((*[8]float32)(o[32:40]))
			q3.ConvertToFloat32().Mul(archsimd.BroadcastUint32x8(ds[is+4]).AsFloat32x8()).StoreArray((*[8]float32)(o[64:72]))
			q4.ConvertToFloat32().Mul(archsimd.BroadcastUint32x8(ds[is+6]).AsFloat32x8()).StoreArray((*[8]float32)(o[96:104]))
		}
	}
	archsimd.ClearAVXUpperBits()
}

// lowBytes8 returns the eight bytes at b[0:8] widened to 32 bits. It loads sixteen bytes when
// b has them, else eight through a copy (the end of a super-block at the end of src).
func lowBytes8(b []byte) archsimd.Uint32x8 {
	if len(b) >= 16 {
		return archsimd.LoadUint8x16Array((*[16]uint8)(b[:16])).ExtendLo8ToUint32()
	}
	var t [16]uint8
	copy(t[:], b[:8])
	return archsimd.LoadUint8x16Array(&t).ExtendLo8ToUint32()
}

// legacySIMD says whether dequantLegacySIMD takes type t here: Q4_1, Q5_0 and Q5_1.
func legacySIMD(t quant.Type) bool { return t == quant.Q4_1 || t == quant.Q5_0 || t == quant.Q5_1 }

// dequantLegacySIMD decodes nb blocks of Q4_1, Q5_0 or Q5_1 with quant's arithmetic per value,
// the same bits: float32(q−16)·d (Q5_0), or float32(q)·d rounded, then + m (Q4_1, Q5_1). A
// Q5 block's fifth bits come from its 32-bit qh, bit e for element e, moved into place by
// shifts of eight lanes by eight different counts.
func dequantLegacySIMD(t quant.Type, dst []float32, src []byte, nb int) {
	size, qs := t.BlockBytes(), 4 // bytes a block takes; where its nibbles start
	hasMin, five := t != quant.Q5_0, t != quant.Q4_1
	switch t {
	case quant.Q5_0:
		qs = 6
	case quant.Q5_1:
		qs = 8
	}
	var d, m [vecBatch]float32
	var qh [vecBatch]uint32
	var dh, mh [2 * vecBatch]byte // the scales' (and minimums') binary16 bits, widened together
	for b0 := 0; b0 < nb; b0 += vecBatch {
		n := min(vecBatch, nb-b0)
		x := src[b0*size : (b0+n)*size]
		for i := 0; i < n; i++ {
			blk := x[i*size:]
			dh[2*i], dh[2*i+1] = blk[0], blk[1]
			if hasMin {
				mh[2*i], mh[2*i+1] = blk[2], blk[3]
			}
			if five {
				qh[i] = uint32(blk[qs-4]) | uint32(blk[qs-3])<<8 | uint32(blk[qs-2])<<16 | uint32(blk[qs-1])<<24
			}
		}
		widenScales(d[:n], dh[:2*n])
		if hasMin {
			widenScales(m[:n], mh[:2*n])
		}
		y := dst[b0*qk : (b0+n)*qk]
		mask, one := archsimd.BroadcastUint8x16(0x0f), archsimd.BroadcastUint32x8(1)
		s0 := archsimd.LoadUint32x8Array(&[8]uint32{0, 1, 2, 3, 4, 5, 6, 7})
		s1, s2, s3 := s0.Add(archsimd.BroadcastUint32x8(8)), s0.Add(archsimd.BroadcastUint32x8(16)), s0.Add(archsimd.BroadcastUint32x8(24))
		off := archsimd.BroadcastInt32x8(0)
		if !hasMin {
			off = archsimd.BroadcastInt32x8(16)
		}
		for i := 0; i < n; i++ {
			dv, mv := archsimd.BroadcastFloat32x8(d[i]), archsimd.BroadcastFloat32x8(m[i])
			q := archsimd.LoadUint8x16(x[i*size+qs : (i+1)*size])
			lo := q.And(mask).AsInt8x16().ExtendToInt16()
			hi := q.AsUint16x8().ShiftAllRight(4).AsUint8x16().And(mask).AsInt8x16().ExtendToInt16()
			w0, w1 := lo.GetLo().ExtendToInt32(), lo.GetHi().ExtendToInt32()
			w2, w3 := hi.GetLo().ExtendToInt32(), hi.GetHi().ExtendToInt32()
			if five {
				h := archsimd.BroadcastUint32x8(qh[i])
				w0 = w0.Or(h.ShiftRight(s0).And(one).ShiftAllLeft(4).AsInt32x8())
				w1 = w1.Or(h.ShiftRight(s1).And(one).ShiftAllLeft(4).AsInt32x8())
				w2 = w2.Or(h.ShiftRight(s2).And(one).ShiftAllLeft(4).AsInt32x8())
				w3 = w3.Or(h.ShiftRight(s3).And(one).ShiftAllLeft(4).AsInt32x8())
			}
			o := (*[qk]float32)(y[i*qk : (i+1)*qk])
			if hasMin {
				w0.ConvertToFloat32().Mul(dv).Add(mv).StoreArray((*[8]float32)(o[0:8]))
				w1.ConvertToFloat32().Mul(dv).Add(mv).StoreArray((*[8]float32)(o[8:16]))
				w2.ConvertToFloat32().Mul(dv).Add(mv).StoreArray((*[8]float32)(o[16:24]))
				w3.ConvertToFloat32().Mul(dv).Add(mv).StoreArray((*[8]float32)(o[24:32]))
				continue
			}
			w0.Sub(off).ConvertToFloat32().Mul(dv).StoreArray((*[8]float32)(o[0:8]))
			w1.Sub(off).ConvertToFloat32().Mul(dv).StoreArray((*[8]float32)(o[8:16]))
			w2.Sub(off).ConvertToFloat32().Mul(dv).StoreArray((*[8]float32)(o[16:24]))
			w3.Sub(off).ConvertToFloat32().Mul(dv).StoreArray((*[8]float32)(o[24:32]))
		}
		archsimd.ClearAVXUpperBits()
	}
}

// widenScales decodes the binary16 values of src into dst (quant.F16ToF32's bits).
func widenScales(dst []float32, src []byte) {
	i := halvesSIMD(dst, src, false)
	for ; i < len(dst); i++ {
		dst[i] = f16At(src[2*i:])
	}
}
