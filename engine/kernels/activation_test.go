package kernels_test

import (
	"math"
	"testing"

	"github.com/attnscope/attnscope/engine/kernels"
	"github.com/attnscope/attnscope/engine/quant"
)

func gelu64(x float64) float64 {
	return 0.5 * x * (1 + math.Tanh(math.Sqrt(2/math.Pi)*x*(1+0.044715*x*x)))
}

func silu64(x float64) float64 { return x / (1 + math.Exp(-x)) }

// half rounds v to binary16 and back.
func half(v float32) float32 { return quant.F16ToF32(quant.F32ToF16(v)) }

// geluWant is what GELU must give for v: 0 at or below -10, v at or above 10, and otherwise
// GELUExact of v rounded to half precision, rounded to half precision.
func geluWant(v float32) float32 {
	switch {
	case v <= -10:
		return 0
	case v >= 10:
		return v
	}
	return half(kernels.GELUExact(half(v)))
}

func TestGELUTable(t *testing.T) {
	var in []float32
	// Every finite half-precision value, and the float32 values just either side of each
	// (which round to it or to a neighbour).
	for h := 0; h < 1<<16; h++ {
		v := quant.F16ToF32(uint16(h))
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			continue
		}
		in = append(in, v, math.Nextafter32(v, float32(math.Inf(1))), math.Nextafter32(v, float32(math.Inf(-1))))
	}
	// Midpoints between adjacent positive halves in (-10, 10): ties round to even.
	for h := uint16(0); quant.F16ToF32(h+1) < 10; h++ {
		m := (quant.F16ToF32(h) + quant.F16ToF32(h+1)) / 2
		in = append(in, m, -m)
	}
	r := newRand(21)
	in = append(in, uniform(r, 20000, -12, 12)...)
	in = append(in, -10, 10, math.Nextafter32(-10, 0), math.Nextafter32(10, 0), -1e6, 1e6, float32(math.Inf(-1)), float32(math.Inf(1)))
	got := append([]float32(nil), in...)
	kernels.GELU(got)
	for i, v := range in {
		want := geluWant(v)
		if math.Float32bits(got[i]) != math.Float32bits(want) {
			t.Fatalf("GELU(%g) = %g (%#08x), want %g (%#08x)", v, got[i], math.Float32bits(got[i]), want, math.Float32bits(want))
		}
	}
}

func TestGELUExact(t *testing.T) {
	var worst float64
	for x := float32(-12); x <= 12; x += 1.0 / 512 {
		got, want := float64(kernels.GELUExact(x)), gelu64(float64(x))
		// 1 + tanh(…) cancels for negative x, where the float32 tanh's rounding (2⁻²⁴
		// relative) becomes an absolute error of about |x|·2⁻²⁴.
		tol := 1e-6*math.Abs(want) + 4*u32*math.Max(1, math.Abs(float64(x)))
		err := math.Abs(got - want)
		worst = max(worst, err/tol)
		if err > tol {
			t.Fatalf("GELUExact(%g) = %g, want %g", x, got, want)
		}
	}
	if g := kernels.GELUExact(0); g != 0 {
		t.Errorf("GELUExact(0) = %g", g)
	}
	t.Logf("GELUExact: largest error %.3g of the tolerance", worst)
}

func TestSiLUSwiGLU(t *testing.T) {
	r := newRand(22)
	x := append(uniform(r, 5000, -20, 20), normal(r, 1000, 3)...)
	x = append(x, 0, -87, -88, -89, -100, 50, 100, 1e30, -1e30)
	up := normal(r, len(x), 2)
	s := append([]float32(nil), x...)
	kernels.SiLU(s)
	g := append([]float32(nil), x...)
	kernels.SwiGLU(g, up)
	var worst float64
	for i, v := range x {
		want := silu64(float64(v))
		// Relative 1e-6; below -88 the float32 exponential overflows and the result is -0 for
		// a true value under 1e-36.
		tol := 1e-6*math.Abs(want) + 1e-36
		if err := math.Abs(float64(s[i]) - want); err > tol {
			t.Fatalf("SiLU(%g) = %g, want %g", v, s[i], want)
		} else if math.Abs(want) > 1e-30 {
			worst = max(worst, err/math.Abs(want))
		}
		want *= float64(up[i])
		if err := math.Abs(float64(g[i]) - want); err > 1e-6*math.Abs(want)+1e-36 {
			t.Fatalf("SwiGLU(%g, %g) = %g, want %g", v, up[i], g[i], want)
		}
	}
	t.Logf("SiLU: largest relative error %.3g", worst)
	mustPanic(t, "kernels: SwiGLU", func() { kernels.SwiGLU(make([]float32, 3), make([]float32, 2)) })
}
