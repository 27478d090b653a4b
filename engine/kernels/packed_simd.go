//go:build goexperiment.simd && amd64

package kernels

import (
	"simd/archsimd"

	"github.com/attnscope/attnscope/engine/quant"
)

// The packed kernels read a group's block as one array (one bounds check, constant offsets
// after it) and its eight scales as one vector. Without bounds checks between them the
// compiler hoists loads to the top of a block; 128-bit and scalar float values that then stay
// live are spilled with legacy SSE moves, and scalar float loads are legacy SSE too, all very
// slow between 256-bit instructions. So 128-bit loads are widened at once, and scales are kept
// as float32 bits and broadcast from integer registers.

// Rows after rows within a block (see qOffset).
const packInterleave = false

// packedIntOn and packedFloatOn say whether the packed integer and float products run on
// vectors now (AVX2 or AVX-512, and for the integer ones the quantized kernels switched on).
func packedIntOn() bool   { return quantSIMD && (simdLevel == simdAVX2 || simdLevel == simdAVX512) }
func packedFloatOn() bool { return simdLevel == simdAVX2 || simdLevel == simdAVX512 }

// vecDotRowsPackedSIMD computes VecDotRowsPacked for groups g0 … g1−1 into dst (eight rows a
// group): the eight rows' integer block sums as in vecDotRowsQ8_0SIMD, one row per lane.
func vecDotRowsPackedSIMD(p *Packed, dst []float32, g0, g1 int, act []byte, as []uint32) {
	if p.Type == quant.Q8_0 {
		vecDotRowsPackedQ8_0(p, dst, g0, g1, act, as)
	} else {
		vecDotRowsPackedQ4_0(p, dst, g0, g1, act, as)
	}
	archsimd.ClearAVXUpperBits()
}

// The Q8_0 kernels below spell their products out instead of calling small helpers (such as
// dotQ8x32 and sum8): an inlined call on a line that has no instruction of its own leaves its
// inline mark behind as a one-byte NOP, executed with the loop, 26–30 of them a block here
// (5–7% of the two-input kernel's time, measured). Intrinsics leave no marks.

// The one-input kernels read two groups at a time, one from each half of the range, a block of
// each in turn, so that the matrix is read as two streams far apart: one core fetches two
// streams from memory faster than one. Measured in alternating runs: twelve 12288×768 Q8_0
// matrices, none in the caches, 15.1 GB/s as one stream, 19.2 as two, 21.6 as four (in the
// caches 35, 35 and 32 GB/s); decoding s110m Q8_0 on one thread 95–109 tok/s with one stream,
// 120–126 with two, 121–123 with four.
//
// halves is the number of steps that walk groups g0 … g1−1 two at a time, one from each half;
// halfPair returns the groups of step i: ga in the first half and gb in the second, or the
// range's last group again when the range is odd (computed twice, the same sums).
func halves(g0, g1 int) int { return (g1 - g0 + 1) / 2 }

func halfPair(g0, g1, half, i int) (ga, gb int) { return g0 + i, min(g0+i+half, g1-1) }

