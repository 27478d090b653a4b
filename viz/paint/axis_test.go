package paint

import "testing"

func TestNewAxis(t *testing.T) {
	for _, tc := range []struct {
		n, avail, maxCell      int
		pool, cells, cellWidth int
	}{
		{12, 600, 48, 1, 12, 48},   // capped by maxCell
		{12, 120, 48, 1, 12, 10},   // cells shrink to fit
		{600, 600, 48, 1, 600, 1},  // one pixel a token
		{601, 600, 48, 2, 301, 1},  // one more token than pixels: pairs
		{2000, 600, 48, 4, 500, 1}, // pooled 4 to a cell
		{0, 600, 48, 0, 0, 0},
	} {
		a := NewAxis(tc.n, tc.avail, tc.maxCell)
		if a.Pool != tc.pool || a.Cells != tc.cells || a.Cell != tc.cellWidth {
			t.Errorf("NewAxis(%d, %d, %d) = %+v, want pool %d, %d cells of %d", tc.n, tc.avail, tc.maxCell, a, tc.pool, tc.cells, tc.cellWidth)
		}
		if a.Size() > tc.avail {
			t.Errorf("NewAxis(%d, %d, %d): %d pixels overflow", tc.n, tc.avail, tc.maxCell, a.Size())
		}
		// The cells tile the tokens exactly, in order, and CellOf inverts Tokens.
		next := 0
		for i := 0; i < a.Cells; i++ {
			lo, hi := a.Tokens(i)
			if lo != next || hi <= lo || hi-lo > a.Pool {
				t.Fatalf("%+v: cell %d covers [%d, %d), want from %d", a, i, lo, hi, next)
			}
			for k := lo; k < hi; k++ {
				if a.CellOf(k) != i {
					t.Fatalf("%+v: CellOf(%d) = %d, want %d", a, k, a.CellOf(k), i)
				}
			}
			next = hi
		}
		if next != tc.n {
			t.Errorf("%+v: cells cover %d tokens, want %d", a, next, tc.n)
		}
	}
}

func TestFitAxesSquare(t *testing.T) {
	r, c := fitAxes(40, 3000, 600, 600, 48)
	if r.Pool != c.Pool || r.Cell != c.Cell {
		t.Errorf("rows %+v and cols %+v do not share pool and cell", r, c)
	}
	if c.Size() > 600 || r.Size() > 600 {
		t.Errorf("rows %+v cols %+v overflow 600 pixels", r, c)
	}
}

func TestStride(t *testing.T) {
	for _, tc := range []struct{ cell, extent, want int }{{20, 15, 1}, {15, 15, 1}, {7, 15, 3}, {1, 15, 15}} {
		a := Axis{N: 10, Pool: 1, Cells: 10, Cell: tc.cell}
		if got := a.Stride(tc.extent); got != tc.want {
			t.Errorf("Stride with %d-pixel cells and %d-pixel labels = %d, want %d", tc.cell, tc.extent, got, tc.want)
		}
	}
}

func TestPooled(t *testing.T) {
	// A causal 4×4 map: row q has q+1 keys.
	m := Map{Rows: [][]float32{{1}, {0.2, 0.8}, {0.1, 0.3, 0.6}, {0.4, 0.1, 0.1, 0.4}}, Keys: 4}
	a := Axis{N: 4, Pool: 2, Cells: 2, Cell: 1}
	vals, masked := m.Pooled(a, a, PoolMax)
	want := []float32{1, 0, 0.4, 0.6}
	wantMask := []bool{false, true, false, false}
	for i := range want {
		if vals[i] != want[i] || masked[i] != wantMask[i] {
			t.Errorf("max cell %d = %v (masked %v), want %v (masked %v)", i, vals[i], masked[i], want[i], wantMask[i])
		}
	}
	vals, _ = m.Pooled(a, a, PoolMean)
	// Cell (0,0) averages the visible pairs 1, 0.2, 0.8 (key 1 is hidden from query 0).
	wantMean := []float32{2.0 / 3, 0, 0.225, (0.6 + 0.1 + 0.4) / 3}
	for i := range wantMean {
		if d := vals[i] - wantMean[i]; d > 1e-6 || d < -1e-6 {
			t.Errorf("mean cell %d = %v, want %v", i, vals[i], wantMean[i])
		}
	}
	// Signed maps pool by magnitude.
	s := Map{Rows: [][]float32{{-3, 1}, {2, 0.5}}, Signed: true}
	one := Axis{N: 2, Pool: 2, Cells: 1, Cell: 1}
	if v, _ := s.Pooled(one, one, PoolMax); v[0] != -3 {
		t.Errorf("signed max pool = %v, want -3", v[0])
	}
}
