//go:build goexperiment.simd && amd64

package kernels

import "simd/archsimd"

// Only 256-bit values stay live across the scalar scale conversions (the compiler spills
// 128-bit values with legacy SSE moves, slow between 256-bit instructions), and the scales
// are converted in integer arithmetic (f16BitsNormal).

// sum8 gathers the 32-bit sums of eight vectors: lane k of the result is the sum of the
// lanes of v[k] (exact integer additions).
func sum8(v0, v1, v2, v3, v4, v5, v6, v7 archsimd.Int32x8) archsimd.Int32x8 {
	u0 := v0.ConcatAddPairsGrouped(v1).ConcatAddPairsGrouped(v2.ConcatAddPairsGrouped(v3))
	u1 := v4.ConcatAddPairsGrouped(v5).ConcatAddPairsGrouped(v6.ConcatAddPairsGrouped(v7))
	return u0.ConcatPermute128Scalars(0, 2, u1).Add(u0.ConcatPermute128Scalars(1, 3, u1))
}

// blockScales8 returns the float32 bits of the scales of block b of eight rows (rb bytes
// each, blocks of bs bytes) starting at w, as one vector.
func blockScales8(w []byte, rb, bs, b int) archsimd.Float32x8 {
	var d [8]uint32
	o := b * bs
	for k := range d {
		h := uint32(w[k*rb+o]) | uint32(w[k*rb+o+1])<<8
		v, ok := f16BitsNormal(h)
		if !ok {
			v = f16BitsRare(h)
		}
		d[k] = v
	}
	return archsimd.LoadUint32x8Array(&d).AsFloat32x8()
}

// actScale returns the scale of activation block b, broadcast.
func actScale(act []byte, b int) archsimd.Float32x8 {
	h := uint32(act[b*q8_0Bytes]) | uint32(act[b*q8_0Bytes+1])<<8
	v, ok := f16BitsNormal(h)
	if !ok {
		v = f16BitsRare(h)
	}
	return archsimd.BroadcastUint32x8(v).AsFloat32x8()
}

// dotQ8x32 returns the products of the signed bytes x and y summed in pairs into eight 32-bit
// sums: |x| (unsigned) times y with x's sign, added in pairs to 16 bits (at most 2·128·127,
// no saturation: activations lie in −127…127), then in pairs to 32 bits.
func dotQ8x32(x, y archsimd.Int8x32, ones archsimd.Int16x16) archsimd.Int32x8 {
	return x.Abs().AsUint8x32().DotProductPairsSaturated(y.MulSign(x)).DotProductPairs(ones)
}

// vecDotRowsQ8_0SIMD computes VecDotRows for Q8_0 rows in groups of eight and returns how
// many rows it did: per row, sum += float32(s)·(dx·dy) block after block.
func vecDotRowsQ8_0SIMD(dst []float32, w, act []byte, nb int) int {
	rb := nb * q8_0Bytes
	n8 := len(dst) &^ 7
	ones := archsimd.BroadcastInt16x16(1)
	for r := 0; r < n8; r += 8 {
		g := w[r*rb : (r+8)*rb]
		sum := archsimd.Float32x8{}
		for b := 0; b < nb; b++ {
			dx := blockScales8(g, rb, q8_0Bytes, b)
			dy := actScale(act, b)
			o := b*q8_0Bytes + 2
			y := archsimd.LoadUint8x32Array((*[32]uint8)(act[o : o+32])).AsInt8x32()
			ld := func(k int) archsimd.Int8x32 {
				return archsimd.LoadUint8x32Array((*[32]uint8)(g[k*rb+o : k*rb+o+32])).AsInt8x32()
			}
			s := sum8(dotQ8x32(ld(0), y, ones), dotQ8x32(ld(1), y, ones), dotQ8x32(ld(2), y, ones), dotQ8x32(ld(3), y, ones),
				dotQ8x32(ld(4), y, ones), dotQ8x32(ld(5), y, ones), dotQ8x32(ld(6), y, ones), dotQ8x32(ld(7), y, ones))
			sum = sum.Add(s.ConvertToFloat32().Mul(dx.Mul(dy)))
		}
		sum.StoreArray((*[8]float32)(dst[r : r+8]))
	}
	archsimd.ClearAVXUpperBits()
	return n8
}

// vecDotRowsQ4_0SIMD computes VecDotRows for Q4_0 rows in groups of eight and returns how
// many rows it did: per row, sum += (float32(s)·dx)·dy block after block, with
// s = Σ (q−8)·y = Σ q·y − 8·Σ y (q the nibbles 0…15, products of unsigned q with signed y).
func vecDotRowsQ4_0SIMD(dst []float32, w, act []byte, nb int) int {
	rb := nb * q4_0Bytes
	n8 := len(dst) &^ 7
	ones := archsimd.BroadcastInt16x16(1)
	ones8 := archsimd.BroadcastUint8x32(1)
	mask := archsimd.BroadcastUint8x32(0x0f)
	for r := 0; r < n8; r += 8 {
		g := w[r*rb : (r+8)*rb]
		sum := archsimd.Float32x8{}
		for b := 0; b < nb; b++ {
			dx := blockScales8(g, rb, q4_0Bytes, b)
			dy := actScale(act, b)
			oy := b*q8_0Bytes + 2
			y := archsimd.LoadUint8x32Array((*[32]uint8)(act[oy : oy+32])).AsInt8x32()
			// 8·Σ y in every lane: the pair sums of 1·y, to 32 bits, gathered below like a row.
			sy := ones8.DotProductPairsSaturated(y).DotProductPairs(ones)
			o := b*q4_0Bytes + 2
			ld := func(k int) archsimd.Int32x8 {
				// Bytes j < 16: low nibbles (elements 0…15); bytes 16…31: high nibbles.
				v := archsimd.LoadUint8x16Array((*[16]uint8)(g[k*rb+o : k*rb+o+16]))
				q := archsimd.Uint8x32{}.SetLo(v).SetHi(v.AsUint16x8().ShiftAllRight(4).AsUint8x16()).And(mask)
				return q.DotProductPairsSaturated(y).DotProductPairs(ones)
			}
			s := sum8(ld(0), ld(1), ld(2), ld(3), ld(4), ld(5), ld(6), ld(7))
			t := sum8(sy, sy, sy, sy, sy, sy, sy, sy)
			s = s.Sub(t.ShiftAllLeft(3))
			sum = sum.Add(s.ConvertToFloat32().Mul(dx).Mul(dy))
		}
		sum.StoreArray((*[8]float32)(dst[r : r+8]))
	}
	archsimd.ClearAVXUpperBits()
	return n8
}
