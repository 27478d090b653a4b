//go:build goexperiment.simd

package kernels

import (
	"simd/archsimd"

	"github.com/attnscope/attnscope/engine/quant"
)

// In WebAssembly a packed block holds two halves of four rows, interleaved four bytes at a
// time (see qOffset): a 16-byte piece holds quants 4p…4p+3 of rows 0…3 of its half, byte
// 4k+i being row i's quant 4p+k. The activations are spread to match (byte 4k+i takes
// activation 4p+k, a swizzle), the byte products widened to 16 bits (at most 128·128, which
// fits) and then to 32 bits land in lanes that are rows, and a block's four row sums are one
// vector: no horizontal sums and no half-precision conversions (the scales come from the
// table), where VecDot takes both per row and block.

// Halves of four rows interleaved (see qOffset).
const packInterleave = true

// packedIntOn: the integer products below run when the quantized kernels are on; the float
// products of packed rows run their plain versions.
func packedIntOn() bool   { return quantSIMD }
func packedFloatOn() bool { return false }

func matVecQLanesPackedSIMD(p *Packed, dst []float32, g0, g1 int, x []float32) {}
func dequantPackedBlock(t quant.Type, y []float32, q []byte, d uint32) bool    { return false }

// spread holds the swizzle indices that repeat activations 4u…4u+3 of a 16-byte piece four
// times each: byte 4k+i of the result is activation 4u+k.
var spread = func() (s [4][16]int8) {
	for u := range s {
		for b := range s[u] {
			s[u][b] = int8(4*u + b/4)
		}
	}
	return
}()

// rowSums4 adds the products of the 16 signed bytes w (four quants of four rows, interleaved)
// and y (the matching activations) into acc, lane i being row i. Lane i of both 16-bit halves
// is row i mod 4, so they are added in 16 bits first: two products of at most 128·127 each
// (activations lie in −127…127) fit.
func rowSums4(acc archsimd.Int32x4, w, y archsimd.Int8x16) archsimd.Int32x4 {
	s := w.MulWidenLo(y).Add(w.MulWidenHi(y))
	return acc.Add(s.ExtendLo4ToInt32()).Add(s.ExtendHi4ToInt32())
}

// nibSums adds the products of w (nibbles, 0…15) and y into the 16-bit sums s, lane i being
// row i mod 4: a Q4_0 half block adds 16 products of at most 15·128 to a lane, which fits.
func nibSums(s archsimd.Int16x8, w, y archsimd.Int8x16) archsimd.Int16x8 {
	return s.Add(w.MulWidenLo(y)).Add(w.MulWidenHi(y))
}

// vecDotRowsPackedSIMD computes VecDotRowsPacked for groups g0 … g1−1 into dst (eight rows a
// group): per row, as vecDotQ8_0SIMD and vecDotQ4_0SIMD, sum += float32(s)·(dx·dy) (Q8_0) or
// (float32(s)·dx)·dy (Q4_0) block after block, four rows a vector.
func vecDotRowsPackedSIMD(p *Packed, dst []float32, g0, g1 int, act []byte, as []uint32) {
	if p.Type == quant.Q8_0 {
		vecDotRowsPackedQ8_0(p, dst, g0, g1, act, as)
		return
	}
	for t := g0; t < g1; t += tileGroups {
		vecDotRowsPackedTile(p, dst[(t-g0)*PackRows:], t, min(t+tileGroups, g1), act, as)
	}
}

// tileGroups is the most groups vecDotRowsPackedTile takes.
//
// For Q4_0, blocks run outside and up to tileGroups groups inside (vecDotRowsPackedTile), so
// that each block's activations are spread and summed once for all of them, not once per
// group; the groups' sums wait in memory. For Q8_0 that order was slower in decoding (a block
// of sixteen groups at a time reads the matrix as sixteen streams: s110m tg 21 against 28
// tok/s in Node), so Q8_0 keeps a group's blocks in a row (vecDotRowsPackedQ8_0).
const tileGroups = 16