func vecDotRowsPackedQ8_0(p *Packed, dst []float32, g0, g1 int, act []byte, as []uint32) {
	nb := p.nb
	ones := archsimd.BroadcastInt16x16(1)
	sc := as[:nb]
	half := halves(g0, g1)
	for i := 0; i < half; i++ {
		ga, gb := halfPair(g0, g1, half, i)
		// Slices walk a block at a time (see vecDotRowsPackedQ8_0x2).
		qa, qb := p.q[ga*nb*256:][:nb*256], p.q[gb*nb*256:][:nb*256]
		da, db := p.d[ga*nb*8:][:nb*8], p.d[gb*nb*8:][:nb*8]
		a := act
		sa, sb := archsimd.Float32x8{}, archsimd.Float32x8{}
		for b := 0; b < nb; b++ {
			x := (*[q8_0Bytes]byte)(a)
			dy := archsimd.BroadcastUint32x8(sc[b]).AsFloat32x8()
			y := archsimd.LoadUint8x32Array((*[32]uint8)(x[2:])).AsInt8x32()
			// Group a, row k: |w| times y with w's sign (dotQ8x32), then the eight rows'
			// lanes added up as sum8 does.
			blk := (*[256]byte)(qa)
			w0 := archsimd.LoadUint8x32Array((*[32]uint8)(blk[0:32])).AsInt8x32()
			w1 := archsimd.LoadUint8x32Array((*[32]uint8)(blk[32:64])).AsInt8x32()
			c0 := w0.Abs().AsUint8x32().DotProductPairsSaturated(y.MulSign(w0)).DotProductPairs(ones)
			c1 := w1.Abs().AsUint8x32().DotProductPairsSaturated(y.MulSign(w1)).DotProductPairs(ones)
			p01 := c0.InterleaveLoGrouped(c1).Add(c0.InterleaveHiGrouped(c1))
			w2 := archsimd.LoadUint8x32Array((*[32]uint8)(blk[64:96])).AsInt8x32()
			w3 := archsimd.LoadUint8x32Array((*[32]uint8)(blk[96:128])).AsInt8x32()
			c2 := w2.Abs().AsUint8x32().DotProductPairsSaturated(y.MulSign(w2)).DotProductPairs(ones)
			c3 := w3.Abs().AsUint8x32().DotProductPairsSaturated(y.MulSign(w3)).DotProductPairs(ones)
			p23 := c2.InterleaveLoGrouped(c3).Add(c2.InterleaveHiGrouped(c3))
			q0 := p01.AsInt64x4().InterleaveLoGrouped(p23.AsInt64x4()).AsInt32x8().Add(p01.AsInt64x4().InterleaveHiGrouped(p23.AsInt64x4()).AsInt32x8())
			w4 := archsimd.LoadUint8x32Array((*[32]uint8)(blk[128:160])).AsInt8x32()
			w5 := archsimd.LoadUint8x32Array((*[32]uint8)(blk[160:192])).AsInt8x32()
			c4 := w4.Abs().AsUint8x32().DotProductPairsSaturated(y.MulSign(w4)).DotProductPairs(ones)
			c5 := w5.Abs().AsUint8x32().DotProductPairsSaturated(y.MulSign(w5)).DotProductPairs(ones)
			p45 := c4.InterleaveLoGrouped(c5).Add(c4.InterleaveHiGrouped(c5))
			w6 := archsimd.LoadUint8x32Array((*[32]uint8)(blk[192:224])).AsInt8x32()
			w7 := archsimd.LoadUint8x32Array((*[32]uint8)(blk[224:256])).AsInt8x32()
			c6 := w6.Abs().AsUint8x32().DotProductPairsSaturated(y.MulSign(w6)).DotProductPairs(ones)
			c7 := w7.Abs().AsUint8x32().DotProductPairsSaturated(y.MulSign(w7)).DotProductPairs(ones)
			p67 := c6.InterleaveLoGrouped(c7).Add(c6.InterleaveHiGrouped(c7))
			q1 := p45.AsInt64x4().InterleaveLoGrouped(p67.AsInt64x4()).AsInt32x8().Add(p45.AsInt64x4().InterleaveHiGrouped(p67.AsInt64x4()).AsInt32x8())
			s := q0.ConcatPermute128Scalars(0, 2, q1).Add(q0.ConcatPermute128Scalars(1, 3, q1))
			dx := archsimd.LoadUint32x8Array((*[8]uint32)(da)).AsFloat32x8()
			sa = sa.Add(s.ConvertToFloat32().Mul(dx.Mul(dy)))
			// Group b the same way.
			blk = (*[256]byte)(qb)
			w0 = archsimd.LoadUint8x32Array((*[32]uint8)(blk[0:32])).AsInt8x32()
			w1 = archsimd.LoadUint8x32Array((*[32]uint8)(blk[32:64])).AsInt8x32()
			c0 = w0.Abs().AsUint8x32().DotProductPairsSaturated(y.MulSign(w0)).DotProductPairs(ones)
			c1 = w1.Abs().AsUint8x32().DotProductPairsSaturated(y.MulSign(w1)).DotProductPairs(ones)
			p01 = c0.InterleaveLoGrouped(c1).Add(c0.InterleaveHiGrouped(c1))
			w2 = archsimd.LoadUint8x32Array((*[32]uint8)(blk[64:96])).AsInt8x32()
			w3 = archsimd.LoadUint8x32Array((*[32]uint8)(blk[96:128])).AsInt8x32()
			c2 = w2.Abs().AsUint8x32().DotProductPairsSaturated(y.MulSign(w2)).DotProductPairs(ones)
			c3 = w3.Abs().AsUint8x32().DotProductPairsSaturated(y.MulSign(w3)).DotProductPairs(ones)
			p23 = c2.InterleaveLoGrouped(c3).Add(c2.InterleaveHiGrouped(c3))
			q0 = p01.AsInt64x4().InterleaveLoGrouped(p23.AsInt64x4()).AsInt32x8().Add(p01.AsInt64x4().InterleaveHiGrouped(p23.AsInt64x4()).AsInt32x8())
			w4 = archsimd.LoadUint8x32Array((*[32]uint8)(blk[128:160])).AsInt8x32()
			w5 = archsimd.LoadUint8x32Array((*[32]uint8)(blk[160:192])).AsInt8x32()
			c4 = w4.Abs().AsUint8x32().DotProductPairsSaturated(y.MulSign(w4)).DotProductPairs(ones)
			c5 = w5.Abs().AsUint8x32().DotProductPairsSaturated(y.MulSign(w5)).DotProductPairs(ones)
			p45 = c4.InterleaveLoGrouped(c5).Add(c4.InterleaveHiGrouped(c5))
			w6 = archsimd.LoadUint8x32Array((*[32]uint8)(blk[192:224])).AsInt8x32()
			w7 = archsimd.LoadUint8x32Array((*[32]uint8)(blk[224:256])).AsInt8x32()
			c6 = w6.Abs().AsUint8x32().DotProductPairsSaturated(y.MulSign(w6)).DotProductPairs(ones)
			c7 = w7.Abs().AsUint8x32().DotProductPairsSaturated(y.MulSign(w7)).DotProductPairs(ones)
			p67 = c6.InterleaveLoGrouped(c7).Add(c6.InterleaveHiGrouped(c7))
			q1 = p45.AsInt64x4().InterleaveLoGrouped(p67.AsInt64x4()).AsInt32x8().Add(p45.AsInt64x4().InterleaveHiGrouped(p67.AsInt64x4()).AsInt32x8())
			s = q0.ConcatPermute128Scalars(0, 2, q1).Add(q0.ConcatPermute128Scalars(1, 3, q1))
			dx = archsimd.LoadUint32x8Array((*[8]uint32)(db)).AsFloat32x8()
			sb = sb.Add(s.ConvertToFloat32().Mul(dx.Mul(dy)))
			qa, qb, da, db, a = qa[256:], qb[256:], da[8:], db[8:], a[q8_0Bytes:]
		}
		sa.StoreArray((*[8]float32)(dst[(ga-g0)*8:]))
		sb.StoreArray((*[8]float32)(dst[(gb-g0)*8:]))
	}
}

