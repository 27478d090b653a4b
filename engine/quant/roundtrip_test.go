package quant_test

import (
	"math"
	"testing"

	"github.com/attnscope/attnscope/engine/quant"
)

// blockBound returns the largest error the reference quantizer of typ may make on the values
// of one block x, from the scale it computes (ggml's formula), the binary16 rounding of that
// scale and of the minimum, and a few float32 ulps.
func blockBound(typ quant.Type, x []float32) float64 {
	lo, hi, amax := math.Inf(1), math.Inf(-1), 0.0
	for _, v := range x {
		lo, hi = math.Min(lo, float64(v)), math.Max(hi, float64(v))
		amax = math.Max(amax, math.Abs(float64(v)))
	}
	f16err := func(v float64) float64 { return math.Abs(v - float64(quant.F16ToF32(quant.F32ToF16(float32(v))))) }
	ulps := amax * 0x1p-20
	switch typ {
	case quant.Q8_0, quant.Q8_1:
		d := amax / 127
		return d/2 + 127*f16err(d) + ulps
	case quant.Q4_0: // the largest magnitude maps to −8; the opposite extreme clamps at +7
		d := amax / 8
		return d + 8*f16err(d) + ulps
	case quant.Q5_0:
		d := amax / 16
		return d + 16*f16err(d) + ulps
	case quant.Q4_1:
		d := (hi - lo) / 15
		return d/2 + 15*f16err(d) + f16err(lo) + ulps
	case quant.Q5_1:
		d := (hi - lo) / 31
		return d/2 + 31*f16err(d) + f16err(lo) + ulps
	case quant.Q8_K: // the scale is kept in float32
		return amax/127/2 + ulps
	}
	panic("no bound for " + typ.String())
}

// checkRoundTrip quantizes x, dequantizes it and checks every block against blockBound.
// It returns the RMS error relative to the RMS of x.
func checkRoundTrip(t testing.TB, typ quant.Type, x []float32) float64 {
	t.Helper()
	q := make([]byte, rowBytes(t, typ, len(x)))
	if err := quant.Quantize(typ, q, x); err != nil {
		t.Fatal(err)
	}
	y := make([]float32, len(x))
	switch typ {
	case quant.Q8_1:
		quant.DequantizeQ8_1(y, q)
	case quant.Q8_K:
		quant.DequantizeQ8K(y, q)
	default:
		if err := quant.Dequantize(typ, y, q); err != nil {
			t.Fatal(err)
		}
	}
	bs := typ.BlockSize()
	for b := 0; b < len(x); b += bs {
		bound := blockBound(typ, x[b:b+bs])
		for i := b; i < b+bs; i++ {
			if e := math.Abs(float64(x[i]) - float64(y[i])); !(e <= bound) {
				t.Fatalf("%s: value %d: %g came back as %g, error %g > bound %g", typ, i, x[i], y[i], e, bound)
			}
		}
	}
	rel, _ := errStats(y, x)
	return rel
}

// TestQuantizeRoundTrip checks quantize→dequantize on Gaussian data against per-block error
// bounds and logs the RMS errors.
func TestQuantizeRoundTrip(t *testing.T) {
	x := gaussian(7, 1<<16, 0.08)
	x[5] = 0 // a few exact zeros and a zero block do no harm
	for i := 64; i < 96; i++ {
		x[i] = 0
	}
	for _, typ := range []quant.Type{quant.Q8_0, quant.Q8_1, quant.Q8_K, quant.Q5_0, quant.Q5_1, quant.Q4_0, quant.Q4_1} {
		rel := checkRoundTrip(t, typ, x)
		t.Logf("%s: RMS error %.3f%% of RMS value", typ, 100*rel)
	}
	for _, c := range []struct {
		typ quant.Type
		rel float64 // relative error of a normal value
	}{{quant.F16, 0x1p-11}, {quant.BF16, 0x1p-8}} {
		q := make([]byte, 2*len(x))
		y := make([]float32, len(x))
		if err := quant.Quantize(c.typ, q, x); err != nil {
			t.Fatal(err)
		}
		if err := quant.Dequantize(c.typ, y, q); err != nil {
			t.Fatal(err)
		}
		for i := range x {
			if e := math.Abs(float64(y[i] - x[i])); e > c.rel*math.Abs(float64(x[i]))+0x1p-25 {
				t.Fatalf("%s: %g came back as %g", c.typ, x[i], y[i])
			}
		}
		rel, _ := errStats(y, x)
		t.Logf("%s: RMS error %.4f%% of RMS value", c.typ, 100*rel)
	}
}

