package trace

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
)

// causalRows returns n random causal softmax-like rows: row q has q+1 entries.
func causalRows(r *rand.Rand, n int) [][]float32 {
	rows := make([][]float32, n)
	for q := range rows {
		rows[q] = make([]float32, q+1)
		var s float32
		for k := range rows[q] {
			rows[q][k] = r.Float32()
			s += rows[q][k]
		}
		for k := range rows[q] {
			rows[q][k] /= s
		}
	}
	return rows
}

// pool64 pools the dense map of rows (zeros beyond each row) into cells of cell tokens, in float64.
func pool64(rows [][]float32, n, cell int) (mean, mx [][]float64) {
	cells := (n + cell - 1) / cell
	mean, mx = make([][]float64, cells), make([][]float64, cells)
	for r := range mean {
		mean[r], mx[r] = make([]float64, cells), make([]float64, cells)
	}
	for q := 0; q < n; q++ {
		for k := 0; k < n; k++ {
			var p float64
			if k < len(rows[q]) {
				p = float64(rows[q][k])
			}
			mean[q/cell][k/cell] += p
			mx[q/cell][k/cell] = math.Max(mx[q/cell][k/cell], p)
		}
	}
	for r := range mean {
		for c := range mean[r] {
			mean[r][c] /= float64(min(cell, n-r*cell)) * float64(min(cell, n-c*cell))
		}
	}
	return mean, mx
}

func comparePooled(t *testing.T, name string, p *Pooled, rows [][]float32, n, cell int) {
	t.Helper()
	if p.Cell != cell || p.Cells != (n+cell-1)/cell || p.N != n {
		t.Fatalf("%s: cell %d, %d cells, N %d; want cell %d over %d tokens", name, p.Cell, p.Cells, p.N, cell, n)
	}
	mean, mx := pool64(rows, n, cell)
	for r := range mean {
		for c := range mean[r] {
			if d := math.Abs(float64(p.Mean(r, c)) - mean[r][c]); d > 1e-6 {
				t.Fatalf("%s: mean (%d,%d) = %g, want %g", name, r, c, p.Mean(r, c), mean[r][c])
			}
			if float64(p.Max[r*p.Cells+c]) != mx[r][c] {
				t.Fatalf("%s: max (%d,%d) = %g, want %g", name, r, c, p.Max[r*p.Cells+c], mx[r][c])
			}
		}
	}
}

func TestPooledMatchesDensePooling(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, c := range []struct{ n, limit, cell int }{{10, 512, 1}, {37, 8, 5}, {100, 7, 15}, {64, 16, 4}} {
		rows := causalRows(r, c.n)
		p, err := NewPooled(c.limit, 1)
		if err != nil {
			t.Fatal(err)
		}
		p.Cover(c.n)
		for q, row := range rows {
			// In uneven pieces, as the tiled attention hands them over.
			for j0 := 0; j0 < len(row); j0 += 3 {
				p.Add(q, j0, row[j0:min(len(row), j0+3)])
			}
		}
		comparePooled(t, "one cover", p, rows, c.n, c.cell)
	}
}

// A map that grows token by token past its limit merges cells; the result equals pooling the
// whole dense map at the final cell size.
func TestPooledGrowsAndMerges(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const n = 90
	rows := causalRows(r, n)
	p, _ := NewPooled(8, 1)
	p.Cover(20) // a prefill of 20 tokens, then one token at a time
	for q := 0; q < 20; q++ {
		p.Add(q, 0, rows[q])
	}
	for q := 20; q < n; q++ {
		p.Cover(q + 1)
		p.Add(q, 0, rows[q])
	}
	if p.Cells > 8 {
		t.Fatalf("%d cells, limit 8", p.Cells)
	}
	comparePooled(t, "grown", p, rows, n, p.Cell)
}

