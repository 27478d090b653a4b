package kernels_test

import (
	"math"
	"math/big"
	"testing"

	"github.com/attnscope/attnscope/engine/kernels"
)

// sameBits reports whether x and y are the same float32, any NaN matching any NaN.
func sameBits(x, y float32) bool {
	if x != x || y != y {
		return x != x && y != y
	}
	return math.Float32bits(x) == math.Float32bits(y)
}

// fmaExact is a·b+c computed exactly and rounded once to float32 (ties to even).
func fmaExact(a, b, c float32) float32 {
	x := new(big.Float).SetPrec(400).SetFloat64(float64(a))
	x.Mul(x, new(big.Float).SetFloat64(float64(b)))
	x.Add(x, new(big.Float).SetFloat64(float64(c)))
	f, _ := x.Float32()
	return f
}

func TestFMA32CorrectlyRounded(t *testing.T) {
	// 0x1.0001p-12 · 0x1.fffep-13 = 2⁻²⁴ − 2⁻⁵⁶: added to 1+2⁻²³ it lands just below the
	// midpoint 1+2⁻²³+2⁻²⁴, which rounding through float64 reaches exactly and then ties up.
	a, b, c := float32(0x1.0001p-12), float32(0x1.fffep-13), float32(0x1.000002p0)
	if got, want := kernels.FMA32(a, b, c), float32(0x1.000002p0); got != want {
		t.Errorf("FMA32(%x, %x, %x) = %x, want %x", a, b, c, got, want)
	}
	if got, want := kernels.FMA32(-a, b, -c), float32(-0x1.000002p0); got != want {
		t.Errorf("FMA32(%x, %x, %x) = %x, want %x", -a, b, -c, got, want)
	}
	r := newRand(71)
	check := func(a, b, c float32) {
		t.Helper()
		if got, want := kernels.FMA32(a, b, c), fmaExact(a, b, c); !sameBits(got, want) {
			t.Fatalf("FMA32(%x, %x, %x) = %x, want %x", a, b, c, got, want)
		}
	}
	for i := 0; i < 200000; i++ {
		a := float32(math.Ldexp(r.Float64()+0.5, r.IntN(80)-40))
		b := float32(math.Ldexp(r.Float64()+0.5, r.IntN(80)-40))
		if r.IntN(2) == 0 {
			a = -a
		}
		// c near the product makes cancellation; c a round number near 1 makes midpoints.
		var c float32
		switch r.IntN(3) {
		case 0:
			c = float32(math.Ldexp(r.NormFloat64(), r.IntN(80)-40))
		case 1:
			c = -a * b * float32(1+math.Ldexp(r.NormFloat64(), -20))
		default:
			a = float32(math.Ldexp(1+math.Ldexp(float64(r.IntN(1<<10)), -23), -12))
			b = float32(math.Ldexp(1-math.Ldexp(float64(r.IntN(1<<10)), -23), -12))
			c = float32(math.Ldexp(1, r.IntN(4)-2)) * float32(1+math.Ldexp(float64(r.IntN(8)), -23))
		}
		check(a, b, c)
	}
	// Subnormal results and the edges of the range.
	for i := 0; i < 50000; i++ {
		a := float32(math.Ldexp(r.Float64()+0.5, -70-r.IntN(20)))
		b := float32(math.Ldexp(r.Float64()+0.5, -60-r.IntN(10)))
		c := float32(math.Ldexp(r.NormFloat64(), -140-r.IntN(9)))
		check(a, b, c)
	}
	big := float32(math.MaxFloat32)
	for _, v := range [][3]float32{{big, 1, big}, {big, 1, -big}, {big, -1, -big}, {0, 0, 0}, {-0.0, 1, 0}, {1, float32(math.Inf(1)), -1}} {
		check(v[0], v[1], v[2])
	}
}

// simdInputs returns vector pairs of length n for the differential tests: values of many
// magnitudes, signed zeros, and now and then an infinity or a NaN.
func simdInputs(seed uint64, n int) [][2][]float32 {
	r := newRand(seed)
	special := func() []float32 {
		x := make([]float32, n)
		for i := range x {
			switch r.IntN(50) {
			case 0:
				x[i] = float32(math.Inf(1 - 2*r.IntN(2)))
			case 1:
				x[i] = float32(math.NaN())
			case 2:
				x[i] = float32(math.Copysign(0, r.NormFloat64()))
			default:
				x[i] = float32(math.Ldexp(r.NormFloat64(), r.IntN(60)-30))
			}
		}
		return x
	}
	return append(dotInputs(seed, n), [2][]float32{special(), special()})
}

