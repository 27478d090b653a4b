package quant

import (
	"encoding/binary"
	"math"
)

// quantizeQ8Activations encodes activations as Q8_0 (withSum false) or Q8_1 blocks the way
// ggml's vectorized x86 and ARM quantizers do, which is what llama.cpp runs on those machines:
// d = amax/127 stored as binary16, the values multiplied by 127/amax (not divided by d) and
// rounded half to even, and for Q8_1 the sum s = d·Σq stored as binary16. It differs from the
// reference quantizer (QuantizeQ8_0/QuantizeQ8_1) only where x·127/amax lands within a rounding
// step of a tie, which is rare but visible in the last digits of a model's logits.
func quantizeQ8Activations(dst []byte, x []float32, withSum bool) {
	bb := Q8_0.BlockBytes()
	off := 2
	if withSum {
		bb, off = Q8_1.BlockBytes(), 4
	}
	for b := 0; b < len(x)/QK; b++ {
		blk := x[b*QK : (b+1)*QK]
		out := dst[b*bb : (b+1)*bb]
		amax := absMaxQ8(blk)
		d := amax / 127
		var id float32
		if amax != 0 {
			id = 127 / amax
		}
		binary.LittleEndian.PutUint16(out, F32ToF16(d))
		var sum int32
		for j, v := range blk {
			q := int32(math.RoundToEven(float64(v * id)))
			out[off+j] = byte(int8(q))
			sum += q
		}
		if withSum {
			binary.LittleEndian.PutUint16(out[2:], F32ToF16(d*float32(sum)))
		}
	}
}
