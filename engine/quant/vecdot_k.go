package quant

import "math"

// Integer dot products of the K-quant super-blocks with Q8_K activations, as ggml's generic
// ggml_vec_dot_q{2,3,4,5,6}_K_q8_K take them. Q3_K … Q6_K first unpack the 256 quants into
// signed bytes (ggml's aux8) and accumulate scale·qx·qy into eight integer lanes, lane l
// holding the elements e with e%8 == l (ggml's aux32); each lane is scaled and summed into its
// own float32 across super-blocks (ggml's sums[8]), and the lanes are added at the end.

// q8K is one Q8_K activation super-block read in place: d, the 256 quants and the 16 sums.
type q8K struct {
	d     float32
	qs    []byte // QKK signed bytes
	bsums []byte // QKK/16 little-endian int16
}

func loadQ8K(act []byte, i int) q8K {
	y := act[i*q8KBytes:][:q8KBytes]
	return q8K{d: math.Float32frombits(le.Uint32(y)), qs: y[4:][:QKK], bsums: y[4+QKK:][:QKK/8]}
}

// bsum returns the stored sum of quants 16j … 16j+15.
func (y *q8K) bsum(j int) int32 { return int32(int16(le.Uint16(y.bsums[2*j:]))) }

// lanes adds sc[g]·a[e]·qy[e] for the 16 groups g of 16 elements to aux[e%8].
func lanes(aux *[8]int32, a *[QKK]int8, qy []byte, sc *[QKK / 16]int32) {
	qy = qy[:QKK]
	for g, s := range sc {
		ag, qg := (*[16]int8)(a[16*g:]), (*[16]byte)(qy[16*g:])
		for l := range aux {
			aux[l] += s * (int32(ag[l])*i8(qg[l]) + int32(ag[l+8])*i8(qg[l+8]))
		}
	}
}

// addLanes scales each integer lane by d into its float32 sum.
func addLanes(sums *[8]float32, aux *[8]int32, d float32) {
	for l, v := range aux {
		sums[l] += float32(d * float32(v))
	}
}

// finish adds the eight lane sums to sum in lane order.
func finish(sum float32, sums *[8]float32) float32 {
	for _, v := range sums {
		sum += v
	}
	return sum
}

// dotQ2K sums (dy·d)·Σ (sc&15)·Σ q·qy − (dy·dmin)·Σ (sc>>4)·bsum over the super-blocks.
func dotQ2K(row, act []byte, nb int) float32 {
	var sum float32
	for i := 0; i < nb; i++ {
		x := row[i*q2KBytes:][:q2KBytes]
		y := loadQ8K(act, i)
		scales, qs := x[:QKK/16], x[QKK/16:][:QKK/4]
		var summs, isum int32
		for g, sc := range scales {
			summs += y.bsum(g) * int32(sc>>4)
			q := qs[32*(g/8)+16*(g%2):][:16]
			qy := y.qs[16*g:][:16]
			shift := uint(g%8/2) * 2
			var s int32
			for l, b := range q {
				s += i8(qy[l]) * int32(b>>shift&3)
			}
			isum += int32(sc&0x0f) * s
		}
		dall := float32(y.d * F16ToF32(le.Uint16(x[80:])))
		dmin := float32(y.d * F16ToF32(le.Uint16(x[82:])))
		sum += float32(float32(dall*float32(isum)) - float32(dmin*float32(summs)))
	}
	return sum
}

// dotQ3K accumulates (d·dy)·Σ (s−32)·q·qy in eight lanes, q the signed 3-bit quant.
func dotQ3K(row, act []byte, nb int) float32 {
	var sums [8]float32
	var a [QKK]int8
	for i := 0; i < nb; i++ {
		x := row[i*q3KBytes:][:q3KBytes]
		y := loadQ8K(act, i)
		hm, qs := x[:QKK/8], x[QKK/8:][:QKK/4]
		for e := 0; e < QKK; e += 32 { // e/32 picks the bit pair and the high bit
			q, out := qs[32*(e/128):][:32], a[e:][:32]
			shift, hb := uint(e%128/32)*2, uint(e/32)
			for l, b := range q {
				// q − 4 where the high bit is clear, without a branch.
				out[l] = int8(b>>shift&3) - int8(^hm[l]>>hb&1)<<2
			}
		}
		sc := ScalesQ3K((*[12]uint8)(x[QKK/8+QKK/4:]))
		var aux [8]int32
		lanes(&aux, &a, y.qs, &sc)
		addLanes(&sums, &aux, float32(F16ToF32(le.Uint16(x[108:]))*y.d))
	}
	return finish(0, &sums)
}

