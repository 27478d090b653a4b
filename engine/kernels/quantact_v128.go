//go:build goexperiment.simd && (wasm || arm64)

package kernels

import (
	"math"
	"simd/archsimd"

	"github.com/attnscope/attnscope/engine/quant"
)

// On 128-bit vectors (NEON, WebAssembly's SIMD128) a block is quantized on eight vectors where
// its maximum is finite, not zero and 127/amax is finite: every product v·(127/amax) is then a
// finite float32 of magnitude at most 127, rounded half to even as a float32 (FRINTN,
// f32x4.nearest), which is what the plain code's float64 rounding of the same product gives,
// and the low bytes of the integers are the quants (lowBytes, per platform). Every other block (a
// NaN, ±Inf, all zeros, or a maximum so small that 127/amax overflows) runs the plain code,
// whose out-of-range conversions are the machine's own.

// quantActKernel says that QuantizeQ8_0Activations has a vector version in this build.
const quantActKernel = true

// quantizeQ8_0ActSIMD computes QuantizeQ8_0Activations (lengths checked). The block's eight
// vectors are locals (an array of vectors would live in memory in WebAssembly).
func quantizeQ8_0ActSIMD(dst []byte, x []float32) {
	abs := archsimd.BroadcastInt32x4(math.MaxInt32)
	for b := 0; b < len(x)/qk; b++ {
		blk := (*[qk]float32)(x[b*qk:])
		out := (*[q8_0Bytes]byte)(dst[b*q8_0Bytes:])
		v0 := archsimd.LoadFloat32x4Array((*[4]float32)(blk[0:4]))
		v1 := archsimd.LoadFloat32x4Array((*[4]float32)(blk[4:8]))
		v2 := archsimd.LoadFloat32x4Array((*[4]float32)(blk[8:12]))
		v3 := archsimd.LoadFloat32x4Array((*[4]float32)(blk[12:16]))
		v4 := archsimd.LoadFloat32x4Array((*[4]float32)(blk[16:20]))
		v5 := archsimd.LoadFloat32x4Array((*[4]float32)(blk[20:24]))
		v6 := archsimd.LoadFloat32x4Array((*[4]float32)(blk[24:28]))
		v7 := archsimd.LoadFloat32x4Array((*[4]float32)(blk[28:32]))
		// The largest magnitude as bits (sign cleared, integer order is float order).
		m := v0.ToBits().BitsToInt32().And(abs).Max(v1.ToBits().BitsToInt32().And(abs))
		m = m.Max(v2.ToBits().BitsToInt32().And(abs)).Max(v3.ToBits().BitsToInt32().And(abs))
		m = m.Max(v4.ToBits().BitsToInt32().And(abs)).Max(v5.ToBits().BitsToInt32().And(abs))
		m = m.Max(v6.ToBits().BitsToInt32().And(abs)).Max(v7.ToBits().BitsToInt32().And(abs))
		a := max(m.GetElem(0), m.GetElem(1), m.GetElem(2), m.GetElem(3))
		if a == 0 || a >= 0x7f800000 {
			quantizeQ8_0BlockPlain(out, blk)
			continue
		}
		amax := math.Float32frombits(uint32(a))
		id := 127 / amax
		if id > math.MaxFloat32 {
			quantizeQ8_0BlockPlain(out, blk) // 127/amax overflows
			continue
		}
		h := quant.F32ToF16(amax / 127)
		out[0], out[1] = byte(h), byte(h>>8)
		idv := archsimd.BroadcastFloat32x4(id)
		lo := lowBytes(v0.Mul(idv).Round().ConvertToInt32(), v1.Mul(idv).Round().ConvertToInt32(),
			v2.Mul(idv).Round().ConvertToInt32(), v3.Mul(idv).Round().ConvertToInt32())
		hi := lowBytes(v4.Mul(idv).Round().ConvertToInt32(), v5.Mul(idv).Round().ConvertToInt32(),
			v6.Mul(idv).Round().ConvertToInt32(), v7.Mul(idv).Round().ConvertToInt32())
		lo.StoreArray((*[16]uint8)(out[2:18]))
		hi.StoreArray((*[16]uint8)(out[18:34]))
	}
}