// pairKernel says whether vecDotRowsPacked2SIMD takes type t: Q8_0. For Q4_0 the one-input
// kernel twice was faster than a two-input one (which kept too many vectors for the registers).
func pairKernel(t quant.Type) bool { return t == quant.Q8_0 }

// vecDotRowsPacked2SIMD computes VecDotRowsPacked2 for groups g0 … g1−1 (Q8_0).
func vecDotRowsPacked2SIMD(p *Packed, dst0, dst1 []float32, g0, g1 int, act0, act1 []byte, as0, as1 []uint32) {
	vecDotRowsPackedQ8_0x2(p, dst0, dst1, g0, g1, act0, act1, as0, as1)
	archsimd.ClearAVXUpperBits()
}

// vecDotRowsPackedQ8_0x2 is vecDotRowsPackedQ8_0 for two inputs at once, the weights loaded and
// their magnitudes taken once for both.
func vecDotRowsPackedQ8_0x2(p *Packed, dst0, dst1 []float32, g0, g1 int, act0, act1 []byte, as0, as1 []uint32) {
	nb := p.nb
	ones := archsimd.BroadcastInt16x16(1)
	s0, s1 := as0[:nb], as1[:nb]
	for g := g0; g < g1; g++ {
		// Each slice walks a block at a time: one length comparison per block and slice
		// (indexing b·256 into a slice needed its multiplication, a comparison and a register
		// for each, spilled, a third of the loop).
		qg := p.q[g*nb*256:][:nb*256]
		dg := p.d[g*nb*8:][:nb*8]
		x0, x1 := act0, act1
		sum0, sum1 := archsimd.Float32x8{}, archsimd.Float32x8{}
		for b := 0; b < nb; b++ {
			blk := (*[256]byte)(qg)
			y0 := archsimd.LoadUint8x32Array((*[32]uint8)((*[q8_0Bytes]byte)(x0)[2:])).AsInt8x32()
			y1 := archsimd.LoadUint8x32Array((*[32]uint8)((*[q8_0Bytes]byte)(x1)[2:])).AsInt8x32()
			// Row k as in vecDotRowsPackedQ8_0 for both inputs (ak with y0, bk with y1), |w|
			// taken once; the rows' lanes added up in pairs as they come, so that few vectors
			// are live at a time.
			w0 := archsimd.LoadUint8x32Array((*[32]uint8)(blk[0:32])).AsInt8x32()
			m0 := w0.Abs().AsUint8x32()
			a0 := m0.DotProductPairsSaturated(y0.MulSign(w0)).DotProductPairs(ones)
			b0 := m0.DotProductPairsSaturated(y1.MulSign(w0)).DotProductPairs(ones)
			w1 := archsimd.LoadUint8x32Array((*[32]uint8)(blk[32:64])).AsInt8x32()
			m1 := w1.Abs().AsUint8x32()
			a1 := m1.DotProductPairsSaturated(y0.MulSign(w1)).DotProductPairs(ones)
			b1 := m1.DotProductPairsSaturated(y1.MulSign(w1)).DotProductPairs(ones)
			pa01 := a0.InterleaveLoGrouped(a1).Add(a0.InterleaveHiGrouped(a1))
			pb01 := b0.InterleaveLoGrouped(b1).Add(b0.InterleaveHiGrouped(b1))
			w2 := archsimd.LoadUint8x32Array((*[32]uint8)(blk[64:96])).AsInt8x32()
			m2 := w2.Abs().AsUint8x32()
			a2 := m2.DotProductPairsSaturated(y0.MulSign(w2)).DotProductPairs(ones)
			b2 := m2.DotProductPairsSaturated(y1.MulSign(w2)).DotProductPairs(ones)
			w3 := archsimd.LoadUint8x32Array((*[32]uint8)(blk[96:128])).AsInt8x32()
			m3 := w3.Abs().AsUint8x32()
			a3 := m3.DotProductPairsSaturated(y0.MulSign(w3)).DotProductPairs(ones)
			b3 := m3.DotProductPairsSaturated(y1.MulSign(w3)).DotProductPairs(ones)
			pa23 := a2.InterleaveLoGrouped(a3).Add(a2.InterleaveHiGrouped(a3))
			pb23 := b2.InterleaveLoGrouped(b3).Add(b2.InterleaveHiGrouped(b3))
			ua := pa01.AsInt64x4().InterleaveLoGrouped(pa23.AsInt64x4()).AsInt32x8().Add(pa01.AsInt64x4().InterleaveHiGrouped(pa23.AsInt64x4()).AsInt32x8())
			ub := pb01.AsInt64x4().InterleaveLoGrouped(pb23.AsInt64x4()).AsInt32x8().Add(pb01.AsInt64x4().InterleaveHiGrouped(pb23.AsInt64x4()).AsInt32x8())
			w4 := archsimd.LoadUint8x32Array((*[32]uint8)(blk[128:160])).AsInt8x32()
			m4 := w4.Abs().AsUint8x32()
			a4 := m4.DotProductPairsSaturated(y0.MulSign(w4)).DotProductPairs(ones)
			b4 := m4.DotProductPairsSaturated(y1.MulSign(w4)).DotProductPairs(ones)
			w5 := archsimd.LoadUint8x32Array((*[32]uint8)(blk[160:192])).AsInt8x32()
			m5 := w5.Abs().AsUint8x32()
			a5 := m5.DotProductPairsSaturated(y0.MulSign(w5)).DotProductPairs(ones)
			b5 := m5.DotProductPairsSaturated(y1.MulSign(w5)).DotProductPairs(ones)
			pa45 := a4.InterleaveLoGrouped(a5).Add(a4.InterleaveHiGrouped(a5))
			pb45 := b4.InterleaveLoGrouped(b5).Add(b4.InterleaveHiGrouped(b5))
			w6 := archsimd.LoadUint8x32Array((*[32]uint8)(blk[192:224])).AsInt8x32()
			m6 := w6.Abs().AsUint8x32()
			a6 := m6.DotProductPairsSaturated(y0.MulSign(w6)).DotProductPairs(ones)
			b6 := m6.DotProductPairsSaturated(y1.MulSign(w6)).DotProductPairs(ones)
			w7 := archsimd.LoadUint8x32Array((*[32]uint8)(blk[224:256])).AsInt8x32()
			m7 := w7.Abs().AsUint8x32()
			a7 := m7.DotProductPairsSaturated(y0.MulSign(w7)).DotProductPairs(ones)
			b7 := m7.DotProductPairsSaturated(y1.MulSign(w7)).DotProductPairs(ones)
			pa67 := a6.InterleaveLoGrouped(a7).Add(a6.InterleaveHiGrouped(a7))
			pb67 := b6.InterleaveLoGrouped(b7).Add(b6.InterleaveHiGrouped(b7))
			va := pa45.AsInt64x4().InterleaveLoGrouped(pa67.AsInt64x4()).AsInt32x8().Add(pa45.AsInt64x4().InterleaveHiGrouped(pa67.AsInt64x4()).AsInt32x8())
			vb := pb45.AsInt64x4().InterleaveLoGrouped(pb67.AsInt64x4()).AsInt32x8().Add(pb45.AsInt64x4().InterleaveHiGrouped(pb67.AsInt64x4()).AsInt32x8())
			r0 := ua.ConcatPermute128Scalars(0, 2, va).Add(ua.ConcatPermute128Scalars(1, 3, va))
			r1 := ub.ConcatPermute128Scalars(0, 2, vb).Add(ub.ConcatPermute128Scalars(1, 3, vb))
			dx := archsimd.LoadUint32x8Array((*[8]uint32)(dg)).AsFloat32x8()
			d0 := archsimd.BroadcastUint32x8(s0[b]).AsFloat32x8()
			d1 := archsimd.BroadcastUint32x8(s1[b]).AsFloat32x8()
			sum0 = sum0.Add(r0.ConvertToFloat32().Mul(dx.Mul(d0)))
			sum1 = sum1.Add(r1.ConvertToFloat32().Mul(dx.Mul(d1)))
			qg, dg, x0, x1 = qg[256:], dg[8:], x0[q8_0Bytes:], x1[q8_0Bytes:]
		}
		sum0.StoreArray((*[8]float32)(dst0[(g-g0)*8:]))
		sum1.StoreArray((*[8]float32)(dst1[(g-g0)*8:]))
	}
}

