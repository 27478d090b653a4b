package quant_test

import (
	"math"
	"testing"

	"github.com/attnscope/attnscope/engine/quant"
)

func isNaN16(h uint16) bool { return h&0x7c00 == 0x7c00 && h&0x3ff != 0 }

// TestF16RoundTripAll widens every half value and narrows it back.
func TestF16RoundTripAll(t *testing.T) {
	for i := 0; i < 1<<16; i++ {
		h := uint16(i)
		f := quant.F16ToF32(h)
		back := quant.F32ToF16(f)
		if isNaN16(h) {
			// NaNs come back quiet, with sign and payload kept.
			if !math.IsNaN(float64(f)) || back != h|0x0200 {
				t.Fatalf("NaN %#04x → %#08x → %#04x, want %#04x", h, math.Float32bits(f), back, h|0x0200)
			}
			continue
		}
		if back != h {
			t.Fatalf("%#04x → %g → %#04x", h, f, back)
		}
		// The value is the IEEE binary16 value.
		sign := 1.0
		if h&0x8000 != 0 {
			sign = -1
		}
		e, m := int(h>>10&0x1f), float64(h&0x3ff)
		var want float64
		switch {
		case e == 0:
			want = sign * m * math.Ldexp(1, -24)
		case e == 31:
			want = math.Inf(int(sign))
		default:
			want = sign * (1 + m/1024) * math.Ldexp(1, e-15)
		}
		if float64(f) != want || math.Signbit(float64(f)) != (sign < 0) {
			t.Fatalf("F16ToF32(%#04x) = %g, want %g", h, f, want)
		}
	}
}

// TestF32ToF16Rounding checks every rounding boundary between consecutive finite halves: the
// midpoint goes to the even neighbour, the floats just beside it to the nearer one. The
// boundary above 65504 (half way to 65536) goes to infinity.
func TestF32ToF16Rounding(t *testing.T) {
	for _, neg := range []bool{false, true} {
		for i := 0; i < 0x7c00; i++ {
			lo, hi := uint16(i), uint16(i+1)
			a, b := float64(quant.F16ToF32(lo)), 65536.0 // the next value binary16 would have
			if hi < 0x7c00 {
				b = float64(quant.F16ToF32(hi))
			}
			mid := float32((a + b) / 2) // exact: needs 12 significant bits
			if float64(mid) != (a+b)/2 {
				t.Fatalf("midpoint of %#04x and %#04x not exact", lo, hi)
			}
			even := lo
			if lo&1 == 1 {
				even = hi
			}
			below := math.Nextafter32(mid, float32(a))
			above := math.Nextafter32(mid, float32(math.Inf(1)))
			var s uint16
			if neg {
				s = 0x8000
				mid, below, above = -mid, -below, -above
			}
			check := func(f float32, want uint16) {
				t.Helper()
				if got := quant.F32ToF16(f); got != want|s {
					t.Fatalf("F32ToF16(%g [%#08x]) = %#04x, want %#04x", f, math.Float32bits(f), got, want|s)
				}
			}
			check(mid, even)
			check(below, lo)
			check(above, hi)
		}
	}
}

func TestF32ToF16Special(t *testing.T) {
	cases := []struct {
		in   float32
		want uint16
	}{
		{0, 0x0000},
		{float32(math.Copysign(0, -1)), 0x8000},
		{1, 0x3c00},
		{-2, 0xc000},
		{65504, 0x7bff},
		{65519.996, 0x7bff},
		{65520, 0x7c00}, // tie between 65504 (odd) and 65536: even is infinity
		{1e10, 0x7c00},
		{-1e10, 0xfc00},
		{math.MaxFloat32, 0x7c00},
		{float32(math.Inf(1)), 0x7c00},
		{float32(math.Inf(-1)), 0xfc00},
		{0x1p-14, 0x0400},        // smallest normal
		{0x1p-24, 0x0001},        // smallest subnormal
		{0x1p-25, 0x0000},        // tie with zero: even is zero
		{0x1.000002p-25, 0x0001}, // just above the tie
		{0x1.8p-24, 0x0002},      // 1.5 ulp: tie, even is 2
		{0x1.4p-24, 0x0001},      // 1.25 ulp
		{-0x1p-26, 0x8000},       // underflow keeps the sign
		{math.SmallestNonzeroFloat32, 0},
		{0x1.ffcp-15, 0x0400},   // rounds up from the subnormals into the normals
		{1 + 0x1p-11, 0x3c00},   // tie at 1: even is 1
		{1 + 3*0x1p-11, 0x3c02}, // tie above 1+ulp: even is 1+2ulp
		{math.Float32frombits(0x7fc00000), 0x7e00},
		{math.Float32frombits(0xffc00000), 0xfe00},
		{math.Float32frombits(0x7f802000), 0x7e01}, // signalling NaN: payload kept, made quiet
		{math.Float32frombits(0x7f800001), 0x7e00}, // payload only in the dropped bits
	}
	for _, c := range cases {
		if got := quant.F32ToF16(c.in); got != c.want {
			t.Errorf("F32ToF16(%g [%#08x]) = %#04x, want %#04x", c.in, math.Float32bits(c.in), got, c.want)
		}
	}
}

func TestBF16(t *testing.T) {
	for i := 0; i < 1<<16; i++ {
		h := uint16(i)
		f := quant.BF16ToF32(h)
		if math.Float32bits(f) != uint32(h)<<16 {
			t.Fatalf("BF16ToF32(%#04x) = %#08x", h, math.Float32bits(f))
		}
		want := h
		if h&0x7f80 == 0x7f80 && h&0x7f != 0 {
			want |= 0x40 // NaNs are made quiet
		}
		if got := quant.F32ToBF16(f); got != want {
			t.Fatalf("F32ToBF16(BF16ToF32(%#04x)) = %#04x, want %#04x", h, got, want)
		}
	}
	cases := []struct {
		bits uint32
		want uint16
	}{
		{0x3f808000, 0x3f80}, // tie, even below
		{0x3f818000, 0x3f82}, // tie, even above
		{0x3f808001, 0x3f81}, // just above the tie
		{0x3f807fff, 0x3f80}, // just below the tie
		{0x7f7fffff, 0x7f80}, // largest float rounds to infinity
		{0xff7fffff, 0xff80},
		{0x7f7f7fff, 0x7f7f},
		{0x00008000, 0x0000}, // subnormal tie: not flushed, rounds to even
		{0x00018000, 0x0002}, // subnormal tie, even above
		{0x00010001, 0x0001}, // subnormals are kept, not flushed to zero
		{0x80010000, 0x8001},
		{0x7f800000, 0x7f80}, // infinity
		{0x7f800001, 0x7fc0}, // signalling NaN made quiet, low payload dropped
		{0x7fbf0000, 0x7fff}, // payload in the top half kept
		{0xffc00000, 0xffc0},
	}
	for _, c := range cases {
		if got := quant.F32ToBF16(math.Float32frombits(c.bits)); got != c.want {
			t.Errorf("F32ToBF16(%#08x) = %#04x, want %#04x", c.bits, got, c.want)
		}
	}
}
