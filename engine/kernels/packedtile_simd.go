//go:build goexperiment.simd && amd64

package kernels

import (
	"encoding/binary"
	"math"
	"simd/archsimd"

	"github.com/attnscope/attnscope/engine/quant"
)

// tileType says which type's packed rows have a tile kernel: Q4_0. Q8_0's was measured (every
// Q8_0 block needs |w| and w's sign on the activations, so its tile does as many operations as
// VecDotRowsPacked2's sums across vectors) and was no faster than VecDotRowsPacked2 on the
// synthetic models' shapes (each faster on three of six).
func tileType(t quant.Type) bool { return t == quant.Q4_0 }

// The AVX2 tile kernel reads the inputs arranged (ActTile.Set).
const tileArranged = true

// vecDotRowsPackedTileSIMD computes VecDotRowsPackedTile (arguments checked, Q4_0): row after
// row, the sixteen inputs in two vectors of eight lanes, per block as vecDotRowsPackedQ4_0 (the
// same integer sums, then the same float operations in the same order), the lanes written to
// their inputs' rows when the row is done.
func vecDotRowsPackedTileSIMD(dst []float32, stride int, p *Packed, r0, r1 int, t *ActTile, g int) {
	tileQ4_0(dst, stride, p, r0, r1, t, g)
}

// transpose8 transposes the 8×8 matrix m of 32-bit values in place (three rounds of
// interleaves within and across the 128-bit halves).
func transpose8(m *[8][8]uint32) {
	r0, r1 := archsimd.LoadUint32x8Array(&m[0]), archsimd.LoadUint32x8Array(&m[1])
	r2, r3 := archsimd.LoadUint32x8Array(&m[2]), archsimd.LoadUint32x8Array(&m[3])
	r4, r5 := archsimd.LoadUint32x8Array(&m[4]), archsimd.LoadUint32x8Array(&m[5])
	r6, r7 := archsimd.LoadUint32x8Array(&m[6]), archsimd.LoadUint32x8Array(&m[7])
	// Pairs of rows: t0 holds columns 0, 1 (low half) and 4, 5 (high half) of rows 0 and 1.
	t0, t1 := r0.InterleaveLoGrouped(r1).AsUint64x4(), r0.InterleaveHiGrouped(r1).AsUint64x4()
	t2, t3 := r2.InterleaveLoGrouped(r3).AsUint64x4(), r2.InterleaveHiGrouped(r3).AsUint64x4()
	t4, t5 := r4.InterleaveLoGrouped(r5).AsUint64x4(), r4.InterleaveHiGrouped(r5).AsUint64x4()
	t6, t7 := r6.InterleaveLoGrouped(r7).AsUint64x4(), r6.InterleaveHiGrouped(r7).AsUint64x4()
	// Quads: u0 holds column 0 (low half) and 4 (high half) of rows 0…3, v0 of rows 4…7.
	u0, u1 := t0.InterleaveLoGrouped(t2).AsUint32x8(), t0.InterleaveHiGrouped(t2).AsUint32x8()
	u2, u3 := t1.InterleaveLoGrouped(t3).AsUint32x8(), t1.InterleaveHiGrouped(t3).AsUint32x8()
	v0, v1 := t4.InterleaveLoGrouped(t6).AsUint32x8(), t4.InterleaveHiGrouped(t6).AsUint32x8()
	v2, v3 := t5.InterleaveLoGrouped(t7).AsUint32x8(), t5.InterleaveHiGrouped(t7).AsUint32x8()
	u0.ConcatPermute128Scalars(0, 2, v0).StoreArray(&m[0])
	u1.ConcatPermute128Scalars(0, 2, v1).StoreArray(&m[1])
	u2.ConcatPermute128Scalars(0, 2, v2).StoreArray(&m[2])
	u3.ConcatPermute128Scalars(0, 2, v3).StoreArray(&m[3])
	u0.ConcatPermute128Scalars(1, 3, v0).StoreArray(&m[4])
	u1.ConcatPermute128Scalars(1, 3, v1).StoreArray(&m[5])
	u2.ConcatPermute128Scalars(1, 3, v2).StoreArray(&m[6])
	u3.ConcatPermute128Scalars(1, 3, v3).StoreArray(&m[7])
}

