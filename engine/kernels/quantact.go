package kernels

import (
	"fmt"
	"math"

	"github.com/attnscope/attnscope/engine/quant"
)

// QuantizeQ8_0Activations encodes x (a multiple of 32 values) as Q8_0 blocks into dst
// (34 bytes a block), byte for byte what quant.QuantizeActivations(quant.Q8_0, dst, x)
// writes: per block amax = the largest |v| (with quant's NaN order), d = amax/127 stored as
// binary16, and q_j = v_j·(127/amax) rounded half to even (127/amax taken as 0 when amax is 0).
//
// With AVX2 the blocks are quantized in vectors, but for those holding a NaN, which run the
// plain code; with NEON and WebAssembly's SIMD128 too, but for those holding a NaN or ±Inf, all
// zeros or a maximum so small that 127/amax overflows.
func QuantizeQ8_0Activations(dst []byte, x []float32) {
	if len(x)%qk != 0 {
		panic(fmt.Sprintf("kernels: QuantizeQ8_0Activations: %d values is not a multiple of the block size %d", len(x), qk))
	}
	if want := len(x) / qk * q8_0Bytes; len(dst) != want {
		panic(fmt.Sprintf("kernels: QuantizeQ8_0Activations: destination has %d bytes, %d values need %d", len(dst), len(x), want))
	}
	if quantActKernel && quantSIMD {
		quantizeQ8_0ActSIMD(dst, x)
		return
	}
	quantizeQ8_0ActPlain(dst, x)
}

// quantizeQ8_0ActPlain is the plain-Go version of QuantizeQ8_0Activations (lengths checked).
func quantizeQ8_0ActPlain(dst []byte, x []float32) {
	for b := 0; b < len(x)/qk; b++ {
		quantizeQ8_0BlockPlain((*[q8_0Bytes]byte)(dst[b*q8_0Bytes:]), (*[qk]float32)(x[b*qk:]))
	}
}

// quantizeQ8_0BlockPlain encodes one block of 32 values.
func quantizeQ8_0BlockPlain(out *[q8_0Bytes]byte, x *[qk]float32) {
	// A NaN replaces the running maximum, and any value after it replaces the NaN.
	var amax float32
	for _, v := range x {
		if a := math.Float32frombits(math.Float32bits(v) &^ (1 << 31)); !(amax > a) {
			amax = a
		}
	}
	var id float32
	if amax != 0 {
		id = 127 / amax
	}
	h := quant.F32ToF16(amax / 127)
	out[0], out[1] = byte(h), byte(h>>8)
	for j, v := range x {
		// Out of range (NaN, ±Inf, beyond int32) the conversion gives what the machine gives,
		// as quant's does; on amd64 that is −2³¹, whose low byte is 0.
		out[2+j] = byte(int8(int32(math.RoundToEven(float64(v * id)))))
	}
}