// offset8 returns 8·Σ y in every lane: the pair sums of 1·y added up as sum8 adds eight rows.
func offset8(y archsimd.Int8x32, ones8 archsimd.Uint8x32, ones archsimd.Int16x16) archsimd.Int32x8 {
	sy := ones8.DotProductPairsSaturated(y).DotProductPairs(ones)
	p := pairSums(sy, sy)
	u := sum4(p, p)
	return u.ConcatPermute128Scalars(0, 2, u).Add(u.ConcatPermute128Scalars(1, 3, u)).ShiftAllLeft(3)
}

// q4Act is one block's activations as vecDotRowsPackedQ4_0 uses them, prepared once a call:
// the low and high sixteen in both halves (ylo, yhi of nibPair), 8·Σy (offset8) and the scale.
type q4Act struct {
	lo, hi [32]int8
	off    [8]int32
	dy     [8]uint32
}

// q4ActBlocks is how many blocks' activations vecDotRowsPackedQ4_0 prepares at a time.
const q4ActBlocks = 64

// vecDotRowsPackedQ4_0 reads two groups at a time as vecDotRowsPackedQ8_0 does (halves). The
// activations' vectors are prepared once for all groups (q4Act; up to q4ActBlocks blocks at a
// time, the groups' sums kept in dst in between), not once a block for every two groups.
func vecDotRowsPackedQ4_0(p *Packed, dst []float32, g0, g1 int, act []byte, as []uint32) {
	nb := p.nb
	ones := archsimd.BroadcastInt16x16(1)
	ones8 := archsimd.BroadcastUint8x32(1)
	mask := archsimd.BroadcastUint8x32(0x0f)
	order := archsimd.LoadUint32x8Array(&rowOrder)
	var pre [q4ActBlocks]q4Act
	half := halves(g0, g1)
	for c0 := 0; c0 < nb; c0 += q4ActBlocks {
		n := min(nb-c0, q4ActBlocks)
		ys := pre[:n]
		a := act[c0*q8_0Bytes:]
		for b := range ys {
			y := archsimd.LoadUint8x32Array((*[32]uint8)((*[q8_0Bytes]byte)(a)[2:])).AsInt8x32()
			y.ConcatPermute128Scalars(0, 0, y).StoreArray(&ys[b].lo)
			y.ConcatPermute128Scalars(1, 1, y).StoreArray(&ys[b].hi)
			offset8(y, ones8, ones).StoreArray(&ys[b].off)
			archsimd.BroadcastUint32x8(as[c0+b]).StoreArray(&ys[b].dy)
			a = a[q8_0Bytes:]
		}
		for i := 0; i < half; i++ {
			ga, gb := halfPair(g0, g1, half, i)
			// Slices walk a block at a time (see vecDotRowsPackedQ8_0x2).
			qa, qb := p.q[(ga*nb+c0)*128:][:n*128], p.q[(gb*nb+c0)*128:][:n*128]
			da, db := p.d[(ga*nb+c0)*8:][:n*8], p.d[(gb*nb+c0)*8:][:n*8]
			oa, ob := (*[8]float32)(dst[(ga-g0)*8:]), (*[8]float32)(dst[(gb-g0)*8:])
			sa, sb := archsimd.Float32x8{}, archsimd.Float32x8{}
			if c0 > 0 { // the sums of the blocks before
				sa, sb = archsimd.LoadFloat32x8Array(oa), archsimd.LoadFloat32x8Array(ob)
			}
			for b := range ys {
				e := &ys[b]
				ylo, yhi := archsimd.LoadInt8x32Array(&e.lo), archsimd.LoadInt8x32Array(&e.hi)
				off := archsimd.LoadInt32x8Array(&e.off)
				dy := archsimd.LoadUint32x8Array(&e.dy).AsFloat32x8()
				// s = Σ (q−8)·y = Σ q·y − 8·Σ y, rows back in order from nibPairs' order.
				blk := (*[128]byte)(qa)
				u := sum4(pairSums(nibPair(blk, 0, ylo, yhi, mask, ones), nibPair(blk, 1, ylo, yhi, mask, ones)),
					pairSums(nibPair(blk, 2, ylo, yhi, mask, ones), nibPair(blk, 3, ylo, yhi, mask, ones)))
				s := u.Permute(order).Sub(off)
				dx := archsimd.LoadUint32x8Array((*[8]uint32)(da)).AsFloat32x8()
				sa = sa.Add(s.ConvertToFloat32().Mul(dx).Mul(dy))
				blk = (*[128]byte)(qb)
				u = sum4(pairSums(nibPair(blk, 0, ylo, yhi, mask, ones), nibPair(blk, 1, ylo, yhi, mask, ones)),
					pairSums(nibPair(blk, 2, ylo, yhi, mask, ones), nibPair(blk, 3, ylo, yhi, mask, ones)))
				s = u.Permute(order).Sub(off)
				dx = archsimd.LoadUint32x8Array((*[8]uint32)(db)).AsFloat32x8()
				sb = sb.Add(s.ConvertToFloat32().Mul(dx).Mul(dy))
				qa, qb, da, db = qa[128:], qb[128:], da[8:], db[8:]
			}
			sa.StoreArray(oa)
			if ga+half <= g1-1 { // else gb is the range's last group again: its sums are stored
				sb.StoreArray(ob)
			}
		}
	}
}

