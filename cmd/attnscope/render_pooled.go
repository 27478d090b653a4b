package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/attnscope/attnscope/engine/trace"
	"github.com/attnscope/attnscope/viz/paint"
)

// A pooled trace holds, per layer and head, a map of at most trace.MaxCells cells along an axis,
// each cell the sum and the maximum of the probabilities of Cell × Cell (query, key) pairs. The
// head and model views draw it cell by cell; views that need whole rows of single tokens draw
// only the rows kept with --rows.

// pooledGrid is how a pooled map is drawn: cells of cell tokens along each axis over n tokens.
type pooledGrid struct {
	n, cell, cells int
}

// grid returns the grid of t's pooled maps merged by f cells along each axis (f ≥ 1).
func pooledGridOf(t *trace.Trace, f int) pooledGrid {
	p := t.Pooled[0][0]
	cell := p.Cell * max(f, 1)
	return pooledGrid{n: p.N, cell: cell, cells: (p.N + cell - 1) / cell}
}

// span is the number of tokens of cell i (the last cell may hold fewer).
func (g pooledGrid) span(i int) int { return min(g.cell, g.n-i*g.cell) }

// labels names every cell by the tokens it covers: "40–47", or "40 text" for a cell of one token.
func (g pooledGrid) labels(t *trace.Trace) []string {
	out := make([]string, g.cells)
	for i := range out {
		lo, hi := i*g.cell, i*g.cell+g.span(i)-1
		switch {
		case hi > lo:
			out[i] = fmt.Sprintf("%d–%d", lo, hi)
		case lo < len(t.Tokens):
			out[i] = fmt.Sprintf("%d %s", lo, t.Tokens[lo].Text)
		default:
			out[i] = fmt.Sprint(lo)
		}
	}
	return out
}

// note says how the pooled trace is drawn, for the title and the diagnostics.
func (g pooledGrid) note(pool string) string {
	return fmt.Sprintf("pooled trace: %d × %d cells of %d × %d tokens (%s per cell)", g.cells, g.cells, g.cell, g.cell, pool)
}

// pooledMap returns layer l, head h of the pooled trace t on grid g (t's cells merged by
// g.cell / Cell): per cell the mean of its probabilities (mean) or their maximum. A causal
// model's rows end at the diagonal cell, the cells after it being wholly masked; the mean of a
// diagonal cell counts the pairs the causal mask lets through, and pairs a window hides count
// as 0 (as in Trace.Dense).
func pooledMap(t *trace.Trace, l, h int, g pooledGrid, mean bool) paint.Map {
	p := t.Pooled[l][h]
	f := g.cell / p.Cell
	causal := t.Model.Causal
	sum := make([]float64, g.cells*g.cells)
	mx := make([]float32, g.cells*g.cells)
	for r := 0; r < p.Cells; r++ {
		for c := 0; c < p.Cells; c++ {
			i, o := r*p.Cells+c, (r/f)*g.cells+c/f
			sum[o] += float64(p.Sum[i])
			mx[o] = max(mx[o], p.Max[i])
		}
	}
	rows := make([][]float32, g.cells)
	for r := range rows {
		keys := g.cells
		if causal {
			keys = r + 1
		}
		rows[r] = make([]float32, keys)
		for c := range rows[r] {
			o := r*g.cells + c
			if !mean {
				rows[r][c] = mx[o]
				continue
			}
			pairs := float64(g.span(r)) * float64(g.span(c))
			if causal && c == r {
				s := float64(g.span(r))
				pairs = s * (s + 1) / 2
			}
			rows[r][c] = float32(sum[o] / pairs)
		}
	}
	return paint.Map{Rows: rows, Keys: g.cells}
}

// pooledHead lays out the head view of a pooled trace so that each drawn cell is one cell of the
// (merged) pooled map, labelled with its token range: it merges cells until the picture needs
// no pooling of its own. It returns the map, its labels and the grid.
func pooledHead(t *trace.Trace, rf renderFlags, o paint.HeatmapOptions) (paint.Map, []string, pooledGrid) {
	f := 1
	for range 4 {
		g := pooledGridOf(t, f)
		m := pooledMap(t, rf.layer, rf.head, g, rf.pool == "mean")
		labels := g.labels(t)
		lay := paint.LayoutHeatmap(m, labels, o)
		if lay.Rows.Pool <= 1 || g.cells == 1 {
			return m, labels, g
		}
		f *= lay.Rows.Pool
	}
	g := pooledGridOf(t, f)
	return pooledMap(t, rf.layer, rf.head, g, rf.pool == "mean"), g.labels(t), g
}

// pooledModel returns every head's pooled map merged to fit a thumbnail of thumb pixels.
func pooledModel(t *trace.Trace, thumb int, mean bool) ([][]paint.Map, pooledGrid) {
	p := t.Pooled[0][0]
	f := (p.Cells + max(thumb, 1) - 1) / max(thumb, 1)
	g := pooledGridOf(t, f)
	out := make([][]paint.Map, len(t.Pooled))
	for l := range t.Pooled {
		for h := range t.Pooled[l] {
			out[l] = append(out[l], pooledMap(t, l, h, g, mean))
		}
	}
	return out, g
}

// isPooled reports whether t holds pooled maps to draw.
func isPooled(t *trace.Trace) bool {
	return t.Capture == trace.CapturePooled && len(t.Pooled) > 0 && len(t.Pooled[0]) > 0 && t.Pooled[0][0].N > 0
}

// errNoAttention is the error of a view of attention over a trace that holds none.
var errNoAttention = errors.New("--capture none records no attention: the head, model and lines views need --capture auto, exact or pooled")

// pooledLinesError explains why the lines view cannot draw a pooled trace as asked.
func pooledLinesError(t *trace.Trace) error {
	return fmt.Errorf("the lines view draws whole attention rows of single tokens, but this trace of %d tokens holds pooled maps "+
		"(--capture auto pools long inputs): pass --rows Q --query Q to draw the lines of token Q, "+
		"--capture exact to keep every row (up to the exact-capture limit), or use the head or model view", len(t.Tokens))
}

// pooledLineHeads returns the lines view's maps for a pooled trace: only the row of --query,
// which --rows must have kept.
func (rf *renderFlags) pooledLineHeads(t *trace.Trace) ([]paint.HeadMap, error) {
	if rf.query < 0 {
		return nil, pooledLinesError(t)
	}
	if rf.query >= len(t.Tokens) {
		return nil, fmt.Errorf("--query %d out of range (the trace has tokens 0..%d)", rf.query, len(t.Tokens)-1)
	}
	ids, err := rf.headList(t.Model.NHead)
	if err != nil {
		return nil, err
	}
	n := len(t.Tokens)
	var out []paint.HeadMap
	for _, h := range ids {
		row := t.Row(rf.layer, h, rf.query)
		if row == nil {
			return nil, fmt.Errorf("--query %d: the pooled trace keeps the whole rows of --rows %v only: add %d to --rows", rf.query, t.Rows, rf.query)
		}
		rows := make([][]float32, n)
		rows[rf.query] = row
		out = append(out, paint.HeadMap{Layer: rf.layer, Head: h, Map: paint.Map{Rows: rows, Keys: n}})
	}
	return out, nil
}

// notePooled tells w how a pooled trace was drawn.
func notePooled(w io.Writer, t *trace.Trace, view string, g pooledGrid, pool string) {
	fmt.Fprintf(w, "note: the %s view shows a %s over %d tokens; --capture exact keeps every row (short inputs), --rows keeps chosen rows whole\n",
		view, g.note(pool), len(t.Tokens))
}
