package paint

import (
	"image/color"
	"math"
	"testing"
)

func TestColormapEndpoints(t *testing.T) {
	for _, tc := range []struct {
		m          *Colormap
		first, end color.RGBA
	}{
		{Viridis, color.RGBA{0x44, 0x01, 0x54, 255}, color.RGBA{0xfd, 0xe7, 0x25, 255}},
		{Magma, color.RGBA{0x00, 0x00, 0x04, 255}, color.RGBA{0xfc, 0xfd, 0xbf, 255}},
		{Inferno, color.RGBA{0x00, 0x00, 0x04, 255}, color.RGBA{0xfc, 0xff, 0xa4, 255}},
		{Greys, color.RGBA{0, 0, 0, 255}, color.RGBA{255, 255, 255, 255}},
		{Diverging, color.RGBA{0x21, 0x66, 0xac, 255}, color.RGBA{0xb2, 0x18, 0x2b, 255}},
	} {
		if got := tc.m.At(0); !near(got, tc.first, 1) {
			t.Errorf("%s.At(0) = %v, want %v", tc.m.Name, got, tc.first)
		}
		if got := tc.m.At(1); !near(got, tc.end, 1) {
			t.Errorf("%s.At(1) = %v, want %v", tc.m.Name, got, tc.end)
		}
		if tc.m.At(-3) != tc.m.At(0) || tc.m.At(7) != tc.m.At(1) || tc.m.At(math.NaN()) != tc.m.At(0) {
			t.Errorf("%s: out-of-range and NaN inputs are not clamped", tc.m.Name)
		}
	}
	if mid := Diverging.At(0.5); Lightness(mid) < 0.95 {
		t.Errorf("diverging middle %v is not near white (lightness %.3f)", mid, Lightness(mid))
	}
}

func near(a, b color.RGBA, tol int) bool {
	d := func(x, y uint8) bool { return int(x)-int(y) <= tol && int(y)-int(x) <= tol }
	return d(a.R, b.R) && d(a.G, b.G) && d(a.B, b.B) && a.A == b.A
}

// Sequential maps must get lighter all the way; the diverging one lighter up to its middle and
// darker after, with both ends about equally dark.
func TestColormapLightnessMonotonic(t *testing.T) {
	const n = 256
	light := func(m *Colormap, i int) float64 { return Lightness(m.At(float64(i) / (n - 1))) }
	for _, m := range []*Colormap{Viridis, Magma, Inferno, Greys} {
		for i := 1; i < n; i++ {
			if a, b := light(m, i-1), light(m, i); b < a-1e-3 {
				t.Fatalf("%s: lightness falls from %.4f to %.4f at %d/%d", m.Name, a, b, i, n-1)
			}
		}
		if light(m, n-1)-light(m, 0) < 0.5 {
			t.Errorf("%s: lightness range %.3f..%.3f is too small", m.Name, light(m, 0), light(m, n-1))
		}
	}
	for i := 1; i < n; i++ {
		a, b := light(Diverging, i-1), light(Diverging, i)
		if i <= n/2 && b < a-1e-3 || i > n/2+1 && b > a+1e-3 {
			t.Fatalf("diverging: lightness %.4f → %.4f at %d breaks rise-then-fall", a, b, i)
		}
	}
	if d := math.Abs(light(Diverging, 0) - light(Diverging, n-1)); d > 0.1 {
		t.Errorf("diverging ends differ in lightness by %.3f", d)
	}
}

func TestColormapByName(t *testing.T) {
	for _, m := range Colormaps {
		if got, err := ColormapByName(m.Name); err != nil || got != m {
			t.Errorf("ColormapByName(%q) = %v, %v", m.Name, got, err)
		}
	}
	if got, err := ColormapByName("MAGMA"); err != nil || got != Magma {
		t.Errorf("names are not case-insensitive: %v %v", got, err)
	}
	if _, err := ColormapByName("jet"); err == nil {
		t.Error("unknown colormap accepted")
	}
}

func TestHeadColorsDistinct(t *testing.T) {
	seen := map[color.RGBA]int{}
	for h := 0; h < 32; h++ {
		c := HeadColor(h)
		if prev, ok := seen[c]; ok {
			t.Errorf("heads %d and %d share colour %v", prev, h, c)
		}
		seen[c] = h
	}
}

func TestTicks(t *testing.T) {
	for _, tc := range []struct {
		lo, hi float64
		n      int
		want   []float64
		dec    int
	}{
		{0, 1, 5, []float64{0, 0.2, 0.4, 0.6, 0.8, 1}, 1},
		{-1, 1, 5, []float64{-1, -0.5, 0, 0.5, 1}, 1},
		{0, 80, 5, []float64{0, 20, 40, 60, 80}, 0},
		{0, 27, 8, []float64{0, 5, 10, 15, 20, 25}, 0},
	} {
		got, dec := Ticks(tc.lo, tc.hi, tc.n)
		if dec != tc.dec || len(got) != len(tc.want) {
			t.Errorf("Ticks(%g, %g, %d) = %v (%d decimals), want %v (%d)", tc.lo, tc.hi, tc.n, got, dec, tc.want, tc.dec)
			continue
		}
		for i := range got {
			if math.Abs(got[i]-tc.want[i]) > 1e-9 {
				t.Errorf("Ticks(%g, %g, %d) = %v, want %v", tc.lo, tc.hi, tc.n, got, tc.want)
				break
			}
		}
	}
}
