package backendtest

import (
	"math"
	"math/rand/v2"

	"github.com/attnscope/attnscope/engine/quant"
)

// RandomWeights returns rows×cols weights of type typ in ggml's layout, drawn from r:
// normally distributed values encoded with quant.Quantize for the types it can encode, and
// K-quant super-blocks with random quants and scales under small super-block scales for
// Q2_K…Q6_K. For any other type it returns random bytes whose rows dequantize to finite values
// of moderate size, or nil if it finds none. cols must be a multiple of the type's block size.
func RandomWeights(typ quant.Type, rows, cols int, r *rand.Rand) []byte {
	rb, err := quant.RowBytes(typ, cols)
	if err != nil {
		panic("backendtest: RandomWeights: " + err.Error())
	}
	data := make([]byte, rows*rb)
	if quant.CanQuantize(typ) {
		x := make([]float32, rows*cols)
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		if err := quant.Quantize(typ, data, x); err != nil {
			panic("backendtest: RandomWeights: " + err.Error())
		}
		return data
	}
	bb := typ.BlockBytes()
	for off := 0; off < len(data); off += bb {
		if !kQuantBlock(typ, data[off:off+bb], r) {
			return randomRows(typ, data, rb, cols, r)
		}
	}
	return data
}

// small returns the binary16 bits of a scale in [lo, hi).
func small(r *rand.Rand, lo, hi float64) uint16 {
	return quant.F32ToF16(float32(lo + (hi-lo)*r.Float64()))
}

func fill(r *rand.Rand, b []uint8) {
	for i := range b {
		b[i] = uint8(r.Uint32())
	}
}

// kQuantBlock writes one random K-quant super-block of type typ to dst, reporting false for
// other types. The super-block scales are kept small so that the weights are O(1).
func kQuantBlock(typ quant.Type, dst []byte, r *rand.Rand) bool {
	switch typ {
	case quant.Q2_K:
		var b quant.BlockQ2K
		fill(r, b.Scales[:])
		fill(r, b.Qs[:])
		b.D, b.Dmin = small(r, 0.005, 0.05), small(r, 0.005, 0.05)
		b.Store(dst)
	case quant.Q3_K:
		var b quant.BlockQ3K
		fill(r, b.Hmask[:])
		fill(r, b.Qs[:])
		fill(r, b.Scales[:])
		b.D = small(r, 0.002, 0.02)
		b.Store(dst)
	case quant.Q4_K:
		var b quant.BlockQ4K
		fill(r, b.Scales[:])
		fill(r, b.Qs[:])
		b.D, b.Dmin = small(r, 0.001, 0.01), small(r, 0.001, 0.02)
		b.Store(dst)
	case quant.Q5_K:
		var b quant.BlockQ5K
		fill(r, b.Scales[:])
		fill(r, b.Qh[:])
		fill(r, b.Qs[:])
		b.D, b.Dmin = small(r, 0.0005, 0.005), small(r, 0.001, 0.02)
		b.Store(dst)
	case quant.Q6_K:
		var b quant.BlockQ6K
		fill(r, b.Ql[:])
		fill(r, b.Qh[:])
		for i := range b.Scales {
			b.Scales[i] = int8(r.IntN(256) - 128)
		}
		b.D = small(r, 0.0001, 0.001)
		b.Store(dst)
	default:
		return false
	}
	return true
}

// randomRows fills data with random rows of type typ (rb bytes, cols values each), redrawing
// each row until it dequantizes to finite values no larger than 1e6; nil if one never does.
func randomRows(typ quant.Type, data []byte, rb, cols int, r *rand.Rand) []byte {
	vals := make([]float32, cols)
	for off := 0; off < len(data); off += rb {
		ok := false
		for try := 0; try < 1000 && !ok; try++ {
			fill(r, data[off:off+rb])
			if quant.Dequantize(typ, vals, data[off:off+rb]) != nil {
				return nil
			}
			ok = true
			for _, v := range vals {
				if math.IsNaN(float64(v)) || math.Abs(float64(v)) > 1e6 {
					ok = false
					break
				}
			}
		}
		if !ok {
			return nil
		}
	}
	return data
}
