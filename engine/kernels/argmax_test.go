package kernels_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/attnscope/attnscope/engine/kernels"
)

// scanArgmax is Argmax's definition: the first strictly greater value kept.
func scanArgmax(x []float32) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}

// checkArgmax compares Argmax, vectors on and off, with the scan.
func checkArgmax(t *testing.T, name string, x []float32) {
	t.Helper()
	want := scanArgmax(x)
	for _, on := range []bool{true, false} {
		restore := kernels.UseSIMD(on)
		got := kernels.Argmax(x)
		restore()
		if got != want {
			t.Fatalf("%s (n=%d) simd=%v: Argmax = %d, the scan gives %d", name, len(x), on, got, want)
		}
	}
}

func TestArgmax(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	for _, n := range []int{0, 1, 2, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 127, 128, 129, 1000, 32000} {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		checkArgmax(t, "random", x)
		if n == 0 {
			continue
		}
		// Ties (the lowest index wins), signed zeros, NaNs, infinities, the best first or last.
		for _, c := range []struct {
			name string
			set  func(y []float32)
		}{
			{"tie", func(y []float32) { y[n/3], y[2*n/3] = 9, 9 }},
			{"near tie", func(y []float32) { y[n-1], y[n/2], y[min((n/2)|1, n-1)] = 9, 9, 9 }},
			{"zeros", func(y []float32) {
				for i := range y {
					y[i] = -1
				}
				y[n/2], y[n-1], y[n/4] = float32(math.Copysign(0, -1)), 0, float32(math.Copysign(0, -1))
			}},
			{"nan inside", func(y []float32) { y[n/2], y[n-1] = nan, nan }},
			{"nan first", func(y []float32) { y[0] = nan }},
			{"inf", func(y []float32) { y[n-1], y[n/2] = inf, inf }},
			{"all -inf", func(y []float32) {
				for i := range y {
					y[i] = -inf
				}
			}},
			{"last", func(y []float32) { y[n-1] = 100 }},
			{"first", func(y []float32) { y[0] = 100 }},
		} {
			y := append([]float32(nil), x...)
			c.set(y)
			checkArgmax(t, c.name, y)
		}
	}
}

func FuzzArgmax(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8}, uint16(70))
	f.Fuzz(func(t *testing.T, data []byte, n uint16) {
		x := make([]float32, int(n)%300)
		for i := range x {
			if len(data) == 0 {
				break
			}
			// Few distinct values (ties) and the odd special one.
			b := data[i%len(data)] ^ byte(i)
			switch b % 16 {
			case 0:
				x[i] = float32(math.NaN())
			case 1:
				x[i] = float32(math.Copysign(0, -1))
			default:
				x[i] = float32(b%7) - 3
			}
		}
		checkArgmax(t, fmt.Sprintf("fuzz %x", data), x)
	})
}

// BenchmarkArgmax picks the largest of a vocabulary's logits, as greedy decoding does once a
// token.
func BenchmarkArgmax(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, 32000)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	sides(b, func(b *testing.B) {
		b.SetBytes(int64(4 * len(x)))
		for b.Loop() {
			kernels.Argmax(x)
		}
	})
}
