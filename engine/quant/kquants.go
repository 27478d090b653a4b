package quant

// The K-quants Q2_K … Q6_K: super-blocks of 256 weights with per-group scales that are
// themselves quantized. Only dequantization is provided; the formulas are ggml's
// dequantize_row_q*_K with each float operation in the same order, products rounded before
// sums.

const (
	q2KBytes = QKK/16 + QKK/4 + 4
	q3KBytes = QKK/8 + QKK/4 + 12 + 2
	q4KBytes = 4 + 12 + QKK/2
	q5KBytes = 4 + 12 + QKK/8 + QKK/2
	q6KBytes = QKK/2 + QKK/4 + QKK/16 + 2
)

// ScaleMinK4 unpacks the 6-bit scale and minimum of group j (0–7) from the 12 packed bytes of
// a Q4_K or Q5_K super-block (ggml's get_scale_min_k4): groups 0–3 sit in the low six bits of
// bytes j and j+4; groups 4–7 have their low four bits in the nibbles of byte j+4 and their top
// two bits in the top bits of bytes j−4 and j.
func ScaleMinK4(j int, s *[12]uint8) (sc, m uint8) {
	if j < 4 {
		return s[j] & 63, s[j+4] & 63
	}
	return s[j+4]&0x0f | (s[j-4]>>6)<<4, s[j+4]>>4 | (s[j]>>6)<<4
}

// Dequantize writes the super-block's 256 weights (ggml's dequantize_row_q2_K): for each group
// of 16, dl = d·(sc&15) and ml = dmin·(sc>>4), then w = dl·q − ml.
func (b *BlockQ2K) Dequantize(dst *[QKK]float32) {
	d, dmin := F16ToF32(b.D), F16ToF32(b.Dmin)
	for g, sc := range b.Scales {
		dl := d * float32(sc&0x0f)
		ml := dmin * float32(sc>>4)
		// Group g covers elements 16g…16g+15: half n = g/8, bit pair (g%8)/2, bytes 16·(g%2)….
		q := b.Qs[32*(g/8)+16*(g%2):][:16]
		shift := uint(g%8/2) * 2
		out := dst[16*g : 16*g+16]
		for l := range out {
			out[l] = float32(dl*float32((q[l]>>shift)&3)) - ml
		}
	}
}

// ScalesQ3K unpacks the sixteen 6-bit group scales of a Q3_K super-block, minus 32 (ggml's
// dequantize_row_q3_K: the low four bits from the nibbles of bytes 0–7, the top two from
// bytes 8–11).
func ScalesQ3K(s *[12]uint8) (sc [16]int32) {
	for j := range sc {
		var lo uint8
		if j < 8 {
			lo = s[j] & 0x0f
		} else {
			lo = s[j-8] >> 4
		}
		hi := (s[8+j%4] >> (2 * (j / 4))) & 3
		sc[j] = int32(lo|hi<<4) - 32
	}
	return sc
}

// Dequantize writes the super-block's 256 weights (ggml's dequantize_row_q3_K): for each group
// of 16, dl = d·(s−32), then w = dl·(q − 4 if the high bit is clear, else q).
func (b *BlockQ3K) Dequantize(dst *[QKK]float32) {
	d := F16ToF32(b.D)
	sc := ScalesQ3K(&b.Scales)
	for g := range sc {
		dl := d * float32(sc[g])
		off := 16 * (g % 2)
		q := b.Qs[32*(g/8)+off:][:16]
		hm := b.Hmask[off:][:16]
		shift := uint(g%8/2) * 2
		mask := uint8(1) << (g / 2)
		out := dst[16*g : 16*g+16]
		for l := range out {
			v := int32((q[l] >> shift) & 3)
			if hm[l]&mask == 0 {
				v -= 4
			}
			out[l] = dl * float32(v)
		}
	}
}

// Dequantize writes the super-block's 256 weights (ggml's dequantize_row_q4_K): for each group
// of 32, d1 = d·sc and m1 = dmin·m (ScaleMinK4), then w = d1·q − m1.
func (b *BlockQ4K) Dequantize(dst *[QKK]float32) {
	d, dmin := F16ToF32(b.D), F16ToF32(b.Dmin)
	for k := 0; k < 4; k++ {
		sc0, m0 := ScaleMinK4(2*k, &b.Scales)
		sc1, m1 := ScaleMinK4(2*k+1, &b.Scales)
		d0, min0 := d*float32(sc0), dmin*float32(m0)
		d1, min1 := d*float32(sc1), dmin*float32(m1)
		q := b.Qs[32*k:][:32]
		lo, hi := dst[64*k:][:32], dst[64*k+32:][:32]
		for l, v := range q {
			lo[l] = float32(d0*float32(v&0x0f)) - min0
			hi[l] = float32(d1*float32(v>>4)) - min1
		}
	}
}

