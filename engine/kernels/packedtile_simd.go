//go:build goexperiment.simd && amd64

package kernels

import (
	"simd/archsimd"
	"unsafe"

	"github.com/attnscope/attnscope/engine/quant"
)

// tileType says which type's packed rows have a tile kernel: Q4_0. Q8_0's was measured (every
// Q8_0 block needs |w| and w's sign on the activations, so its tile does as many operations as
// VecDotRowsPacked2's sums across vectors) and was slower than VecDotRowsPacked2 on 4 of 6 of
// the synthetic models' shapes.
func tileType(t quant.Type) bool { return t == quant.Q4_0 }

// vecDotRowsPackedTileSIMD computes VecDotRowsPackedTile (arguments checked, Q4_0): row after
// row, the sixteen inputs in two vectors of eight lanes, per block as vecDotRowsPackedQ4_0 (the
// same integer sums, then the same float operations in the same order), the lanes written to
// their inputs' rows when the row is done.
func vecDotRowsPackedTileSIMD(dst []float32, stride int, p *Packed, r0, r1 int, t *ActTile, g int) {
	tileQ4_0(unsafe.Slice((*uint32)(unsafe.Pointer(unsafe.SliceData(dst))), len(dst)), stride, p, r0, r1, t, g)
	archsimd.ClearAVXUpperBits()
}

// le32 is the little-endian uint32 at b[o:].
func le32(b []byte, o int) uint32 {
	_ = b[o+3]
	return uint32(b[o]) | uint32(b[o+1])<<8 | uint32(b[o+2])<<16 | uint32(b[o+3])<<24
}

// scatter writes the sixteen lanes of f0 and f1 (inputs i0 … i0+15) to row r of each input,
// as integers: scalar float moves would be legacy SSE between the 256-bit code (slow).
func scatter(dst []uint32, stride, i0, r int, f0, f1 archsimd.Float32x8) {
	var out [TileInputs]uint32
	f0.AsUint32x8().StoreArray((*[8]uint32)(out[0:8]))
	f1.AsUint32x8().StoreArray((*[8]uint32)(out[8:16]))
	o := i0*stride + r
	_ = dst[o+(TileInputs-1)*stride]
	for j := 0; j < TileInputs; j++ {
		dst[o+j*stride] = out[j]
	}
}

// tileNibs adds to h0 and h1 (16-bit sums) the products of the nibbles in quant bytes
// 4k…4k+3 of a Q4_0 row block (repeated in every lane) with the tile's activations: the low
// nibbles are elements 4k…4k+3, the high ones 16+4k…19+4k. A lane adds at most 8 pair sums of
// 2·15·127 over a block, which fits 16 bits.
func tileNibs(w *[16]byte, y *[512]byte, k int, h0, h1 archsimd.Int16x16, mask archsimd.Uint8x32) (archsimd.Int16x16, archsimd.Int16x16) {
	v := archsimd.BroadcastUint32x8(le32(w[:], 4*k)).AsUint8x32()
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

func tileQ4_0(dst []uint32, stride int, p *Packed, r0, r1 int, t *ActTile, g int) {
	nb := p.nb
	ones := archsimd.BroadcastInt16x16(1)
	mask := archsimd.BroadcastUint8x32(0x0f)
	ys := t.y[g*nb*512 : (g+1)*nb*512]
	ds := t.dy[g*nb*TileInputs : (g+1)*nb*TileInputs]
	offs := t.off[g*nb*TileInputs : (g+1)*nb*TileInputs]
	for r := r0; r < r1; r++ {
		base := r/PackRows*nb*PackRows + r%PackRows
		f0, f1 := archsimd.Float32x8{}, archsimd.Float32x8{}
		for b := 0; b < nb; b++ {
			i := base + PackRows*b
			w := (*[16]byte)(p.q[i*16:])
			y := (*[512]byte)(ys[b*512:])
			var h0, h1 archsimd.Int16x16
			h0, h1 = tileNibs(w, y, 0, h0, h1, mask)
			h0, h1 = tileNibs(w, y, 1, h0, h1, mask)
			h0, h1 = tileNibs(w, y, 2, h0, h1, mask)
			h0, h1 = tileNibs(w, y, 3, h0, h1, mask)
			o := (*[TileInputs]int32)(offs[b*TileInputs:])
			s0 := h0.DotProductPairs(ones).Sub(archsimd.LoadInt32x8Array((*[8]int32)(o[0:8])))
			s1 := h1.DotProductPairs(ones).Sub(archsimd.LoadInt32x8Array((*[8]int32)(o[8:16])))
			dx := archsimd.BroadcastUint32x8(p.d[i]).AsFloat32x8()
			d := (*[TileInputs]uint32)(ds[b*TileInputs:])
			dy0 := archsimd.LoadUint32x8Array((*[8]uint32)(d[0:8])).AsFloat32x8()
			dy1 := archsimd.LoadUint32x8Array((*[8]uint32)(d[8:16])).AsFloat32x8()
			f0 = f0.Add(s0.ConvertToFloat32().Mul(dx).Mul(dy0))
			f1 = f1.Add(s1.ConvertToFloat32().Mul(dx).Mul(dy1))
		}
		scatter(dst, stride, g*TileInputs, r, f0, f1)
	}
}