func TestPooledBadInput(t *testing.T) {
	for _, limit := range []int{0, -1, MaxCells + 1} {
		if _, err := NewPooled(limit, 1); err == nil || !strings.Contains(err.Error(), "cells") {
			t.Errorf("limit %d: %v", limit, err)
		}
	}
	p, _ := NewPooled(4, 1)
	p.Cover(5)
	for _, f := range []func(){
		func() { p.Add(5, 0, []float32{1}) },
		func() { p.Add(0, 4, []float32{1, 1}) },
		func() { p.Add(-1, 0, nil) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("Add outside the covered tokens did not panic")
				}
			}()
			f()
		}()
	}
}

func TestTracePooledCaptureAndJSON(t *testing.T) {
	tr := New(Model{NLayer: 2, NHead: 3}, Positional{})
	if tr.Capture != CaptureExact {
		t.Fatalf("a new trace holds %q", tr.Capture)
	}
	if err := tr.UsePooled(4, []int{2}); err != nil {
		t.Fatal(err)
	}
	tr.Cover(6)
	tr.Pooled[1][2].Add(2, 0, []float32{0.25, 0.25, 0.5})
	tr.RowAttn[1][2] = append(tr.RowAttn[1][2], []float32{0.25, 0.25, 0.5})
	if row := tr.Row(1, 2, 2); len(row) != 3 || row[2] != 0.5 {
		t.Errorf("Row(1, 2, 2) = %v", row)
	}
	if tr.Row(1, 2, 3) != nil || tr.Row(0, 0, 2) != nil {
		t.Error("Row returns a row the trace does not hold")
	}
	p := tr.Pooled[1][2]
	if p.Cell != 2 || p.Cells != 3 || p.Mean(1, 0) != 0.125 || p.Max[1*3+1] != 0.5 {
		t.Errorf("pooled cell 2: %+v", p)
	}
	b, err := json.Marshal(tr)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"capture":"pooled"`) || !strings.Contains(string(b), `"rows":[2]`) {
		t.Errorf("JSON lacks the capture mode or rows: %s", b)
	}
	var js PooledJSON
	b, _ = json.Marshal(p.JSON())
	if err := json.Unmarshal(b, &js); err != nil || js.Cells != 3 || len(js.Mean) != 3 || js.Max[1][1] != 0.5 {
		t.Errorf("pooled JSON %s: %+v %v", b, js, err)
	}
}

// Covering a few tokens at a time after Expect gives the map that covering them all at once
// gives, and moves it in place: no allocation after Expect.
func TestPooledExpect(t *testing.T) {
	const n, limit = 1000, 64
	once, err := NewPooled(limit, 1)
	if err != nil {
		t.Fatal(err)
	}
	once.Cover(n)
	step, _ := NewPooled(limit, 1)
	step.Cover(5) // some tokens before the length is known
	step.Expect(n)
	row := make([]float32, n)
	for i := range row {
		row[i] = float32(i%7) / 7
	}
	add := func(p *Pooled, q int) { p.Add(q, 0, row[:q+1]) }
	for q := 0; q < 5; q++ {
		add(step, q)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for m := 5; m < n; m += 3 {
		step.Cover(min(m+3, n))
		for q := m; q < min(m+3, n); q++ {
			add(step, q)
		}
	}
	runtime.ReadMemStats(&after)
	if allocs := after.Mallocs - before.Mallocs; allocs > 10 { // without Expect: two per new cell count
		t.Errorf("%v allocations while covering after Expect", allocs)
	}
	for q := 0; q < n; q++ {
		add(once, q)
	}
	if step.Cell != once.Cell || step.Cells != once.Cells || step.N != once.N {
		t.Fatalf("after Expect: cell %d, %d cells, %d tokens; at once: %d, %d, %d", step.Cell, step.Cells, step.N, once.Cell, once.Cells, once.N)
	}
	for i := range once.Sum {
		if step.Sum[i] != once.Sum[i] || step.Max[i] != once.Max[i] {
			t.Fatalf("cell %d: sum %v max %v, at once %v %v", i, step.Sum[i], step.Max[i], once.Sum[i], once.Max[i])
		}
	}
}