func TestDotSIMDMatchesPlain(t *testing.T) {
	t.Logf("SIMD: %s", kernels.SIMD())
	lengths := []int{}
	for n := 0; n <= 200; n++ {
		lengths = append(lengths, n)
	}
	lengths = append(lengths, 255, 256, 257, 511, 1000, 1024, 4096, 4099)
	for _, n := range lengths {
		for k, in := range simdInputs(uint64(n)+100, n) {
			a, b := in[0], in[1]
			if got, want := kernels.DotLanes(a, b), kernels.DotLanesPlain(a, b); !sameBits(got, want) {
				t.Errorf("n=%d input %d: DotLanes %x, plain %x", n, k, got, want)
			}
			if got, want := kernels.DotBlocked(a, b), kernels.DotBlockedPlain(a, b); !sameBits(got, want) {
				t.Errorf("n=%d input %d: DotBlocked %x, plain %x", n, k, got, want)
			}
		}
	}
}

func FuzzDotSIMD(f *testing.F) {
	f.Add([]byte{})
	seed := make([]byte, 6*300)
	r := newRand(72)
	for i := range seed {
		seed[i] = byte(r.Uint32())
	}
	f.Add(seed)
	f.Fuzz(func(t *testing.T, data []byte) {
		a, b := fuzzVectors(data)
		if got, want := kernels.DotLanes(a, b), kernels.DotLanesPlain(a, b); !sameBits(got, want) {
			t.Errorf("n=%d: DotLanes %x, plain %x", len(a), got, want)
		}
		if got, want := kernels.DotBlocked(a, b), kernels.DotBlockedPlain(a, b); !sameBits(got, want) {
			t.Errorf("n=%d: DotBlocked %x, plain %x", len(a), got, want)
		}
	})
}

// attnCase is one AttentionRow call on random data.
type attnCase struct {
	hd, nKeys, stride, off int
	cached                 bool
	q, k, v, bias          []float32
}

func newAttnCase(seed uint64, hd, nKeys, nKVHead int, cached, bias bool) attnCase {
	r := newRand(seed)
	stride := hd * nKVHead
	c := attnCase{hd: hd, nKeys: nKeys, stride: stride, off: hd * (nKVHead - 1), cached: cached}
	c.q = normal(r, hd, 1)
	// Keys padded to a multiple of 16 rows as a cache's are, the padding garbage (the vector
	// scores may compute those rows, never use them).
	c.k = append(normal(r, nKeys*stride, 1), normal(r, (nKeys+15)&^15*stride-nKeys*stride, 1e30)...)
	c.v = normal(r, nKeys*stride, 1)
	if bias {
		c.bias = normal(r, nKeys, 2)
		c.bias[r.IntN(nKeys)] = float32(math.Inf(-1))
	}
	return c
}

func (c attnCase) run() (out, probs []float32) {
	out, probs = make([]float32, c.hd), make([]float32, c.nKeys)
	kernels.AttentionRow(out, probs, c.q, c.k, c.v, c.nKeys, c.stride, c.off, 0.3, c.bias, c.cached)
	return out, probs
}

// TestAttentionRowSIMDMatchesPlain runs AttentionRow with the SIMD kernels and with the plain
// ones and requires the same bits.
func TestAttentionRowSIMDMatchesPlain(t *testing.T) {
	seed := uint64(0)
	for _, hd := range []int{4, 8, 12, 16, 24, 64, 72, 128} {
		for _, nKeys := range []int{1, 2, 7, 15, 16, 17, 31, 32, 33, 48, 63, 64, 65, 100, 128, 257} {
			for _, cached := range []bool{false, true} {
				seed++
				c := newAttnCase(seed, hd, nKeys, 1+int(seed%3), cached, seed%4 == 0)
				out, probs := c.run()
				restore := kernels.UseSIMD(false)
				pOut, pProbs := c.run()
				restore()
				for i := range out {
					if !sameBits(out[i], pOut[i]) {
						t.Fatalf("hd=%d keys=%d cached=%v: out[%d] = %x, plain %x", hd, nKeys, cached, i, out[i], pOut[i])
					}
				}
				for i := range probs {
					if !sameBits(probs[i], pProbs[i]) {
						t.Fatalf("hd=%d keys=%d cached=%v: probs[%d] = %x, plain %x", hd, nKeys, cached, i, probs[i], pProbs[i])
					}
				}
			}
		}
	}
}

func FuzzAttentionRowSIMD(f *testing.F) {
	f.Add(uint64(1), uint8(8), uint16(33), uint8(2), true)
	f.Add(uint64(2), uint8(64), uint16(128), uint8(1), false)
	f.Fuzz(func(t *testing.T, seed uint64, hd uint8, nKeys uint16, nKV uint8, cached bool) {
		if hd == 0 || nKeys == 0 || nKV == 0 || nKV > 4 || nKeys > 2048 {
			return
		}
		c := newAttnCase(seed, int(hd), int(nKeys), int(nKV), cached, seed%2 == 0)
		out, probs := c.run()
		restore := kernels.UseSIMD(false)
		pOut, pProbs := c.run()
		restore()
		for i := range out {
			if !sameBits(out[i], pOut[i]) {
				t.Fatalf("out[%d] = %x, plain %x", i, out[i], pOut[i])
			}
		}
		for i := range probs {
			if !sameBits(probs[i], pProbs[i]) {
				t.Fatalf("probs[%d] = %x, plain %x", i, probs[i], pProbs[i])
			}
		}
	})
}

