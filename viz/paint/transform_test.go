package paint

import (
	"math"
	"testing"
)

func TestViewTransformWindow(t *testing.T) {
	for _, c := range []struct {
		n              int
		zoom           float64
		fq, fk         int
		q0, q1, k0, k1 int
	}{
		{10, 1, -1, -1, 0, 10, 0, 10},
		{10, 0.5, 3, 3, 0, 10, 0, 10},   // zoom below 1 shows everything
		{10, 2, -1, -1, 2, 8, 2, 8},     // centred
		{10, 2, 0, 9, 0, 5, 5, 10},      // kept inside the map at both ends
		{100, 4, 50, 20, 38, 63, 8, 33}, // 25 tokens centred on the focus
		{8, 1000, 3, 5, 3, 4, 5, 6},     // at most one token per axis, never less
	} {
		v := NewViewTransform(c.n, c.zoom, c.fq, c.fk)
		q0, q1, k0, k1 := v.Window()
		if q0 != c.q0 || q1 != c.q1 || k0 != c.k0 || k1 != c.k1 {
			t.Errorf("n %d zoom %g focus (%d,%d): window q[%d,%d) k[%d,%d), want q[%d,%d) k[%d,%d)",
				c.n, c.zoom, c.fq, c.fk, q0, q1, k0, k1, c.q0, c.q1, c.k0, c.k1)
		}
		// The matrix and its inverse agree.
		x, y := v.ToTokens(v.ToWindow(1.25, 3.5))
		if math.Abs(x-1.25) > 1e-9 || math.Abs(y-3.5) > 1e-9 {
			t.Errorf("round trip gives (%g, %g)", x, y)
		}
	}
}

func TestMapWindow(t *testing.T) {
	// A causal 4×4 map: row q has q+1 keys.
	m := Map{Rows: [][]float32{{1}, {.5, .5}, {.2, .3, .5}, {.1, .2, .3, .4}}, Keys: 4}
	w := m.Window(1, 3, 1, 4)
	if len(w.Rows) != 2 || w.NKeys() != 3 {
		t.Fatalf("window %+v", w)
	}
	if len(w.Rows[0]) != 1 || w.Rows[0][0] != .5 || len(w.Rows[1]) != 2 || w.Rows[1][1] != .5 {
		t.Errorf("window rows %v", w.Rows)
	}
	vals, masked := w.Pooled(NewAxis(2, 100, 10), NewAxis(3, 100, 10), PoolMax)
	if !masked[1] || !masked[2] || masked[0] || vals[4] != .5 {
		t.Errorf("pooled window %v masked %v", vals, masked)
	}
	if e := m.Window(3, 9, 5, 9); len(e.Rows) != 0 {
		t.Errorf("window outside the map: %+v", e)
	}
}
