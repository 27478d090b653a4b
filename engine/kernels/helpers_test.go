package kernels_test

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// u32 is the unit roundoff of float32 (half an ulp of 1). A computation in which every term
// passes through at most k roundings is within γ_k·Σ|terms| of the exact value, with Higham's
// γ_k = k·u/(1−k·u) (see dotBound).
const u32 = 0x1p-24

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x243f6a8885a308d3)) }

// uniform returns n values uniform in [lo, hi).
func uniform(r *rand.Rand, n int, lo, hi float64) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(lo + (hi-lo)*r.Float64())
	}
	return x
}

// normal returns n values drawn from N(0, sigma²).
func normal(r *rand.Rand, n int, sigma float64) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(sigma * r.NormFloat64())
	}
	return x
}

// dot64 returns the dot product of a and b and Σ|a_i·b_i|, both in float64 (each product is
// exact in float64; the sums carry a relative error of at most len·2⁻⁵³ of the second value).
func dot64(a, b []float32) (dot, abs float64) {
	for i := range a {
		p := float64(a[i]) * float64(b[i])
		dot += p
		abs += math.Abs(p)
	}
	return dot, abs
}

// ulp32 is the spacing of float32 values at |v| (subnormal spacing below the normal range).
func ulp32(v float64) float64 {
	v = math.Abs(v)
	if v < 0x1p-126 {
		return 0x1p-149
	}
	_, e := math.Frexp(v) // v = f·2^e, f in [0.5, 1)
	return math.Ldexp(1, e-24)
}

// mustPanic runs f and fails unless it panics with a message starting with prefix.
func mustPanic(t *testing.T, prefix string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Errorf("no panic, want one starting with %q", prefix)
			return
		}
		msg, _ := r.(string)
		if err, ok := r.(error); ok {
			msg = err.Error()
		}
		if !strings.HasPrefix(msg, prefix) {
			t.Errorf("panic %q, want one starting with %q", msg, prefix)
		}
	}()
	f()
}