// TestQuantizeRounding pins down ggml's rounding rules on blocks built so that x·id is exact.
func TestQuantizeRounding(t *testing.T) {
	block := func(first float32, rest ...float32) []float32 {
		x := make([]float32, quant.QK)
		x[0] = first
		copy(x[1:], rest)
		return x
	}
	// Q8_0: max|x| = 127 gives d = 1; roundf rounds ties away from zero.
	x := block(127, 2.5, -2.5, 0.5, -0.5, 1.4999999, -127)
	var b8 quant.BlockQ8_0
	b8.Quantize((*[quant.QK]float32)(x))
	if want := []int8{127, 3, -3, 1, -1, 1, -127}; b8.D != 0x3c00 || !equalI8(b8.Qs[:7], want) {
		t.Errorf("Q8_0: d %#04x qs %v, want 0x3c00 %v", b8.D, b8.Qs[:7], want)
	}
	// Q4_0: the largest magnitude −8 gives d = 1; q = trunc(x + 8.5), so ties go up, and
	// +8 clamps to 15. A positive extreme flips the scale's sign.
	x = block(-8, 0.5, -0.5, 1.5, -7.5, 8, 7.4999995)
	var b4 quant.BlockQ4_0
	b4.Quantize((*[quant.QK]float32)(x))
	wantQ := []uint8{0, 9, 8, 10, 1, 15, 15}
	if b4.D != 0x3c00 || !equalNibbles(b4.Qs, wantQ) {
		t.Errorf("Q4_0: d %#04x qs %x, want 0x3c00 %v", b4.D, b4.Qs, wantQ)
	}
	x = block(8, -8)
	b4.Quantize((*[quant.QK]float32)(x))
	if b4.D != 0xbc00 || !equalNibbles(b4.Qs, []uint8{0, 15}) {
		t.Errorf("Q4_0 positive max: d %#04x qs %x", b4.D, b4.Qs)
	}
	// Q8_K: max = −127 gives iscale = 1; nearest_int rounds ties to even.
	xk := make([]float32, quant.QKK)
	copy(xk, []float32{-127, 2.5, 3.5, -2.5, -3.5, 0.5})
	var bk quant.BlockQ8K
	bk.Quantize((*[quant.QKK]float32)(xk))
	if want := []int8{-127, 2, 4, -2, -4, 0}; bk.D != 1 || !equalI8(bk.Qs[:6], want) || bk.BSums[0] != -127+2+4-2-4 {
		t.Errorf("Q8_K: d %g qs %v bsums %v, want 1 %v", bk.D, bk.Qs[:6], bk.BSums[:2], want)
	}
	// Q8_1 keeps s = fp16(Σq·d).
	var b1 quant.BlockQ8_1
	b1.Quantize((*[quant.QK]float32)(block(127, 1, 2, 3)))
	if b1.S != quant.F32ToF16(133) {
		t.Errorf("Q8_1: s %#04x, want %#04x", b1.S, quant.F32ToF16(133))
	}
	// All-zero blocks give zero scales and quants (Q4_0: d = 0/−8 = −0, and q = 8, the zero of
	// its offset code).
	var zero [quant.QKK]float32
	bk.Quantize(&zero)
	if bk != (quant.BlockQ8K{}) {
		t.Errorf("Q8_K of zeros: %+v", bk)
	}
	b4.Quantize((*[quant.QK]float32)(zero[:quant.QK]))
	if b4.D != 0x8000 || b4.Qs[0] != 0x88 {
		t.Errorf("Q4_0 of zeros: d %#04x qs %x", b4.D, b4.Qs)
	}
}

func equalI8(a, b []int8) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// equalNibbles reports whether the first len(want) 4-bit values of a Q4_0 block are want.
func equalNibbles(qs [quant.QK / 2]uint8, want []uint8) bool {
	for i, w := range want {
		if qs[i]&15 != w {
			return false
		}
	}
	return true
}