// nibPair returns the pair sums of rows 2k and 2k+1 of a Q4_0 group block (their 32 quant
// bytes, one row a 128-bit half) with the activations, row 2k's in the low half and row 2k+1's
// in the high: ylo holds activations 0…15 in both halves (a row's low nibbles), yhi 16…31
// (its high nibbles). A 16-bit lane adds two pair sums of at most 2·15·128, which fits.
func nibPair(blk *[128]byte, k int, ylo, yhi archsimd.Int8x32, mask archsimd.Uint8x32, ones archsimd.Int16x16) archsimd.Int32x8 {
	v := archsimd.LoadUint8x32Array((*[32]uint8)(blk[32*k : 32*k+32]))
	lo := v.And(mask)
	hi := v.AsUint16x16().ShiftAllRight(4).AsUint8x32().And(mask)
	return lo.DotProductPairsSaturated(ylo).Add(hi.DotProductPairsSaturated(yhi)).DotProductPairs(ones)
}

// rowOrder puts the rows of sum4(pairSums(nibPair 0, nibPair 1), pairSums(nibPair 2, nibPair 3))
// (rows 0, 2, 4, 6 in the low half, 1, 3, 5, 7 in the high) back in order (Permute).
var rowOrder = [8]uint32{0, 4, 1, 5, 2, 6, 3, 7}

