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

// SiLU sets x[i] = x[i] / (1 + ExpApprox(-x[i])), llama.cpp's silu on vectors: the exponential
// is ExpApprox (within 2.25 units in the last place of e^-x), and the sum and quotient are
// rounded to float32. The result is within 4.1 units in the last place of x/(1+e^-x) for x in
// [-88, 88] (an exhaustive scan in the tests).
// On AVX2, AVX-512 and NEON machines eight entries at a time go through the same operations as
// vectors, with the same bits. On WebAssembly the exponential is expUnfused (each step in two
// roundings, as the browser's lane loops; within the same 4.1 units), four entries at a time on
// v128 lanes.
func SiLU(x []float32) {
	i := 0
	if floatLanesOn() {
		i = activationLanes(x, nil)
	} else if wasmFloatSIMD {
		i = siluLanesV128(x, nil)
	}
	for ; i < len(x); i++ {
		x[i] = silu(x[i])
	}
}

// SwiGLU sets gate[i] = silu(gate[i]) * up[i], silu being SiLU's, the product rounded to float32.
func SwiGLU(gate, up []float32) {
	checkLen("SwiGLU", len(gate), len(up))
	i := 0
	if floatLanesOn() {
		i = activationLanes(gate, up)
	} else if wasmFloatSIMD {
		i = siluLanesV128(gate, up)
	}
	for ; i < len(gate); i++ {
		gate[i] = silu(gate[i]) * up[i]
	}
}

// silu is v / (1 + ExpApprox(-v)) in float32 (expUnfused instead of ExpApprox on WebAssembly,
// see siluExp).
func silu(v float32) float32 {
	return v / (1 + siluExp(-v))
}

// activationLanes applies SiLU (up nil) or SwiGLU to the groups of eight entries of x (and up)
// with vectors where the CPU has them and with silu otherwise, and returns how many entries it
// did: len(x) rounded down to a multiple of 8.
func activationLanes(x, up []float32) int {
	n := len(x) &^ 7
	for i := 0; i < n; {
		var u []float32
		if up != nil {
			u = up[i:n]
		}
		i += siluSIMD(x[i:n], u)
		if i == n {
			break
		}
		// A group whose exponentials leave the range the vectors scale exactly.
		for j := i; j < i+8; j++ {
			if up != nil {
				x[j] = silu(x[j]) * up[j]
			} else {
				x[j] = silu(x[j])
			}
		}
		i += 8
	}
	return n
}
