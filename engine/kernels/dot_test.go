package kernels_test

import (
	"math"
	"runtime"
	"testing"

	"github.com/attnscope/attnscope/engine/kernels"
)

// fma is a lane step of the documented orders: a·b+c rounded once to float32 (FMA32, tested
// against exact arithmetic on its own; rounding math.FMA's float64 result again can land a
// float32 midpoint on the wrong side, a case the fuzzer found in testdata/fuzz/FuzzDotLanes),
// and on WebAssembly, which has no fused multiply-add, the rounded product then the rounded
// sum (fused_wasm.go).
func fma(a, b, c float32) float32 {
	if runtime.GOARCH == "wasm" {
		return c + float32(a*b)
	}
	return kernels.FMA32(a, b, c)
}

// fold sums the lanes of v by repeated halving: the upper half is added onto the lower half
// until one lane is left (for 16 lanes: 8, then 4, 2, 1, as a 512-bit horizontal add).
func fold(v []float32) float32 {
	for w := len(v) / 2; w >= 1; w /= 2 {
		for l := 0; l < w; l++ {
			v[l] += v[l+w]
		}
	}
	return v[0]
}

// lanesOrder writes out the order documented for DotLanes: lane i mod 16 takes term i of the
// first len&^15 terms, the lanes are folded, and the tail is added term by term.
func lanesOrder(a, b []float32) float32 {
	var acc [16]float32
	n := len(a) - len(a)%16
	for i := 0; i < n; i++ {
		acc[i%16] = fma(a[i], b[i], acc[i%16])
	}
	s := fold(acc[:])
	for i := n; i < len(a); i++ {
		s = fma(a[i], b[i], s)
	}
	return s
}

// blockedOrder writes out the order documented for DotBlocked. Four 16-lane accumulators over
// steps of 64 are 64 lanes, term i going to lane i mod 64; combining 0+2 and 1+3, then 0+1,
// then reducing the 16 lanes is a halving fold of those 64 lanes.
func blockedOrder(a, b []float32) float32 {
	var acc [64]float32
	n := len(a) - len(a)%64
	for i := 0; i < n; i++ {
		acc[i%64] = fma(a[i], b[i], acc[i%64])
	}
	s := fold(acc[:])
	for i := n; i < len(a); i++ {
		s = fma(a[i], b[i], s)
	}
	return s
}

// sequential is the fused multiply-add loop from s = 0.
func sequential(a, b []float32) float32 {
	var s float32
	for i := range a {
		s = fma(a[i], b[i], s)
	}
	return s
}

// lanesDepth is the most roundings a term of DotLanes goes through: one fused multiply-add per
// step in its lane, four additions in the reduction, one per tail term. Every FMA32 rounds
// twice (to float64, then to float32), which uFMA accounts for.
func lanesDepth(n int) int { return n/16 + 4 + n%16 }

// blockedDepth is the same for DotBlocked: its steps, two combining additions, the four of the
// reduction, and the tail (a sequential sum when n < 64).
func blockedDepth(n int) int {
	if n < 64 {
		return n
	}
	return n/64 + 6 + n%64
}

// dotBound is the largest error allowed for a dot product computed with at most depth
// roundings per term, against the float64 reference whose own error is below n·2⁻⁵³·abs.
func dotBound(depth, n int, abs float64) float64 {
	const uFMA = u32 + 0x1p-53 // a float64 rounding followed by a float32 one
	k := float64(depth) * uFMA
	return (k/(1-k) + float64(n)*0x1p-52) * abs
}

// dotInputs returns vector pairs of length n with differently shaped values: signed normal
// (cancellation), all positive (no cancellation, the sum error at its largest) and magnitudes
// spread over many octaves.
func dotInputs(seed uint64, n int) [][2][]float32 {
	r := newRand(seed)
	spread := func() []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(math.Ldexp(r.Float64()-0.5, r.IntN(40)-20))
		}
		return x
	}
	return [][2][]float32{
		{normal(r, n, 1), normal(r, n, 1)},
		{uniform(r, n, 0, 1), uniform(r, n, 0, 1)},
		{spread(), spread()},
	}
}

