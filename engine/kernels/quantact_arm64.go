//go:build goexperiment.simd

package kernels

import (
	"math"
	"simd/archsimd"

	"github.com/attnscope/attnscope/engine/quant"
)

// On NEON a block is quantized on four 128-bit vectors where its maximum is finite, not zero
// and 127/amax is finite: every product v·(127/amax) is then a finite float32 of magnitude at
// most 127, rounded half to even as a float32 (FRINTN), which is what the plain code's float64
// rounding of the same product gives, and its low bytes are the quants. Every other block (a
// NaN, ±Inf, all zeros, or a maximum so small that 127/amax overflows) runs the plain code,
// whose out-of-range conversions are the machine's own.

// quantActKernel says that QuantizeQ8_0Activations has a vector version in this build.
const quantActKernel = true

// quantizeQ8_0ActSIMD computes QuantizeQ8_0Activations (lengths checked).
func quantizeQ8_0ActSIMD(dst []byte, x []float32) {
	abs := archsimd.BroadcastInt32x4(math.MaxInt32)
	for b := 0; b < len(x)/qk; b++ {
		blk := (*[qk]float32)(x[b*qk:])
		out := (*[q8_0Bytes]byte)(dst[b*q8_0Bytes:])
		var v [8]archsimd.Float32x4
		for i := range v {
			v[i] = archsimd.LoadFloat32x4Array((*[4]float32)(blk[4*i : 4*i+4]))
		}
		// The largest magnitude as bits (sign cleared, integer order is float order).
		m := v[0].ToBits().BitsToInt32().And(abs)
		for i := 1; i < 8; i++ {
			m = m.Max(v[i].ToBits().BitsToInt32().And(abs))
		}
		a := max(m.GetElem(0), m.GetElem(1), m.GetElem(2), m.GetElem(3))
		amax := math.Float32frombits(uint32(a))
		id := 127 / amax
		if a == 0 || a >= 0x7f800000 || math.IsInf(float64(id), 0) {
			quantizeQ8_0BlockPlain(out, blk)
			continue
		}
		h := quant.F32ToF16(amax / 127)
		out[0], out[1] = byte(h), byte(h>>8)
		idv := archsimd.BroadcastFloat32x4(id)
		var q [8]archsimd.Uint16x8
		for i := range v {
			q[i] = v[i].Mul(idv).Round().ConvertToInt32().ToBits().ReshapeToUint16s()
		}
		// Low halves of the int32 lanes (even int16 elements), then low bytes (even bytes).
		lo := q[0].ConcatEven(q[1]).ReshapeToUint8s().ConcatEven(q[2].ConcatEven(q[3]).ReshapeToUint8s())
		hi := q[4].ConcatEven(q[5]).ReshapeToUint8s().ConcatEven(q[6].ConcatEven(q[7]).ReshapeToUint8s())
		lo.StoreArray((*[16]uint8)(out[2:18]))
		hi.StoreArray((*[16]uint8)(out[18:34]))
	}
}