// TestSoftmaxChunkedSIMDMatchesPlain covers rows whose exponentials underflow or are masked
// (the chunks the SIMD version hands to the scalar code) as well as ordinary ones.
func TestSoftmaxChunkedSIMDMatchesPlain(t *testing.T) {
	r := newRand(73)
	for _, n := range []int{1, 5, 15, 16, 17, 31, 32, 33, 100, 1023, 1024, 1025, 2000} {
		for _, sigma := range []float64{0.1, 3, 40, 200} {
			for _, padded := range []bool{false, true} {
				row := normal(r, n, sigma)
				if n > 3 && sigma > 1 {
					row[r.IntN(n)] = float32(math.Inf(-1))
				}
				got := append([]float32(nil), row...)
				kernels.SoftmaxChunked(got, padded)
				want := append([]float32(nil), row...)
				restore := kernels.UseSIMD(false)
				kernels.SoftmaxChunked(want, padded)
				restore()
				for i := range got {
					if !sameBits(got[i], want[i]) {
						t.Fatalf("n=%d sigma=%g padded=%v: [%d] = %x, plain %x", n, sigma, padded, i, got[i], want[i])
					}
				}
			}
		}
	}
}

// Rows whose exponentials fall in every part of the subnormal range and below it (x − max from
// 0 down to −150, where exp is 2⁻²¹⁶), with -Inf and NaN among them: the vector kernels scale
// those lanes themselves, the same bits as the scalar exponential.
func TestSoftmaxChunkedSubnormalExps(t *testing.T) {
	r := newRand(74)
	negZero := float32(math.Copysign(0, -1))
	for _, special := range []float32{0, float32(math.Inf(-1)), float32(math.NaN()), negZero} {
		for _, padded := range []bool{false, true} {
			row := make([]float32, 1000)
			for i := range row {
				row[i] = float32(-150 * r.Float64())
			}
			row[7] = 0 // the maximum
			if special != 0 || math.Signbit(float64(special)) {
				row[21] = special // -0: a maximum of the other sign in another lane
				row[500] = negZero
			}
			got := append([]float32(nil), row...)
			kernels.SoftmaxChunked(got, padded)
			restore := kernels.UseSIMD(false)
			kernels.SoftmaxChunked(row, padded)
			restore()
			for i := range got {
				if !sameBits(got[i], row[i]) {
					t.Fatalf("special %v padded=%v: [%d] = %x, plain %x", special, padded, i, got[i], row[i])
				}
			}
		}
	}
}

func FuzzSoftmaxChunkedSIMD(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6}, false)
	f.Fuzz(func(t *testing.T, data []byte, padded bool) {
		a, b := fuzzVectors(data)
		row := append(a, b...)
		got := append([]float32(nil), row...)
		kernels.SoftmaxChunked(got, padded)
		restore := kernels.UseSIMD(false)
		kernels.SoftmaxChunked(row, padded)
		restore()
		for i := range got {
			if !sameBits(got[i], row[i]) {
				t.Fatalf("n=%d: [%d] = %x, plain %x", len(row), i, got[i], row[i])
			}
		}
	})
}

func TestMatVecLanesMatchesDotLanes(t *testing.T) {
	for _, c := range []int{0, 5, 16, 17, 32, 48, 288, 768} {
		for _, rows := range []int{0, 1, 3, 4, 5, 8, 11} {
			in := simdInputs(uint64(c*100+rows), rows*c)
			x := simdInputs(uint64(c*100+rows)+1, c)[3][0]
			for k, pair := range in {
				w := pair[0]
				got := make([]float32, rows)
				kernels.MatVecLanes(got, w, x)
				for r := range got {
					if want := kernels.DotLanesPlain(w[r*c:(r+1)*c], x); !sameBits(got[r], want) {
						t.Fatalf("c=%d rows=%d input %d: row %d = %x, DotLanes %x", c, rows, k, r, got[r], want)
					}
				}
			}
		}
	}
	mustPanic(t, "kernels: MatVecLanes", func() { kernels.MatVecLanes(make([]float32, 2), make([]float32, 5), make([]float32, 3)) })
}

func FuzzMatVecLanes(f *testing.F) {
	f.Add(uint8(4), []byte{1, 2, 3, 4, 5, 6})
	f.Fuzz(func(t *testing.T, rows uint8, data []byte) {
		a, b := fuzzVectors(data)
		r := int(rows%9) + 1
		c := len(a) / r
		w := a[:r*c]
		x := b[:c]
		got := make([]float32, r)
		kernels.MatVecLanes(got, w, x)
		for i := range got {
			if want := kernels.DotLanesPlain(w[i*c:(i+1)*c], x); !sameBits(got[i], want) {
				t.Fatalf("rows=%d c=%d: row %d = %x, DotLanes %x", r, c, i, got[i], want)
			}
		}
	})
}