// dotQ4K accumulates (d·dy)·Σ sc·q·qy in eight lanes and subtracts (dmin·dy)·Σ m·bsum per
// super-block.
func dotQ4K(row, act []byte, nb int) float32 {
	var sums [8]float32
	var a [QKK]int8
	var sum float32
	for i := 0; i < nb; i++ {
		x := row[i*q4KBytes:][:q4KBytes]
		y := loadQ8K(act, i)
		qs := x[16:][:QKK/2]
		for k := 0; k < QKK/64; k++ {
			lo, hi := a[64*k:][:32], a[64*k+32:][:32]
			for l, b := range qs[32*k:][:32] {
				lo[l], hi[l] = int8(b&0x0f), int8(b>>4)
			}
		}
		sum = kScaled(sum, &sums, &a, x, &y)
	}
	return finish(sum, &sums)
}

// dotQ5K is dotQ4K with 16 added to the quants whose fifth bit is set.
func dotQ5K(row, act []byte, nb int) float32 {
	var sums [8]float32
	var a [QKK]int8
	var sum float32
	for i := 0; i < nb; i++ {
		x := row[i*q5KBytes:][:q5KBytes]
		y := loadQ8K(act, i)
		qh, qs := x[16:][:QKK/8], x[48:][:QKK/2]
		for k := 0; k < QKK/64; k++ {
			lo, hi := a[64*k:][:32], a[64*k+32:][:32]
			m0, m1 := uint8(1)<<(2*k), uint8(2)<<(2*k)
			for l, b := range qs[32*k:][:32] {
				v0, v1 := b&0x0f, b>>4
				if qh[l]&m0 != 0 {
					v0 |= 0x10
				}
				if qh[l]&m1 != 0 {
					v1 |= 0x10
				}
				lo[l], hi[l] = int8(v0), int8(v1)
			}
		}
		sum = kScaled(sum, &sums, &a, x, &y)
	}
	return finish(sum, &sums)
}

// kScaled is the common tail of Q4_K and Q5_K for one super-block x with unpacked quants a: it
// adds the scaled lanes to sums and returns sum − (dmin·dy)·Σ m·bsum.
func kScaled(sum float32, sums *[8]float32, a *[QKK]int8, x []byte, y *q8K) float32 {
	packed := (*[12]uint8)(x[4:16])
	var sc [QKK / 16]int32
	var summs int32
	for g := 0; g < QKK/32; g++ {
		s, m := ScaleMinK4(g, packed)
		sc[2*g], sc[2*g+1] = int32(s), int32(s)
		summs += (y.bsum(2*g) + y.bsum(2*g+1)) * int32(m)
	}
	var aux [8]int32
	lanes(&aux, a, y.qs, &sc)
	addLanes(sums, &aux, float32(F16ToF32(le.Uint16(x))*y.d))
	dmin := float32(F16ToF32(le.Uint16(x[2:])) * y.d)
	return sum - float32(dmin*float32(summs))
}

// dotQ6K accumulates (d·dy)·Σ sc·(q−32)·qy in eight lanes, sc the signed 8-bit group scale.
func dotQ6K(row, act []byte, nb int) float32 {
	var sums [8]float32
	var a [QKK]int8
	for i := 0; i < nb; i++ {
		x := row[i*q6KBytes:][:q6KBytes]
		y := loadQ8K(act, i)
		for n := 0; n < 2; n++ {
			ql, qh := x[64*n:][:64], x[QKK/2+32*n:][:32]
			out := a[128*n:][:128]
			for l, h := range qh {
				out[l] = int8(ql[l]&0x0f|(h&3)<<4) - 32
				out[l+32] = int8(ql[l+32]&0x0f|(h>>2&3)<<4) - 32
				out[l+64] = int8(ql[l]>>4|(h>>4&3)<<4) - 32
				out[l+96] = int8(ql[l+32]>>4|(h>>6&3)<<4) - 32
			}
		}
		var sc [QKK / 16]int32
		for g, s := range x[QKK/2+QKK/4:][:QKK/16] {
			sc[g] = i8(s)
		}
		var aux [8]int32
		lanes(&aux, &a, y.qs, &sc)
		addLanes(&sums, &aux, float32(F16ToF32(le.Uint16(x[208:]))*y.d))
	}
	return finish(0, &sums)
}
