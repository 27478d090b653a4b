//go:build goexperiment.simd && amd64

package kernels

import (
	"math"
	"simd/archsimd"

	"github.com/attnscope/attnscope/engine/quant"
)

// The vector pass quantizes a batch of blocks with 256-bit values only: the block maximum is
// taken on the float bits as integers (the sign cleared, integer order is float order, and
// NaN and ±Inf lie above every finite value), spread to every lane by permutes, and written
// out as bits; 127/amax is one vector division. After the upper halves are cleared a scalar
// pass writes the binary16 scales and hands the blocks holding a NaN to the plain code (its
// maximum depends on where the NaN sits), so no scalar float work sits between 256-bit
// instructions.
//
// Every other block comes out as the plain code's. With amax finite and 127/amax finite, each
// product v·(127/amax) is a float32 of magnitude at most 127 (rounded), so rounding it in
// float32 and truncating to int32 gives what the plain code's float64 rounding and conversion
// give, and the signed packs do not saturate. Otherwise (amax 0, so tiny that 127/amax
// overflows, or ±Inf) the products are 0 or ±Inf or NaN: the plain code takes 127/amax as 0
// for amax 0, where the vectors take +Inf and get NaN from 0·Inf, and the plain code gets 0
// from 0·0. Converted to int32 every non-finite product gives −2³¹ (x86's integer
// indefinite, in CVTTSD2SL and VCVTTPS2DQ alike), which packs to int16 −2¹⁵; the low byte of
// both is 0, which is also the byte for a 0 product.

// quantActKernel says that QuantizeQ8_0Activations has a vector version in this build.
const quantActKernel = true

const (
	actBatch = 32         // blocks a vector pass
	actInf   = 0x7f800000 // float32 bits of +Inf: a block maximum above it is a NaN
)

var (
	// Permutes that fold eight lanes into their maximum.
	actFold4 = [8]uint32{4, 5, 6, 7, 0, 1, 2, 3}
	actFold2 = [8]uint32{2, 3, 0, 1, 6, 7, 4, 5}
	actFold1 = [8]uint32{1, 0, 3, 2, 5, 4, 7, 6}
	// Low bytes of eight int16 values of a 128-bit group to the group's first (actLow) or last
	// (actHigh) eight bytes, the rest zero.
	actLow  = [32]int8{0, 2, 4, 6, 8, 10, 12, 14, -1, -1, -1, -1, -1, -1, -1, -1, 0, 2, 4, 6, 8, 10, 12, 14, -1, -1, -1, -1, -1, -1, -1, -1}
	actHigh = [32]int8{-1, -1, -1, -1, -1, -1, -1, -1, 0, 2, 4, 6, 8, 10, 12, 14, -1, -1, -1, -1, -1, -1, -1, -1, 0, 2, 4, 6, 8, 10, 12, 14}
	// The four-byte groups of the packed block in element order.
	actOrder = [8]uint32{0, 4, 1, 5, 2, 6, 3, 7}
)

// quantizeQ8_0ActSIMD computes QuantizeQ8_0Activations (lengths checked).
func quantizeQ8_0ActSIMD(dst []byte, x []float32) {
	var amax [actBatch]uint32
	nb := len(x) / qk
	for b0 := 0; b0 < nb; b0 += actBatch {
		m := min(actBatch, nb-b0)
		quantizeQ8_0ActVec(dst[b0*q8_0Bytes:(b0+m)*q8_0Bytes], x[b0*qk:(b0+m)*qk], &amax)
		for i := 0; i < m; i++ {
			out := (*[q8_0Bytes]byte)(dst[(b0+i)*q8_0Bytes:])
			if a := amax[i]; a <= actInf {
				h := quant.F32ToF16(math.Float32frombits(a) / 127)
				out[0], out[1] = byte(h), byte(h>>8)
			} else {
				quantizeQ8_0BlockPlain(out, (*[qk]float32)(x[(b0+i)*qk:]))
			}
		}
	}
}

// quantizeQ8_0ActVec writes the quants of up to actBatch blocks (garbage for the blocks with
// a NaN, which the scalar pass redoes) and their amax bits, not the scales.
func quantizeQ8_0ActVec(dst []byte, x []float32, amax *[actBatch]uint32) {
	abs := archsimd.BroadcastInt32x8(math.MaxInt32)
	c127 := archsimd.BroadcastUint32x8(math.Float32bits(127)).AsFloat32x8()
	f4 := archsimd.LoadUint32x8Array(&actFold4)
	f2 := archsimd.LoadUint32x8Array(&actFold2)
	f1 := archsimd.LoadUint32x8Array(&actFold1)
	low := archsimd.LoadInt8x32Array(&actLow)
	high := archsimd.LoadInt8x32Array(&actHigh)
	order := archsimd.LoadUint32x8Array(&actOrder)
	nb := min(len(x)/qk, len(dst)/q8_0Bytes, actBatch)
	for i := 0; i < nb; i++ {
		blk := (*[qk]float32)(x[i*qk:])
		out := (*[q8_0Bytes]byte)(dst[i*q8_0Bytes:])
		v0 := archsimd.LoadFloat32x8Array((*[8]float32)(blk[0:8]))
		v1 := archsimd.LoadFloat32x8Array((*[8]float32)(blk[8:16]))
		v2 := archsimd.LoadFloat32x8Array((*[8]float32)(blk[16:24]))
		v3 := archsimd.LoadFloat32x8Array((*[8]float32)(blk[24:32]))
		m := v0.AsInt32x8().And(abs).Max(v1.AsInt32x8().And(abs)).Max(v2.AsInt32x8().And(abs).Max(v3.AsInt32x8().And(abs)))
		m = m.Max(m.Permute(f4))
		m = m.Max(m.Permute(f2))
		m = m.Max(m.Permute(f1))
		amax[i] = uint32(m.GetLo().GetElem(0))
		id := c127.Div(m.AsFloat32x8())
		q0 := v0.Mul(id).Round().ConvertToInt32()
		q1 := v1.Mul(id).Round().ConvertToInt32()
		q2 := v2.Mul(id).Round().ConvertToInt32()
		q3 := v3.Mul(id).Round().ConvertToInt32()
		lo := q0.SaturateToInt16ConcatGrouped(q1).AsInt8x32().PermuteOrZeroGrouped(low)
		hi := q2.SaturateToInt16ConcatGrouped(q3).AsInt8x32().PermuteOrZeroGrouped(high)
		lo.Or(hi).AsInt32x8().Permute(order).AsUint8x32().StoreArray((*[32]uint8)(out[2:]))
	}
	archsimd.ClearAVXUpperBits()
}