// q8x8 returns the eight signed bytes at blk[o:] as float32 (a 16-byte load, of which the
// last eight bytes are not used: packPad covers them after the last block).
func q8x8(blk *[64 + packPad]byte, o int) archsimd.Float32x8 {
	return archsimd.LoadUint8x16Array((*[16]uint8)(blk[o : o+16])).AsInt8x16().ExtendLo8ToInt32().ConvertToFloat32()
}

// q4x8 returns the eight bytes at blk[o:] widened to 32 bits (the 16-byte load's last eight
// bytes are not used): their low nibbles are elements o…o+7 of the row's block, their high
// nibbles elements o+16…o+23 (q4lo, q4hi). Only 256-bit values live past this call.
func q4x8(blk *[32 + packPad]byte, o int) archsimd.Uint32x8 {
	return archsimd.LoadUint8x16Array((*[16]uint8)(blk[o : o+16])).ExtendLo8ToUint32()
}

// q4lo returns the low nibbles of t minus 8 as float32.
func q4lo(t archsimd.Uint32x8, mask, eight archsimd.Int32x8) archsimd.Float32x8 {
	return t.AsInt32x8().And(mask).Sub(eight).ConvertToFloat32()
}

// q4hi returns the high nibbles of t minus 8 as float32.
func q4hi(t archsimd.Uint32x8, eight archsimd.Int32x8) archsimd.Float32x8 {
	return t.ShiftAllRight(4).AsInt32x8().Sub(eight).ConvertToFloat32()
}

