package kernels_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/attnscope/attnscope/engine/kernels"
)

// BenchmarkSwiGLU measures SwiGLU and SiLU on a feed-forward row's worth of entries, with the
// vectors (simd=on, where the CPU has them) and in plain Go; bytes are those of gate and up.
func BenchmarkSwiGLU(b *testing.B) {
	const n = 4096
	r := newRand(24)
	gate0, up := uniform(r, n, -8, 8), normal(r, n, 1)
	gate := make([]float32, n)
	for _, simd := range []bool{true, false} {
		b.Run(fmt.Sprintf("SwiGLU/simd=%v", onOff(simd)), func(b *testing.B) {
			defer kernels.UseSIMD(simd)()
			b.SetBytes(8 * n)
			for b.Loop() {
				copy(gate, gate0)
				kernels.SwiGLU(gate, up)
			}
		})
		b.Run(fmt.Sprintf("SiLU/simd=%v", onOff(simd)), func(b *testing.B) {
			defer kernels.UseSIMD(simd)()
			b.SetBytes(4 * n)
			for b.Loop() {
				copy(gate, gate0)
				kernels.SiLU(gate)
			}
		})
	}
}

// BenchmarkSwiGLUFloat64Exp is the SwiGLU of float64 exponentials rounded to float32, for
// comparison with BenchmarkSwiGLU.
func BenchmarkSwiGLUFloat64Exp(b *testing.B) {
	const n = 4096
	r := newRand(24)
	gate0, up := uniform(r, n, -8, 8), normal(r, n, 1)
	gate := make([]float32, n)
	b.SetBytes(8 * n)
	for b.Loop() {
		copy(gate, gate0)
		for i, v := range gate {
			gate[i] = v / (1 + float32(math.Exp(float64(-v)))) * up[i]
		}
	}
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}
