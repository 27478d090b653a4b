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
// On AVX2 and AVX-512 machines eight entries at a time go through the same operations as
// vectors, with the same bits.
func SiLU(x []float32) {
	i := 0
	if simdLevel == simdAVX2 || simdLevel == simdAVX512 {
		i = activationLanes(x, nil)
	}
	for ; i < len(x); i++ {
		x[i] = silu(x[i])
	}
}

// SwiGLU sets gate[i] = silu(gate[i]) * up[i], silu being SiLU's, the product rounded to float32.
func SwiGLU(gate, up []float32) {
	checkLen("SwiGLU", len(gate), len(up))
	i := 0
	if simdLevel == simdAVX2 || simdLevel == simdAVX512 {
		i = activationLanes(gate, up)
	}
	for ; i < len(gate); i++ {
		gate[i] = silu(gate[i]) * up[i]
	}
}

// silu is v / (1 + ExpApprox(-v)) in float32.
func silu(v float32) float32 {
	return v / (1 + expScaled(-v))
}

// expScaled is ExpApprox(x), bit for bit, with its final scaling j·2^n done as a multiplication
// by 2^n built in the exponent bits where that is exact (n in [-125, 127], j being in about
// [0.7, 1.42]): the vector code's way, and much faster than math.Ldexp in plain Go. Other
// arguments go to ExpApprox.
func expScaled(x float32) float32 {
	const (
		shift = 0x1.8p23
		log2e = 0x1.715476p+0
		ln2hi = 0x1.62e4p-1
		ln2lo = 0x1.7f7d1cp-20
		c1    = 0x1.ffffecp-1
		c2    = 0x1.fffdb6p-2
		c3    = 0x1.555e66p-3
		c4    = 0x1.573e2ep-5
		c5    = 0x1.0e4020p-7
	)
	// fmaFast is FMA32 when its ok is true; a rare false (a float32 midpoint or a result
	// below the normal range) sends x to ExpApprox.
	z, ok0 := fmaFast(x, log2e, shift)
	n := z - shift
	h, ok1 := fmaFast(-n, ln2hi, x)
	b, ok2 := fmaFast(-n, ln2lo, h)
	u := b * b
	p5, ok3 := fmaFast(c5, b, c4)
	p3, ok4 := fmaFast(c3, b, c2)
	p1, ok5 := fmaFast(c1, b, 1)
	q, ok6 := fmaFast(p5, u, p3)
	j, ok7 := fmaFast(q, u, p1)
	if !(ok0 && ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7 && n >= -125 && n <= 127) { // NaN included
		return ExpApprox(x)
	}
	return float32(j * math.Float32frombits(uint32(int32(n)+127)<<23)) // exact
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