// reduce2Rows finishes two rows' DotLanes sums from their lane halves (a: lanes 0–7, b: lanes
// 8–15) in reduce16's order and stores them in dst[0:2].
func reduce2Rows(dst []float32, a0, b0, a1, b1 archsimd.Float32x8) {
	var q [2][4]float32
	h0, h1 := a0.Add(b0), a1.Add(b1)
	h0.GetLo().Add(h0.GetHi()).StoreArray(&q[0])
	h1.GetLo().Add(h1.GetHi()).StoreArray(&q[1])
	archsimd.ClearAVXUpperBits()
	_ = dst[1]
	dst[0] = (q[0][0] + q[0][2]) + (q[0][1] + q[0][3])
	dst[1] = (q[1][0] + q[1][2]) + (q[1][1] + q[1][3])
}

// matVecQLanesPackedSIMD computes MatVecQLanesPacked for groups g0 … g1−1 into dst.
func matVecQLanesPackedSIMD(p *Packed, dst []float32, g0, g1 int, x []float32) {
	if p.Type == quant.Q8_0 {
		matVecQLanesPackedQ8_0(p, dst, g0, g1, x)
	} else {
		matVecQLanesPackedQ4_0(p, dst, g0, g1, x)
	}
}

// matVecQLanesPackedQ8_0 computes MatVecQLanesPacked for Q8_0 groups g0 … g1−1 into dst (eight
// rows a group), two rows at a time: four accumulators, the four pieces of x and the constants
// fit the sixteen vector registers (four rows would not, and the spills are slow).
func matVecQLanesPackedQ8_0(p *Packed, dst []float32, g0, g1 int, x []float32) {
	nb := p.nb
	for g := g0; g < g1; g++ {
		qg := p.q[g*nb*256 : (g+1)*nb*256+packPad]
		dg := p.d[g*nb*8 : (g+1)*nb*8]
		for h := 0; h < 4; h++ {
			z := archsimd.Float32x8{}
			a0, b0, a1, b1 := z, z, z, z
			for k := 0; k < nb; k++ {
				// Rows 2h and 2h+1 of block k: quants and scales.
				blk := (*[64 + packPad]byte)(qg[k*256+h*64:])
				ds := (*[2]uint32)(dg[k*8+h*2:])
				xb := (*[qk]float32)(x[k*qk:])
				x0 := archsimd.LoadFloat32x8Array((*[8]float32)(xb[0:8]))
				x1 := archsimd.LoadFloat32x8Array((*[8]float32)(xb[8:16]))
				x2 := archsimd.LoadFloat32x8Array((*[8]float32)(xb[16:24]))
				x3 := archsimd.LoadFloat32x8Array((*[8]float32)(xb[24:32]))

				dv := archsimd.BroadcastUint32x8(ds[0]).AsFloat32x8()
				a0 = q8x8(blk, 0).Mul(dv).MulAdd(x0, a0)
				b0 = q8x8(blk, 8).Mul(dv).MulAdd(x1, b0)
				a0 = q8x8(blk, 16).Mul(dv).MulAdd(x2, a0)
				b0 = q8x8(blk, 24).Mul(dv).MulAdd(x3, b0)

				dv = archsimd.BroadcastUint32x8(ds[1]).AsFloat32x8()
				a1 = q8x8(blk, 32).Mul(dv).MulAdd(x0, a1)
				b1 = q8x8(blk, 40).Mul(dv).MulAdd(x1, b1)
				a1 = q8x8(blk, 48).Mul(dv).MulAdd(x2, a1)
				b1 = q8x8(blk, 56).Mul(dv).MulAdd(x3, b1)

			}
			r := (g-g0)*8 + 2*h
			reduce2Rows(dst[r:r+2], a0, b0, a1, b1)
		}
	}
}