// Dequantize writes the super-block's 256 weights (ggml's dequantize_row_q5_K): as Q4_K with
// 16 added to q where its fifth bit is set.
func (b *BlockQ5K) Dequantize(dst *[QKK]float32) {
	d, dmin := F16ToF32(b.D), F16ToF32(b.Dmin)
	for k := 0; k < 4; k++ {
		sc0, m0 := ScaleMinK4(2*k, &b.Scales)
		sc1, m1 := ScaleMinK4(2*k+1, &b.Scales)
		d0, min0 := d*float32(sc0), dmin*float32(m0)
		d1, min1 := d*float32(sc1), dmin*float32(m1)
		u0, u1 := uint8(1)<<(2*k), uint8(2)<<(2*k)
		q := b.Qs[32*k:][:32]
		lo, hi := dst[64*k:][:32], dst[64*k+32:][:32]
		for l, v := range q {
			x0, x1 := int32(v&0x0f), int32(v>>4)
			if b.Qh[l]&u0 != 0 {
				x0 += 16
			}
			if b.Qh[l]&u1 != 0 {
				x1 += 16
			}
			lo[l] = float32(d0*float32(x0)) - min0
			hi[l] = float32(d1*float32(x1)) - min1
		}
	}
}

// Dequantize writes the super-block's 256 weights (ggml's dequantize_row_q6_K):
// w = (d·sc)·(q−32), sc the signed 8-bit scale of the group of 16.
func (b *BlockQ6K) Dequantize(dst *[QKK]float32) {
	d := F16ToF32(b.D)
	for n := 0; n < 2; n++ {
		ql := b.Ql[64*n:][:64]
		qh := b.Qh[32*n:][:32]
		sc := b.Scales[8*n:][:8]
		out := dst[128*n:][:128]
		for l := 0; l < 32; l++ {
			is := l / 16
			h := qh[l]
			q1 := int32(ql[l]&0x0f|(h&3)<<4) - 32
			q2 := int32(ql[l+32]&0x0f|(h>>2&3)<<4) - 32
			q3 := int32(ql[l]>>4|(h>>4&3)<<4) - 32
			q4 := int32(ql[l+32]>>4|(h>>6&3)<<4) - 32
			out[l] = d * float32(sc[is]) * float32(q1)
			out[l+32] = d * float32(sc[is+2]) * float32(q2)
			out[l+64] = d * float32(sc[is+4]) * float32(q3)
			out[l+96] = d * float32(sc[is+6]) * float32(q4)
		}
	}
}

// DequantizeQ2K decodes Q2_K super-blocks: len(dst) must be a multiple of 256 and len(src)
// 84 bytes per 256 values.
func DequantizeQ2K(dst []float32, src []byte) {
	checkRow("DequantizeQ2K", Q2_K, len(dst), len(src))
	var b BlockQ2K
	for i := 0; i < len(dst)/QKK; i++ {
		b.Load(src[i*q2KBytes:])
		b.Dequantize((*[QKK]float32)(dst[i*QKK:]))
	}
}

// DequantizeQ3K decodes Q3_K super-blocks: len(dst) must be a multiple of 256 and len(src)
// 110 bytes per 256 values.
func DequantizeQ3K(dst []float32, src []byte) {
	checkRow("DequantizeQ3K", Q3_K, len(dst), len(src))
	var b BlockQ3K
	for i := 0; i < len(dst)/QKK; i++ {
		b.Load(src[i*q3KBytes:])
		b.Dequantize((*[QKK]float32)(dst[i*QKK:]))
	}
}

// DequantizeQ4K decodes Q4_K super-blocks: len(dst) must be a multiple of 256 and len(src)
// 144 bytes per 256 values.
func DequantizeQ4K(dst []float32, src []byte) {
	checkRow("DequantizeQ4K", Q4_K, len(dst), len(src))
	var b BlockQ4K
	for i := 0; i < len(dst)/QKK; i++ {
		b.Load(src[i*q4KBytes:])
		b.Dequantize((*[QKK]float32)(dst[i*QKK:]))
	}
}

// DequantizeQ5K decodes Q5_K super-blocks: len(dst) must be a multiple of 256 and len(src)
// 176 bytes per 256 values.
func DequantizeQ5K(dst []float32, src []byte) {
	checkRow("DequantizeQ5K", Q5_K, len(dst), len(src))
	var b BlockQ5K
	for i := 0; i < len(dst)/QKK; i++ {
		b.Load(src[i*q5KBytes:])
		b.Dequantize((*[QKK]float32)(dst[i*QKK:]))
	}
}

// DequantizeQ6K decodes Q6_K super-blocks: len(dst) must be a multiple of 256 and len(src)
// 210 bytes per 256 values.
func DequantizeQ6K(dst []float32, src []byte) {
	checkRow("DequantizeQ6K", Q6_K, len(dst), len(src))
	var b BlockQ6K
	for i := 0; i < len(dst)/QKK; i++ {
		b.Load(src[i*q6KBytes:])
		b.Dequantize((*[QKK]float32)(dst[i*QKK:]))
	}
}
