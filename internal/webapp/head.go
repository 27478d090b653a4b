package webapp

import (
	"fmt"
	"image"
	"image/color"
	"math"

	"github.com/attnscope/attnscope/engine/trace"
	"github.com/attnscope/attnscope/viz/paint"
)

// LogProbFloor is the lowest ln p the head view's colour scale reaches (p ≈ 2e-9).
const LogProbFloor = -20

func logProb(p float32) F32 {
	if p <= 0 {
		return F32(math.Inf(-1))
	}
	return F32(math.Log(float64(p)))
}

// LogProbTitle names what the log-probability head view shows.
const LogProbTitle = "log-probabilities ln p = scaled scores − row log-sum-exp (scores up to a per-row constant)"

// LogProbMap is m as log-probabilities and the colour scale to draw it with: [lo, 0], lo the
// smallest finite ln p but not below LogProbFloor.
func LogProbMap(m paint.Map) (lp paint.Map, lo, hi float32) {
	lp = logProbMap(m)
	min, _ := lp.Range()
	lo = float32(math.Max(float64(min), LogProbFloor))
	if lo >= 0 {
		lo = -1
	}
	return lp, lo, 0
}

// logProbMap is m with every weight replaced by its natural logarithm (masked cells stay masked,
// p = 0 becomes -Inf, which the colour scale clamps to its lowest colour).
func logProbMap(m paint.Map) paint.Map {
	rows := make([][]float32, len(m.Rows))
	for q, r := range m.Rows {
		rows[q] = make([]float32, len(r))
		for k, p := range r {
			rows[q][k] = float32(logProb(p))
		}
	}
	return paint.Map{Rows: rows, Keys: m.Keys}
}

// head draws the head view: the map of one head as probabilities or log-probabilities, zoomed
// and scrolled by the state's view transform, the pinned token's row outlined.
func (v *Viewer) head(t *trace.Trace, width int) (*image.RGBA, error) {
	st := v.State
	m, err := paint.TraceMap(t, st.Layer, st.Head)
	if err != nil {
		return nil, err
	}
	// Exact rows have a cell per token; a pooled trace's cells cover cell tokens each.
	cell := paint.TraceCell(t)
	v.hmap, v.cell = m, cell
	n := len(m.Rows)
	tr := paint.NewViewTransform(n, st.Zoom, st.FocusQuery/cell, st.FocusKey/cell)
	q0, q1, k0, k1 := tr.Window()
	o := paint.HeatmapOptions{Width: width, Fonts: v.Fonts}
	what := "attention probabilities"
	if st.Values == "logprobs" {
		// The trace holds probabilities only: ln p is what it can say of the scores, exactly.
		m, o.Min, o.Max = LogProbMap(m)
		what = LogProbTitle
	}
	o.Title = fmt.Sprintf("%s · layer %d · head %d · %s", title(t), st.Layer, st.Head, what)
	if cell > 1 {
		o.Title += fmt.Sprintf(" · pooled by the engine: %d tokens, %d per cell (largest weight)", len(t.Tokens), cell)
	}
	toks := paint.TraceTokens(t)
	if q0 > 0 || k0 > 0 || q1 < n || k1 < n {
		o.Title += fmt.Sprintf(" · zoom ×%.3g: queries %d–%d, keys %d–%d", tr.Zoom, q0, q1-1, k0, k1-1)
		m = m.Window(q0, q1, k0, k1)
		o.ColTokens = toks[k0:k1]
		toks = toks[q0:q1]
	}
	img, l := paint.Heatmap(m, toks, o)
	v.heat, v.q0, v.k0 = l, q0, k0
	v.State.Window = [4]int{q0 * cell, min(q1*cell, len(t.Tokens)), k0 * cell, min(k1*cell, len(t.Tokens))}
	if pc := st.Token / cell; st.Token >= 0 && pc >= q0 && pc < q1 {
		r := l.CellRect(l.Rows.CellOf(pc-q0), 0)
		r.Max.X = l.Grid.Max.X
		paint.StrokeRect(img, r.Inset(-1), color.RGBA{255, 64, 64, 255})
	}
	return img, nil
}

// HeatmapLayout is the layout of the last head view drawn (nil when the last view was another).
func (v *Viewer) HeatmapLayout() *paint.HeatmapLayout { return v.heat }
