package kernels_test

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/attnscope/attnscope/engine/kernels"
)

// fuzzVectors decodes two vectors from data, three bytes per element: a 16-bit integer and a
// binary exponent in [-16, 15], so that magnitudes span about 2^±31 without overflow.
func fuzzVectors(data []byte) (a, b []float32) {
	n := min(len(data)/6, 2048)
	a, b = make([]float32, n), make([]float32, n)
	val := func(p []byte) float32 {
		m := int16(binary.LittleEndian.Uint16(p))
		return float32(math.Ldexp(float64(m), int(p[2]%32)-16))
	}
	for i := 0; i < n; i++ {
		a[i], b[i] = val(data[6*i:]), val(data[6*i+3:])
	}
	return a, b
}

func FuzzDotLanes(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{1, 0, 16, 2, 0, 16})
	seed := make([]byte, 6*100)
	r := newRand(51)
	for i := range seed {
		seed[i] = byte(r.Uint32())
	}
	f.Add(seed)
	f.Fuzz(func(t *testing.T, data []byte) {
		a, b := fuzzVectors(data)
		n := len(a)
		want, abs := dot64(a, b)
		// Results near the subnormal range also carry an absolute error of half a subnormal
		// spacing per rounding.
		tiny := float64(n+8) * 0x1p-150
		for _, c := range []struct {
			name  string
			got   float32
			order float32
			depth int
		}{
			{"DotLanes", kernels.DotLanes(a, b), lanesOrder(a, b), lanesDepth(n)},
			{"DotBlocked", kernels.DotBlocked(a, b), blockedOrder(a, b), blockedDepth(n)},
		} {
			if math.Float32bits(c.got) != math.Float32bits(c.order) {
				t.Fatalf("%s n=%d: %g, documented order %g", c.name, n, c.got, c.order)
			}
			if err := math.Abs(float64(c.got) - want); err > dotBound(c.depth, n, abs)+tiny {
				t.Fatalf("%s n=%d: %g, float64 %g (error %.3g, bound %.3g)", c.name, n, c.got, want, err, dotBound(c.depth, n, abs)+tiny)
			}
		}
	})
}

func FuzzExpApprox(f *testing.F) {
	for _, x := range []float32{0, 1, -1, 0.5, 88, 88.7, 89, -87, -103.9, -104, -4.5553937, 1e-30, 100, -1000} {
		f.Add(x)
	}
	f.Fuzz(func(t *testing.T, x float32) {
		y := kernels.ExpApprox(x)
		switch {
		case math.IsNaN(float64(x)):
			return
		case x < -104:
			if y != 0 || math.Signbit(float64(y)) {
				t.Fatalf("ExpApprox(%g) = %g, want +0", x, y)
			}
		case x > 89:
			if !math.IsInf(float64(y), 1) {
				t.Fatalf("ExpApprox(%g) = %g, want +Inf", x, y)
			}
		case x == 0:
			if y != 1 {
				t.Fatalf("ExpApprox(%g) = %g, want 1", x, y)
			}
		default:
			if u, ok := expULP(x, expMaxULP); !ok {
				t.Fatalf("ExpApprox(%g) = %g, e^x = %g: %.4f ulp", x, y, math.Exp(float64(x)), u)
			}
		}
	})
}
