package kernels_test

import (
	"fmt"
	"testing"

	"github.com/attnscope/attnscope/engine/kernels"
)

// checkMatMulLanes compares MatMulLanes, SIMD on and off, with DotLanesPlain per entry, and
// checks that it writes nothing outside the rows×inputs entries of dst.
func checkMatMulLanes(t *testing.T, w, x []float32, c, ldd int) {
	t.Helper()
	rows, n := len(w)/c, len(x)/c
	for _, on := range []bool{true, false} {
		restore := kernels.UseSIMD(on)
		dst := make([]float32, n*ldd)
		const guard = float32(-12345)
		for k := range dst {
			dst[k] = guard
		}
		kernels.MatMulLanes(dst, ldd, w, x, c)
		restore()
		for i := 0; i < n; i++ {
			for r := 0; r < ldd; r++ {
				got := dst[i*ldd+r]
				if r >= rows {
					if got != guard {
						t.Fatalf("c=%d rows=%d n=%d simd=%v: dst[%d][%d] (outside) written", c, rows, n, on, i, r)
					}
					continue
				}
				if want := kernels.DotLanesPlain(w[r*c:(r+1)*c], x[i*c:(i+1)*c]); !sameBits(got, want) {
					t.Fatalf("c=%d rows=%d n=%d simd=%v: dst[%d][%d] = %x, DotLanes %x", c, rows, n, on, i, r, got, want)
				}
			}
		}
	}
}

func TestMatMulLanesMatchesDotLanes(t *testing.T) {
	for _, c := range []int{5, 16, 17, 32, 288, 768} {
		for _, rows := range []int{1, 2, 3, 5, 16} {
			for _, n := range []int{1, 2, 3, 4, 7} {
				t.Run(fmt.Sprintf("c=%d/rows=%d/n=%d", c, rows, n), func(t *testing.T) {
					in := simdInputs(uint64(c*1000+rows*10+n), rows*c)
					xs := simdInputs(uint64(c*1000+rows*10+n)+1, n*c)
					for k := range in {
						checkMatMulLanes(t, in[k][0], xs[k][1], c, rows+k%2)
					}
				})
			}
		}
	}
}

func TestMatMulLanesPanics(t *testing.T) {
	mustPanic(t, "kernels: MatMulLanes", func() { kernels.MatMulLanes(make([]float32, 4), 2, make([]float32, 5), make([]float32, 4), 2) })
	mustPanic(t, "kernels: MatMulLanes", func() { kernels.MatMulLanes(make([]float32, 3), 2, make([]float32, 4), make([]float32, 4), 2) })
	mustPanic(t, "kernels: MatMulLanes", func() { kernels.MatMulLanes(make([]float32, 4), 1, make([]float32, 4), make([]float32, 4), 2) })
}

func FuzzMatMulLanes(f *testing.F) {
	f.Add(uint8(4), uint8(3), []byte{1, 2, 3, 4, 5, 6})
	f.Fuzz(func(t *testing.T, rows, inputs uint8, data []byte) {
		a, b := fuzzVectors(data)
		r, n := int(rows%9)+1, int(inputs%7)+1
		c := len(a) / max(r, n)
		if c == 0 {
			return
		}
		checkMatMulLanes(t, a[:r*c], b[:n*c], c, r+int(rows/9%3))
	})
}

func BenchmarkMatMulLanes(b *testing.B) {
	for _, shape := range [][3]int{{16, 288, 128}, {16, 768, 128}, {4, 2048, 128}} {
		rows, c, n := shape[0], shape[1], shape[2]
		r := newRand(69)
		w, x := normal(r, rows*c, 1), normal(r, n*c, 1)
		dst := make([]float32, n*rows)
		b.Run(fmt.Sprintf("%dx%d/n=%d", rows, c, n), func(b *testing.B) {
			sides(b, func(b *testing.B) {
				for b.Loop() {
					kernels.MatMulLanes(dst, rows, w, x, c)
				}
				flops(b, float64(2*rows*c*n))
			})
			b.Run("MatVecLanes", func(b *testing.B) {
				for b.Loop() {
					for i := 0; i < n; i++ {
						kernels.MatVecLanes(dst[i*rows:(i+1)*rows], w, x[i*c:(i+1)*c])
					}
				}
				flops(b, float64(2*rows*c*n))
			})
		})
	}
}