// vecDotRowsPackedTile is vecDotRowsPackedSIMD for at most tileGroups groups, blocks outside:
// for Q4_0 always, for Q8_0 from the tile kernel (a prompt's products) only.
func vecDotRowsPackedTile(p *Packed, dst []float32, g0, g1 int, act []byte, as []uint32) {
	nb := p.nb
	s0 := archsimd.LoadInt8x16Array(&spread[0])
	s1 := archsimd.LoadInt8x16Array(&spread[1])
	s2 := archsimd.LoadInt8x16Array(&spread[2])
	s3 := archsimd.LoadInt8x16Array(&spread[3])
	mask := archsimd.BroadcastUint8x16(0x0f)
	q4 := p.Type == quant.Q4_0
	gb := PackRows * p.bq // bytes of a group's block
	sc := as[:nb]
	var sums [tileGroups][2]archsimd.Float32x4 // rows 0…3 and 4…7 of each group
	ng := g1 - g0
	for b := 0; b < nb; b++ {
		x := (*[q8_0Bytes]uint8)(act)
		a := (*[32]uint8)(x[2:])
		act = act[q8_0Bytes:]
		y0 := archsimd.LoadUint8x16Array((*[16]uint8)(a[0:16])).BitsToInt8()
		y1 := archsimd.LoadUint8x16Array((*[16]uint8)(a[16:32])).BitsToInt8()
		// Activations 4u…4u+3 spread: r[u] from the first half, r[4+u] from the second.
		r0, r1, r2, r3 := y0.LookupOrZero(s0), y0.LookupOrZero(s1), y0.LookupOrZero(s2), y0.LookupOrZero(s3)
		r4, r5, r6, r7 := y1.LookupOrZero(s0), y1.LookupOrZero(s1), y1.LookupOrZero(s2), y1.LookupOrZero(s3)
		dy := archsimd.BroadcastUint32x4(sc[b]).BitsToFloat32()
		var off archsimd.Int32x4
		if q4 {
			// Nibbles are used as they are (0…15): Σ (q−8)·y = Σ q·y − 8·Σ y.
			t := y0.ExtendLo8ToInt16().Add(y0.ExtendHi8ToInt16()).Add(y1.ExtendLo8ToInt16()).Add(y1.ExtendHi8ToInt16())
			u := t.ExtendLo4ToInt32().Add(t.ExtendHi4ToInt32())
			off = archsimd.BroadcastInt32x4(8 * (u.GetElem(0) + u.GetElem(1) + u.GetElem(2) + u.GetElem(3)))
		}
		for k := 0; k < ng; k++ {
			i := (g0+k)*nb + b // the group's block b
			ds := (*[8]uint32)(p.d[i*PackRows:])
			dx0 := archsimd.LoadUint32x4Array((*[4]uint32)(ds[0:4])).BitsToFloat32()
			dx1 := archsimd.LoadUint32x4Array((*[4]uint32)(ds[4:8])).BitsToFloat32()
			sum := &sums[k]
			if !q4 {
				blk := (*[256]uint8)(p.q[i*gb:])
				ld := func(o int) archsimd.Int8x16 {
					return archsimd.LoadUint8x16Array((*[16]uint8)(blk[o : o+16])).BitsToInt8()
				}
				var acc0, acc1 archsimd.Int32x4
				acc0 = rowSums4(acc0, ld(0), r0)
				acc0 = rowSums4(acc0, ld(16), r1)
				acc0 = rowSums4(acc0, ld(32), r2)
				acc0 = rowSums4(acc0, ld(48), r3)
				acc0 = rowSums4(acc0, ld(64), r4)
				acc0 = rowSums4(acc0, ld(80), r5)
				acc0 = rowSums4(acc0, ld(96), r6)
				acc0 = rowSums4(acc0, ld(112), r7)
				acc1 = rowSums4(acc1, ld(128), r0)
				acc1 = rowSums4(acc1, ld(144), r1)
				acc1 = rowSums4(acc1, ld(160), r2)
				acc1 = rowSums4(acc1, ld(176), r3)
				acc1 = rowSums4(acc1, ld(192), r4)
				acc1 = rowSums4(acc1, ld(208), r5)
				acc1 = rowSums4(acc1, ld(224), r6)
				acc1 = rowSums4(acc1, ld(240), r7)
				sum[0] = sum[0].Add(acc0.ConvertToFloat32().Mul(dx0.Mul(dy)))
				sum[1] = sum[1].Add(acc1.ConvertToFloat32().Mul(dx1.Mul(dy)))
				continue
			}
			// Q4_0: byte j of a row's block holds elements j (low nibble) and j+16 (high), so a
			// piece's low nibbles meet r[u] and its high nibbles r[4+u].
			blk := (*[128]uint8)(p.q[i*gb:])
			nib := func(s archsimd.Int16x8, o int, lo, hi archsimd.Int8x16) archsimd.Int16x8 {
				v := archsimd.LoadUint8x16Array((*[16]uint8)(blk[o : o+16]))
				s = nibSums(s, v.And(mask).BitsToInt8(), lo)
				return nibSums(s, v.ShiftAllRight(4).BitsToInt8(), hi)
			}
			var h0, h1 archsimd.Int16x8
			h0 = nib(h0, 0, r0, r4)
			h0 = nib(h0, 16, r1, r5)
			h0 = nib(h0, 32, r2, r6)
			h0 = nib(h0, 48, r3, r7)
			h1 = nib(h1, 64, r0, r4)
			h1 = nib(h1, 80, r1, r5)
			h1 = nib(h1, 96, r2, r6)
			h1 = nib(h1, 112, r3, r7)
			acc0 := h0.ExtendLo4ToInt32().Add(h0.ExtendHi4ToInt32()).Sub(off)
			acc1 := h1.ExtendLo4ToInt32().Add(h1.ExtendHi4ToInt32()).Sub(off)
			sum[0] = sum[0].Add(acc0.ConvertToFloat32().Mul(dx0).Mul(dy))
			sum[1] = sum[1].Add(acc1.ConvertToFloat32().Mul(dx1).Mul(dy))
		}
	}
	for k := 0; k < ng; k++ {
		o := (*[8]float32)(dst[k*PackRows:])
		sums[k][0].StoreArray((*[4]float32)(o[0:4]))
		sums[k][1].StoreArray((*[4]float32)(o[4:8]))
	}
}

