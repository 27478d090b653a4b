package kernels

import (
	"math"
	"sync"

	"github.com/attnscope/attnscope/engine/quant"
)

const sqrt2OverPi = 0.79788456080286535587989211986876
const geluCoefA = 0.044715

// GELUExact is the tanh approximation of GELU computed in float32:
// 0.5·x·(1 + tanh(√(2/π)·x·(1 + 0.044715·x²))).
func GELUExact(x float32) float32 {
	inner := FMA32(geluCoefA*x, x, 1)
	return 0.5 * x * (1 + float32(math.Tanh(float64(sqrt2OverPi*x*inner))))
}

var (
	geluTableOnce sync.Once
	geluTable     []uint16 // GELU of every half-precision value, rounded to half precision
)

// GELU applies GELU to x in place the way ggml's CPU backend does: inputs in (-10, 10) are rounded
// to half precision and looked up in a table of half-precision results; x ≤ -10 gives 0 and x ≥ 10
// gives x. This is what llama.cpp computes for GPT-2 and BERT, so matching it matters.
func GELU(x []float32) {
	geluTableOnce.Do(func() {
		geluTable = make([]uint16, 1<<16)
		for i := range geluTable {
			geluTable[i] = quant.F32ToF16(GELUExact(quant.F16ToF32(uint16(i))))
		}
	})
	for i, v := range x {
		switch {
		case v <= -10:
			x[i] = 0
		case v >= 10:
		default:
			x[i] = quant.F16ToF32(geluTable[quant.F32ToF16(v)])
		}
	}
}

// SiLU sets x[i] = x[i] / (1 + exp(-x[i])).
func SiLU(x []float32) {
	for i, v := range x {
		x[i] = v / (1 + float32(math.Exp(float64(-v))))
	}
}

// SwiGLU sets gate[i] = silu(gate[i]) * up[i].
func SwiGLU(gate, up []float32) {
	checkLen("SwiGLU", len(gate), len(up))
	for i, v := range gate {
		gate[i] = v / (1 + float32(math.Exp(float64(-v)))) * up[i]
	}
}
