package kernels_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/attnscope/attnscope/engine/kernels"
)

var sink float32

// sides runs bench twice, as sub-benchmarks "simd" (the kernels this machine dispatches to)
// and "plain" (the plain-Go versions), so that one run compares them side by side.
func sides(b *testing.B, bench func(b *testing.B)) {
	b.Run("simd="+kernels.SIMD(), bench)
	b.Run("plain", func(b *testing.B) {
		defer kernels.UseSIMD(false)()
		bench(b)
	})
}

// flops reports a GFLOP/s metric for flopsPerOp floating-point operations per iteration.
func flops(b *testing.B, flopsPerOp float64) {
	b.ReportMetric(flopsPerOp*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func BenchmarkDotLanes(b *testing.B) {
	for _, n := range []int{64, 288, 4096} {
		r := newRand(61)
		x, y := normal(r, n, 1), normal(r, n, 1)
		b.Run(fmt.Sprint("n=", n), func(b *testing.B) {
			sides(b, func(b *testing.B) {
				b.SetBytes(int64(8 * n))
				for b.Loop() {
					sink += kernels.DotLanes(x, y)
				}
				flops(b, float64(2*n))
			})
		})
	}
}

func BenchmarkDotBlocked(b *testing.B) {
	for _, n := range []int{64, 288, 4096} {
		r := newRand(62)
		x, y := normal(r, n, 1), normal(r, n, 1)
		b.Run(fmt.Sprint("n=", n), func(b *testing.B) {
			sides(b, func(b *testing.B) {
				b.SetBytes(int64(8 * n))
				for b.Loop() {
					sink += kernels.DotBlocked(x, y)
				}
				flops(b, float64(2*n))
			})
		})
	}
}

func BenchmarkExpApprox(b *testing.B) {
	x := uniform(newRand(63), 1024, -20, 0)
	b.SetBytes(int64(4 * len(x)))
	for b.Loop() {
		var s float32
		for _, v := range x {
			s += kernels.ExpApprox(v)
		}
		sink += s
	}
}

func BenchmarkSoftmaxChunked(b *testing.B) {
	for _, n := range []int{100, 1024} {
		row := normal(newRand(64), n, 3)
		x := make([]float32, n)
		b.Run(fmt.Sprint("n=", n), func(b *testing.B) {
			sides(b, func(b *testing.B) {
				b.SetBytes(int64(4 * n))
				for b.Loop() {
					copy(x, row)
					kernels.SoftmaxChunked(x, true)
				}
			})
		})
	}
}

func BenchmarkAttentionRow(b *testing.B) {
	for _, headDim := range []int{8, 48, 64, 128} {
		for _, nKeys := range []int{128, 1024} {
			r := newRand(65)
			l := newKV(r, nKeys, 1, headDim)
			q := normal(r, headDim, 1)
			out, probs := make([]float32, headDim), make([]float32, nKeys)
			scale := float32(1 / math.Sqrt(float64(headDim)))
			b.Run(fmt.Sprintf("hd=%d/keys=%d", headDim, nKeys), func(b *testing.B) {
				sides(b, func(b *testing.B) {
					b.SetBytes(int64(2 * nKeys * headDim * 4)) // the keys and values read
					for b.Loop() {
						kernels.AttentionRow(out, probs, q, l.k, l.v, nKeys, headDim, 0, scale, nil, true)
					}
					b.ReportMetric(float64(nKeys)*float64(b.N)/b.Elapsed().Seconds(), "keys/s")
					flops(b, float64(4*nKeys*headDim))
				})
			})
		}
	}
}

// BenchmarkAttentionPromptRows measures a prompt's exact attention for one head (every query
// over the keys up to its own, keys in a cache): queries one at a time (AttentionRow) and four
// at a time (AttentionRows), the same bits.
func BenchmarkAttentionPromptRows(b *testing.B) {
	for _, headDim := range []int{48, 64} {
		const n, nKVHead = 128, 6
		r := newRand(67)
		l := newKV(r, n, nKVHead, headDim)
		q := normal(r, n*headDim, 1)
		out := make([]float32, n*headDim)
		probs := make([][]float32, kernels.AttentionRowsAtOnce)
		for i := range probs {
			probs[i] = make([]float32, n)
		}
		scale := float32(1 / math.Sqrt(float64(headDim)))
		work := float64(4 * headDim * n * (n + 1) / 2)
		row := func(i int) []float32 { return q[i*headDim : (i+1)*headDim] }
		o := func(i int) []float32 { return out[i*headDim : (i+1)*headDim] }
		b.Run(fmt.Sprintf("hd=%d/n=%d/one", headDim, n), func(b *testing.B) {
			for b.Loop() {
				for i := 0; i < n; i++ {
					kernels.AttentionRow(o(i), probs[0], row(i), l.k, l.v, i+1, l.stride(), l.off(1), scale, nil, true)
				}
			}
			flops(b, work)
		})
		b.Run(fmt.Sprintf("hd=%d/n=%d/four", headDim, n), func(b *testing.B) {
			for b.Loop() {
				for i := 0; i < n; i += 4 {
					kernels.AttentionRows([][]float32{o(i), o(i + 1), o(i + 2), o(i + 3)}, probs,
						[][]float32{row(i), row(i + 1), row(i + 2), row(i + 3)}, l.k, l.v, []int{i + 1, i + 2, i + 3, i + 4},
						l.stride(), l.off(1), scale, true)
				}
			}
			flops(b, work)
		})
	}
}

func BenchmarkMatVecLanes(b *testing.B) {
	for _, shape := range [][2]int{{768, 288}, {288, 768}, {4096, 288}, {32000, 288}} {
		rows, c := shape[0], shape[1]
		r := newRand(66)
		w, x := normal(r, rows*c, 1), normal(r, c, 1)
		dst := make([]float32, rows)
		b.Run(fmt.Sprintf("%dx%d", rows, c), func(b *testing.B) {
			sides(b, func(b *testing.B) {
				b.SetBytes(int64(4 * rows * c))
				for b.Loop() {
					kernels.MatVecLanes(dst, w, x)
				}
				flops(b, float64(2*rows*c))
			})
		})
	}
}