// vecDotRowsPackedQ8_0 is vecDotRowsPackedSIMD for Q8_0: group after group, each group's
// blocks in a row.
func vecDotRowsPackedQ8_0(p *Packed, dst []float32, g0, g1 int, act []byte, as []uint32) {
	nb := p.nb
	s0 := archsimd.LoadInt8x16Array(&spread[0])
	s1 := archsimd.LoadInt8x16Array(&spread[1])
	s2 := archsimd.LoadInt8x16Array(&spread[2])
	s3 := archsimd.LoadInt8x16Array(&spread[3])
	gb := PackRows * p.bq // bytes of a group's block
	sc := as[:nb]
	for g := g0; g < g1; g++ {
		// Slices walk a block at a time: one length comparison per block and slice (indexing
		// b·256 into them cost as much as the products).
		qg := p.q[g*nb*gb:][:nb*gb]
		dg := p.d[g*nb*PackRows:][:nb*PackRows]
		act := act
		var sum0, sum1 archsimd.Float32x4 // rows 0…3 and 4…7
		for b := 0; b < nb; b++ {
			x := (*[q8_0Bytes]uint8)(act)
			a := (*[32]uint8)(x[2:])
			act = act[q8_0Bytes:]
			y0 := archsimd.LoadUint8x16Array((*[16]uint8)(a[0:16])).BitsToInt8()
			y1 := archsimd.LoadUint8x16Array((*[16]uint8)(a[16:32])).BitsToInt8()
			// Activations 4u…4u+3 spread: r[u] from the first half, r[4+u] from the second.
			r0, r1, r2, r3 := y0.LookupOrZero(s0), y0.LookupOrZero(s1), y0.LookupOrZero(s2), y0.LookupOrZero(s3)
			r4, r5, r6, r7 := y1.LookupOrZero(s0), y1.LookupOrZero(s1), y1.LookupOrZero(s2), y1.LookupOrZero(s3)
			dy := archsimd.BroadcastUint32x4(sc[b]).BitsToFloat32()
			ds := (*[8]uint32)(dg)
			dg = dg[PackRows:]
			dx0 := archsimd.LoadUint32x4Array((*[4]uint32)(ds[0:4])).BitsToFloat32()
			dx1 := archsimd.LoadUint32x4Array((*[4]uint32)(ds[4:8])).BitsToFloat32()
			var acc0, acc1 archsimd.Int32x4
			blk := (*[256]uint8)(qg)
			qg = qg[256:]
			ld := func(o int) archsimd.Int8x16 {
				return archsimd.LoadUint8x16Array((*[16]uint8)(blk[o : o+16])).BitsToInt8()
			}
			acc0 = rowSums4(acc0, ld(0), r0)
			acc0 = rowSums4(acc0, ld(16), r1)
			acc0 = rowSums4(acc0, ld(32), r2)
			acc0 = rowSums4(acc0, ld(48), r3)
			acc0 = rowSums4(acc0, ld(64), r4)
			acc0 = rowSums4(acc0, ld(80), r5)
			acc0 = rowSums4(acc0, ld(96), r6)
			acc0 = rowSums4(acc0, ld(112), r7)
			acc1 = rowSums4(acc1, ld(128), r0)
			acc1 = rowSums4(acc1, ld(144), r1)
			acc1 = rowSums4(acc1, ld(160), r2)
			acc1 = rowSums4(acc1, ld(176), r3)
			acc1 = rowSums4(acc1, ld(192), r4)
			acc1 = rowSums4(acc1, ld(208), r5)
			acc1 = rowSums4(acc1, ld(224), r6)
			acc1 = rowSums4(acc1, ld(240), r7)
			sum0 = sum0.Add(acc0.ConvertToFloat32().Mul(dx0.Mul(dy)))
			sum1 = sum1.Add(acc1.ConvertToFloat32().Mul(dx1.Mul(dy)))
		}
		o := (*[8]float32)(dst[(g-g0)*8:])
		sum0.StoreArray((*[4]float32)(o[0:4]))
		sum1.StoreArray((*[4]float32)(o[4:8]))
	}
}

// No two-input kernel here (VecDotRowsPacked2 runs the one-input kernel twice).
func pairKernel(t quant.Type) bool { return false }
func vecDotRowsPacked2SIMD(p *Packed, dst0, dst1 []float32, g0, g1 int, act0, act1 []byte, as0, as1 []uint32) {
}
