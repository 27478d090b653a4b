package paint

import (
	"fmt"
	"math"

	"github.com/attnscope/attnscope/engine/trace"
)

// Map is one attention map, shape (query, key). Rows may be ragged: keys past the end of a row
// are masked (hidden from that query), as in a causal model's trace, whose row q has q+1 keys.
type Map struct {
	Rows [][]float32
	// Keys is the number of keys (columns); 0 means the longest row.
	Keys int
	// Signed marks pre-softmax scores (drawn with a diverging colormap centred on zero) rather
	// than probabilities.
	Signed bool
}

// NKeys is the number of columns.
func (m Map) NKeys() int {
	if m.Keys > 0 {
		return m.Keys
	}
	n := 0
	for _, r := range m.Rows {
		n = max(n, len(r))
	}
	return n
}

// Range returns the smallest and largest finite weights (0, 0 for an empty map).
func (m Map) Range() (lo, hi float32) {
	first := true
	for _, r := range m.Rows {
		for _, v := range r {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				continue
			}
			if first || v < lo {
				lo = v
			}
			if first || v > hi {
				hi = v
			}
			first = false
		}
	}
	return lo, hi
}

// scale returns the colour scale [lo, hi]: the caller's when given, else [0, 1] for
// probabilities and [-m, m] for signed maps, m being the largest magnitude.
func (m Map) scale(minV, maxV float32) (lo, hi float64) {
	if minV < maxV {
		return float64(minV), float64(maxV)
	}
	if !m.Signed {
		return 0, 1
	}
	a, b := m.Range()
	s := math.Max(math.Abs(float64(a)), math.Abs(float64(b)))
	if s == 0 {
		s = 1
	}
	return -s, s
}

// Pooled reduces m to rows.Cells × cols.Cells values, row-major, with the pool rule; masked[i]
// is set for cells whose every (query, key) pair is masked.
func (m Map) Pooled(rows, cols Axis, pool Pool) (vals []float32, masked []bool) {
	vals = make([]float32, rows.Cells*cols.Cells)
	masked = make([]bool, len(vals))
	for i := 0; i < rows.Cells; i++ {
		q0, q1 := rows.Tokens(i)
		for j := 0; j < cols.Cells; j++ {
			k0, k1 := cols.Tokens(j)
			var acc float64
			var best float32
			n := 0
			for q := q0; q < q1 && q < len(m.Rows); q++ {
				row := m.Rows[q]
				for k := k0; k < k1 && k < len(row); k++ {
					v := row[k]
					if math.IsNaN(float64(v)) {
						continue
					}
					if n == 0 || pooledBetter(v, best, m.Signed) {
						best = v
					}
					acc += float64(v)
					n++
				}
			}
			c := i*cols.Cells + j
			switch {
			case n == 0:
				masked[c] = true
			case pool == PoolMean:
				vals[c] = float32(acc / float64(n))
			default:
				vals[c] = best
			}
		}
	}
	return vals, masked
}

func pooledBetter(v, best float32, signed bool) bool {
	if signed {
		return math.Abs(float64(v)) > math.Abs(float64(best))
	}
	return v > best
}

// TraceMap returns the attention map of one head of a trace: its exact rows, or for a pooled
// trace its pooled map, the largest weight of each cell (rows and keys are then cells of
// TraceCell(t) tokens, which TraceTokens labels).
func TraceMap(t *trace.Trace, layer, head int) (Map, error) {
	if layer < 0 || layer >= len(t.Attn) {
		return Map{}, fmt.Errorf("paint: layer %d out of range (the trace has layers 0..%d)", layer, len(t.Attn)-1)
	}
	if head < 0 || head >= len(t.Attn[layer]) {
		return Map{}, fmt.Errorf("paint: head %d out of range (layer %d has heads 0..%d)", head, layer, len(t.Attn[layer])-1)
	}
	if p := tracePooled(t, layer, head); p != nil {
		return Map{Rows: p.MaxMap(), Keys: p.Cells}, nil
	}
	rows := t.Attn[layer][head]
	keys := len(rows)
	if !t.Model.Causal {
		keys = 0
	}
	return Map{Rows: rows, Keys: keys}, nil
}

// TraceTokens returns the text of a trace's tokens, or for a pooled trace a label per cell: the
// index and text of its first token.
func TraceTokens(t *trace.Trace) []string {
	if p := tracePooled(t, 0, 0); p != nil {
		out := make([]string, p.Cells)
		for i := range out {
			if q := i * p.Cell; q < len(t.Tokens) {
				out[i] = fmt.Sprintf("%d:%s", q, t.Tokens[q].Text)
			}
		}
		return out
	}
	out := make([]string, len(t.Tokens))
	for i, tk := range t.Tokens {
		out[i] = tk.Text
	}
	return out
}

// TraceCell is the number of tokens along each axis of a cell of TraceMap's maps: 1 for exact
// rows, the pooled maps' cell for a pooled trace (every map of a trace has the same cells).
func TraceCell(t *trace.Trace) int {
	if p := tracePooled(t, 0, 0); p != nil {
		return max(p.Cell, 1)
	}
	return 1
}

func tracePooled(t *trace.Trace, layer, head int) *trace.Pooled {
	if t.Capture != trace.CapturePooled || layer >= len(t.Pooled) || head >= len(t.Pooled[layer]) {
		return nil
	}
	return t.Pooled[layer][head]
}