// rowOut collects a tile kernel's results, eight rows at a time, and writes them to the
// inputs' rows: a row's two vectors hold one value per input, which would be sixteen scalar
// stores; eight rows transposed are eight values of each input side by side, one vector store.
// Values are kept as their bits (transpose8 moves 32-bit integers).
type rowOut struct {
	dst        []float32
	stride, i0 int
	lo, hi     [8][8]uint32 // rows k of inputs i0…i0+7 and i0+8…i0+15
}

// put records row k (0…7) of the group of eight rows from r; the last row of a full group
// writes the group.
func (o *rowOut) put(r, k int, f0, f1 archsimd.Float32x8) {
	f0.AsUint32x8().StoreArray(&o.lo[k])
	f1.AsUint32x8().StoreArray(&o.hi[k])
	if k == 7 {
		o.flush(r-7, 8)
	}
}

// flush writes the first n rows recorded, rows r…r+n−1.
func (o *rowOut) flush(r, n int) {
	if n == 8 {
		transpose8(&o.lo)
		transpose8(&o.hi)
		for j := 0; j < 8; j++ {
			a := (o.i0+j)*o.stride + r
			b := (o.i0+8+j)*o.stride + r
			archsimd.LoadUint32x8Array(&o.lo[j]).AsFloat32x8().StoreArray((*[8]float32)(o.dst[a : a+8]))
			archsimd.LoadUint32x8Array(&o.hi[j]).AsFloat32x8().StoreArray((*[8]float32)(o.dst[b : b+8]))
		}
		return
	}
	// The last rows of a range that is not a multiple of eight, once a call, after the vector
	// code (see vecdot_simd.go).
	archsimd.ClearAVXUpperBits()
	for k := 0; k < n; k++ {
		for j := 0; j < 8; j++ {
			o.dst[(o.i0+j)*o.stride+r+k] = math.Float32frombits(o.lo[k][j])
			o.dst[(o.i0+8+j)*o.stride+r+k] = math.Float32frombits(o.hi[k][j])
		}
	}
}

// tileNibs adds to h0 and h1 (16-bit sums) the products of the nibbles in quant bytes
// 4k…4k+3 of a Q4_0 row block w (repeated in every lane) with the tile's activations y: the
// low nibbles are elements 4k…4k+3, the high ones 16+4k…19+4k. A lane adds at most 8 pair sums
// of 2·15·128 over a block, which fits 16 bits.
func tileNibs(w *[16]byte, y *[512]byte, k int, h0, h1 archsimd.Int16x16, mask archsimd.Uint8x32) (archsimd.Int16x16, archsimd.Int16x16) {
	v := archsimd.BroadcastUint32x8(binary.LittleEndian.Uint32(w[4*k : 4*k+4])).AsUint8x32()
	lo := v.And(mask)
	hi := v.AsUint16x16().ShiftAllRight(4).AsUint8x32().And(mask)
	ylo0 := archsimd.LoadUint8x32Array((*[32]uint8)(y[32*k : 32*k+32])).AsInt8x32()
	ylo1 := archsimd.LoadUint8x32Array((*[32]uint8)(y[256+32*k : 256+32*k+32])).AsInt8x32()
	yhi0 := archsimd.LoadUint8x32Array((*[32]uint8)(y[128+32*k : 128+32*k+32])).AsInt8x32()
	yhi1 := archsimd.LoadUint8x32Array((*[32]uint8)(y[384+32*k : 384+32*k+32])).AsInt8x32()
	h0 = h0.Add(lo.DotProductPairsSaturated(ylo0)).Add(hi.DotProductPairsSaturated(yhi0))
	h1 = h1.Add(lo.DotProductPairsSaturated(ylo1)).Add(hi.DotProductPairsSaturated(yhi1))
	return h0, h1
}