func TestDotAgainstFloat64(t *testing.T) {
	worst := map[string]float64{}
	for n := 0; n <= 300; n++ {
		for k, in := range dotInputs(uint64(n), n) {
			a, b := in[0], in[1]
			want, abs := dot64(a, b)
			for _, c := range []struct {
				name  string
				f     func(a, b []float32) float32
				depth int
			}{
				{"DotLanes", kernels.DotLanes, lanesDepth(n)},
				{"DotBlocked", kernels.DotBlocked, blockedDepth(n)},
				{"Dot", kernels.Dot, n + 1},
			} {
				got := float64(c.f(a, b))
				bound := dotBound(c.depth, n, abs)
				if err := math.Abs(got - want); err > bound {
					t.Errorf("%s n=%d input %d: got %g, want %g (error %.3g > bound %.3g)", c.name, n, k, got, want, err, bound)
				} else if abs > 0 {
					worst[c.name] = max(worst[c.name], err/(abs*u32))
				}
			}
		}
	}
	t.Logf("largest error in units of u·Σ|aᵢbᵢ| (n ≤ 300): %v", worst)
}

func TestDotDocumentedOrder(t *testing.T) {
	if runtime.GOARCH == "wasm" {
		t.Skip("WebAssembly has no fused multiply-add: the lane steps are unfused there (fused_wasm.go)")
	}
	for _, n := range []int{0, 1, 2, 7, 15, 16, 17, 31, 33, 48, 63, 64, 65, 79, 100, 127, 128, 129, 191, 255, 256, 257, 300, 1000, 4099} {
		for k, in := range dotInputs(uint64(1000+n), n) {
			a, b := in[0], in[1]
			if got, want := kernels.DotLanes(a, b), lanesOrder(a, b); math.Float32bits(got) != math.Float32bits(want) {
				t.Errorf("DotLanes n=%d input %d: %g (%#08x), documented order gives %g (%#08x)",
					n, k, got, math.Float32bits(got), want, math.Float32bits(want))
			}
			if got, want := kernels.DotBlocked(a, b), blockedOrder(a, b); math.Float32bits(got) != math.Float32bits(want) {
				t.Errorf("DotBlocked n=%d input %d: %g (%#08x), documented order gives %g (%#08x)",
					n, k, got, math.Float32bits(got), want, math.Float32bits(want))
			}
			// Below one step both orders are the plain sequential loop.
			if n < 16 {
				if l, s := kernels.DotLanes(a, b), sequential(a, b); math.Float32bits(l) != math.Float32bits(s) {
					t.Errorf("DotLanes n=%d: %g, sequential FMA loop %g", n, l, s)
				}
			}
			if n < 64 {
				if d, s := kernels.DotBlocked(a, b), sequential(a, b); math.Float32bits(d) != math.Float32bits(s) {
					t.Errorf("DotBlocked n=%d: %g, sequential FMA loop %g", n, d, s)
				}
			}
		}
	}
}

// The two orders are genuinely different: on enough random inputs some results differ.
func TestDotOrdersDiffer(t *testing.T) {
	r := newRand(7)
	differ := 0
	for i := 0; i < 200; i++ {
		a, b := normal(r, 256, 1), normal(r, 256, 1)
		if kernels.DotLanes(a, b) != kernels.DotBlocked(a, b) {
			differ++
		}
	}
	if differ == 0 {
		t.Error("DotLanes and DotBlocked agreed on 200 random vectors of 256: the orders look identical")
	}
}

func TestFMA32(t *testing.T) {
	cases := []struct{ a, b, c, want float32 }{
		{2, 3, 4, 10},
		{0, 5, -1, -1},
		{-1.5, 2, 3, 0},
		// 1+2⁻¹², squared, is 1 + 2⁻¹¹ + 2⁻²⁴: separately rounded products lose the last term,
		// a fused one keeps it against the -1.
		{1 + 0x1p-12, 1 + 0x1p-12, -1, 0x1p-11 + 0x1p-24},
	}
	for _, c := range cases {
		if got := kernels.FMA32(c.a, c.b, c.c); got != c.want {
			t.Errorf("FMA32(%g, %g, %g) = %g, want %g", c.a, c.b, c.c, got, c.want)
		}
	}
}

func TestDotPanics(t *testing.T) {
	a, b := make([]float32, 5), make([]float32, 4)
	mustPanic(t, "kernels: DotLanes", func() { kernels.DotLanes(a, b) })
	mustPanic(t, "kernels: DotBlocked", func() { kernels.DotBlocked(a, b) })
	mustPanic(t, "kernels: Dot", func() { kernels.Dot(a, b) })
}
