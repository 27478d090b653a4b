package kernels_test

import (
	"math"
	"slices"
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

// activationInputs are values across SiLU's whole range: both tails, where the exponential
// overflows or underflows, zeros, infinities and NaN, in runs long enough to fill vectors.
func activationInputs(r interface{ Uint32() uint32 }, n int) []float32 {
	specials := []float32{0, float32(math.Copysign(0, -1)), 1, -1, 86.5, 86.7, -86.5, -86.7, 88.7, -88.7,
		89, -89, 103, -103, 104, -104, 1e6, -1e6, math.MaxFloat32, -math.MaxFloat32,
		float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 0x1p-149, -0x1p-126}
	x := make([]float32, n)
	for i := range x {
		switch v := r.Uint32(); v % 8 {
		case 0:
			x[i] = specials[v/8%uint32(len(specials))]
		case 1:
			x[i] = math.Float32frombits(v) // any bit pattern
		default:
			x[i] = float32(int32(v)) / float32(1<<31) * 20
		}
	}
	return x
}

// The vector SiLU and SwiGLU give the plain code's bits.
func TestSiLUSwiGLUPlainTwin(t *testing.T) {
	r := newRand(23)
	for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 64, 100, 1000, 4099} {
		for rep := 0; rep < 20; rep++ {
			x := activationInputs(r, n)
			if rep%2 == 0 {
				x = uniform(r, n, -30, 30) // mostly in the vectors' range
			}
			up := normal(r, n, 2)
			check := func(name string, f func(x []float32)) {
				got := slices.Clone(x)
				f(got)
				restore := kernels.UseSIMD(false)
				want := slices.Clone(x)
				f(want)
				restore()
				for i := range got {
					if !sameBits(got[i], want[i]) {
						t.Fatalf("%s n=%d x[%d]=%g: %g (%#08x), plain %g (%#08x)", name, n, i, x[i], got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
					}
				}
			}
			check("SiLU", kernels.SiLU)
			check("SwiGLU", func(g []float32) { kernels.SwiGLU(g, up) })
		}
	}
}

func FuzzSwiGLU(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{1, 0, 16, 2, 0, 16})
	seed := make([]byte, 6*50)
	r := newRand(52)
	for i := range seed {
		seed[i] = byte(r.Uint32())
	}
	f.Add(seed)
	f.Fuzz(func(t *testing.T, data []byte) {
		x, up := fuzzVectors(data)
		// fuzzVectors' magnitudes reach 2^31: scale some down to where the exponential matters.
		for i := range x {
			if i%3 != 0 {
				x[i] = float32(math.Ldexp(float64(x[i]), -12))
			}
		}
		got := slices.Clone(x)
		kernels.SwiGLU(got, up)
		restore := kernels.UseSIMD(false)
		want := slices.Clone(x)
		kernels.SwiGLU(want, up)
		restore()
		for i := range got {
			if !sameBits(got[i], want[i]) {
				t.Fatalf("SwiGLU(%g, %g) = %g, plain %g", x[i], up[i], got[i], want[i])
			}
			// Below about -88.7 the exponential overflows and silu is 0 for a true value
			// under 1e-36 in magnitude, which up may scale.
			w := silu64(float64(x[i])) * float64(up[i])
			if err := math.Abs(float64(got[i]) - w); err > 1e-6*math.Abs(w)+1e-36*max(1, math.Abs(float64(up[i]))) {
				t.Fatalf("SwiGLU(%g, %g) = %g, float64 %g", x[i], up[i], got[i], w)
			}
		}
	})
}

// siluULP returns the error of SiLU at x in units in the last place of the float32 nearest to
// x/(1+e^-x) (the subnormal spacing below the normal range).
func siluULP(x float32) float64 {
	s := []float32{x}
	kernels.SiLU(s)
	want := silu64(float64(x))
	return math.Abs(float64(s[0])-want) / ulp32(want)
}

// siluMaxULP bounds SiLU's error. An exhaustive scan (-exhaustive) of every float32 in
// [-88, 88] finds at most 4.0941 ulp, at x = -16.812546: there e^-x is large, so ExpApprox's
// error (up to 2.25 ulp of e^-x) passes almost whole into the quotient, and the roundings of
// the sum and the quotient add to it.
const siluMaxULP = 4.1

func TestSiLUULP(t *testing.T) {
	stride := uint32(401)
	if *exhaustive {
		stride = 1
	}
	var worst float64
	var worstX float32
	for b := uint32(0); b <= math.Float32bits(88); b += stride {
		for _, x := range []float32{math.Float32frombits(b), -math.Float32frombits(b)} {
			if u := siluULP(x); u > worst {
				worst, worstX = u, x
			}
		}
	}
	if worst > siluMaxULP {
		t.Errorf("SiLU(%g): %.4f ulp, more than %g", worstX, worst, siluMaxULP)
	}
	t.Logf("largest error over [-88, 88] (float32 stride %d): %.4f ulp at x = %g", stride, worst, worstX)
}