// matVecQLanesPackedQ4_0 computes MatVecQLanesPacked for Q4_0 groups g0 … g1−1 into dst (eight
// rows a group), two rows at a time: four accumulators, the four pieces of x and the constants
// fit the sixteen vector registers (four rows would not, and the spills are slow).
func matVecQLanesPackedQ4_0(p *Packed, dst []float32, g0, g1 int, x []float32) {
	nb := p.nb
	mask, eight := archsimd.BroadcastInt32x8(0x0f), archsimd.BroadcastInt32x8(8)
	for g := g0; g < g1; g++ {
		qg := p.q[g*nb*128 : (g+1)*nb*128+packPad]
		dg := p.d[g*nb*8 : (g+1)*nb*8]
		for h := 0; h < 4; h++ {
			z := archsimd.Float32x8{}
			a0, b0, a1, b1 := z, z, z, z
			for k := 0; k < nb; k++ {
				// Rows 2h and 2h+1 of block k: quants and scales.
				blk := (*[32 + packPad]byte)(qg[k*128+h*32:])
				ds := (*[2]uint32)(dg[k*8+h*2:])
				xb := (*[qk]float32)(x[k*qk:])
				x0 := archsimd.LoadFloat32x8Array((*[8]float32)(xb[0:8]))
				x1 := archsimd.LoadFloat32x8Array((*[8]float32)(xb[8:16]))
				x2 := archsimd.LoadFloat32x8Array((*[8]float32)(xb[16:24]))
				x3 := archsimd.LoadFloat32x8Array((*[8]float32)(xb[24:32]))

				dv := archsimd.BroadcastUint32x8(ds[0]).AsFloat32x8()
				t := q4x8(blk, 0)
				a0 = q4lo(t, mask, eight).Mul(dv).MulAdd(x0, a0)
				a0 = q4hi(t, eight).Mul(dv).MulAdd(x2, a0)
				t = q4x8(blk, 8)
				b0 = q4lo(t, mask, eight).Mul(dv).MulAdd(x1, b0)
				b0 = q4hi(t, eight).Mul(dv).MulAdd(x3, b0)

				dv = archsimd.BroadcastUint32x8(ds[1]).AsFloat32x8()
				t = q4x8(blk, 16)
				a1 = q4lo(t, mask, eight).Mul(dv).MulAdd(x0, a1)
				a1 = q4hi(t, eight).Mul(dv).MulAdd(x2, a1)
				t = q4x8(blk, 24)
				b1 = q4lo(t, mask, eight).Mul(dv).MulAdd(x1, b1)
				b1 = q4hi(t, eight).Mul(dv).MulAdd(x3, b1)

			}
			r := (g-g0)*8 + 2*h
			reduce2Rows(dst[r:r+2], a0, b0, a1, b1)
		}
	}
}

// dequantPackedBlock decodes one block of quants q with scale d into y (32 values), as
// Dequantize does, and reports true.
func dequantPackedBlock(t quant.Type, y []float32, q []byte, d uint32) bool {
	dv := archsimd.BroadcastUint32x8(d).AsFloat32x8()
	o := (*[qk]float32)(y)
	if t == quant.Q8_0 {
		w := (*[32]byte)(q)
		w0 := archsimd.LoadUint8x16Array((*[16]uint8)(w[0:16])).AsInt8x16().ExtendToInt16()
		w1 := archsimd.LoadUint8x16Array((*[16]uint8)(w[16:32])).AsInt8x16().ExtendToInt16()
		w0.GetLo().ExtendToInt32().ConvertToFloat32().Mul(dv).StoreArray((*[8]float32)(o[0:8]))
		w0.GetHi().ExtendToInt32().ConvertToFloat32().Mul(dv).StoreArray((*[8]float32)(o[8:16]))
		w1.GetLo().ExtendToInt32().ConvertToFloat32().Mul(dv).StoreArray((*[8]float32)(o[16:24]))
		w1.GetHi().ExtendToInt32().ConvertToFloat32().Mul(dv).StoreArray((*[8]float32)(o[24:32]))
	} else {
		mask, eight := archsimd.BroadcastUint8x16(0x0f), archsimd.BroadcastUint8x16(8)
		v := archsimd.LoadUint8x16Array((*[16]uint8)(q))
		lo := v.And(mask).Sub(eight).AsInt8x16().ExtendToInt16()
		hi := v.AsUint16x8().ShiftAllRight(4).AsUint8x16().And(mask).Sub(eight).AsInt8x16().ExtendToInt16()
		lo.GetLo().ExtendToInt32().ConvertToFloat32().Mul(dv).StoreArray((*[8]float32)(o[0:8]))
		lo.GetHi().ExtendToInt32().ConvertToFloat32().Mul(dv).StoreArray((*[8]float32)(o[8:16]))
		hi.GetLo().ExtendToInt32().ConvertToFloat32().Mul(dv).StoreArray((*[8]float32)(o[16:24]))
		hi.GetHi().ExtendToInt32().ConvertToFloat32().Mul(dv).StoreArray((*[8]float32)(o[24:32]))
	}
	archsimd.ClearAVXUpperBits()
	return true
}