func tileQ4_0(dst []float32, stride int, p *Packed, r0, r1 int, t *ActTile, g int) {
	nb := p.nb
	ones := archsimd.BroadcastInt16x16(1)
	mask := archsimd.BroadcastUint8x32(0x0f)
	tg := g * nb
	var out rowOut // set field by field: a composite literal is built and copied (576 bytes)
	out.dst, out.stride, out.i0 = dst, stride, g*TileInputs
	for r := r0; r < r1; r++ {
		// Slices walk a block at a time (see vecDotRowsPackedQ8_0x2): the tile's group, and the
		// row's group of eight in the matrix, whose blocks hold the row at k = r mod 8.
		k := r & (PackRows - 1)
		qg := p.q[r/PackRows*nb*128:][:nb*128]
		dg := p.d[r/PackRows*nb*PackRows:][:nb*PackRows]
		ys := t.y[tg*512:][:nb*512]
		dys := t.dy[tg*TileInputs:][:nb*TileInputs]
		offs := t.off[tg*TileInputs:][:nb*TileInputs]
		f0, f1 := archsimd.Float32x8{}, archsimd.Float32x8{}
		for b := 0; b < nb; b++ {
			gq, gd := (*[128]byte)(qg), (*[PackRows]uint32)(dg)
			w := (*[16]byte)(gq[16*k : 16*k+16])
			y := (*[512]byte)(ys)
			o := (*[TileInputs]int32)(offs)
			d := (*[TileInputs]uint32)(dys)
			var h0, h1 archsimd.Int16x16
			h0, h1 = tileNibs(w, y, 0, h0, h1, mask)
			h0, h1 = tileNibs(w, y, 1, h0, h1, mask)
			h0, h1 = tileNibs(w, y, 2, h0, h1, mask)
			h0, h1 = tileNibs(w, y, 3, h0, h1, mask)
			s0 := h0.DotProductPairs(ones).Sub(archsimd.LoadInt32x8Array((*[8]int32)(o[0:8])))
			s1 := h1.DotProductPairs(ones).Sub(archsimd.LoadInt32x8Array((*[8]int32)(o[8:16])))
			dx := archsimd.BroadcastUint32x8(gd[k]).AsFloat32x8()
			dy0 := archsimd.LoadUint32x8Array((*[8]uint32)(d[0:8])).AsFloat32x8()
			dy1 := archsimd.LoadUint32x8Array((*[8]uint32)(d[8:16])).AsFloat32x8()
			f0 = f0.Add(s0.ConvertToFloat32().Mul(dx).Mul(dy0))
			f1 = f1.Add(s1.ConvertToFloat32().Mul(dx).Mul(dy1))
			qg, dg, ys, dys, offs = qg[128:], dg[PackRows:], ys[512:], dys[TileInputs:], offs[TileInputs:]
		}
		out.put(r, (r-r0)%8, f0, f1)
	}
	if n := (r1 - r0) % 8; n > 0 {
		out.flush(r1-n, n)
	}
	archsimd.ClearAVXUpperBits()
}

// setTileSIMD fills the first groups groups of t from t.act and t.as (as setTilePlain), eight
// inputs at a time: their blocks as eight rows of 4-byte chunks, transposed, are the tile's
// vectors; the sums come from the transposed chunks (pair sums of 1·y to 16 bits, at most
// 8·2·128 in a lane, then to 32).
func setTileSIMD(t *ActTile, groups int) {
	nb := t.nb
	ones8 := archsimd.BroadcastUint8x32(1)
	ones := archsimd.BroadcastInt16x16(1)
	var m [8][8]uint32
	for g := 0; g < groups; g++ {
		for h := 0; h < 2; h++ {
			i0 := g*TileInputs + 8*h
			for b := 0; b < nb; b++ {
				gb := g*nb + b
				for j := 0; j < 8; j++ {
					src := (*[32]byte)(t.act[((i0+j)*nb+b)*q8_0Bytes+2:])
					archsimd.LoadUint8x32Array(src).AsUint32x8().StoreArray(&m[j])
				}
				transpose8(&m)
				dst := (*[256]byte)(t.y[gb*512+256*h:])
				var s archsimd.Int16x16
				for k := 0; k < 8; k++ {
					v := archsimd.LoadUint32x8Array(&m[k])
					v.AsUint8x32().StoreArray((*[32]uint8)(dst[32*k : 32*k+32]))
					s = s.Add(ones8.DotProductPairsSaturated(v.AsInt8x32()))
				}
				off := (*[TileInputs]int32)(t.off[gb*TileInputs:])
				s.DotProductPairs(ones).ShiftAllLeft(3).StoreArray((*[8]int32)(off[8*h : 8*h+8]))
				for j := 0; j < 8; j++ {
					t.dy[gb*TileInputs+8*h+j] = t.as[(i0+j)*nb+b]
				}
			}
		}
	}
	archsimd.ClearAVXUpperBits()
}
