package paint

import (
	"fmt"
	"io"
)

// HeatmapSVG writes the head view of m as SVG, laid out as Heatmap lays it out. Each cell
// carries a tooltip with the query and key tokens and the weight.
func HeatmapSVG(w io.Writer, m Map, tokens []string, o HeatmapOptions) error {
	o.defaults()
	l := LayoutHeatmap(m, tokens, o)
	f := l.fonts
	size := f.Size()
	s := NewSVG(w, l.Bounds.Dx(), l.Bounds.Dy())
	s.HatchPattern()
	if l.Header != "" {
		s.Text(margin, margin+f.Ascent(), l.Header, size, Ink, AnchorStart, 0)
	}
	vals, masked := m.Pooled(l.Rows, l.Cols, o.Pool)
	for i := 0; i < l.Rows.Cells; i++ {
		for j := 0; j < l.Cols.Cells; j++ {
			c := i*l.Cols.Cells + j
			r := l.CellRect(i, j)
			if masked[c] {
				s.RectHatched(r)
				continue
			}
			s.RectTitled(r, l.Colormap.At(l.norm(vals[c])), cellTitle(l, tokens, i, j, vals[c], o.Pool))
		}
	}
	for i, lab := range l.RowLabels {
		if r := l.RowLabelRect(i); !r.Empty() {
			s.Text(l.Grid.Min.X-labelGap, l.rowBaseline(i), lab, size, Ink, AnchorEnd, 0)
		}
	}
	for j, lab := range l.ColLabels {
		if r := l.ColLabelRect(j); !r.Empty() {
			s.Text(l.colBaseline(j), l.Grid.Min.Y-labelGap, lab, size, Ink, AnchorStart, -90)
		}
	}
	cx, cy := l.Grid.Min.X-labelGap, l.Grid.Min.Y-labelGap-f.Descent()
	s.Text(cx, cy, l.RowName, size, Faint, AnchorEnd, 0)
	s.Text(cx, cy-f.LineHeight(), l.ColName, size, Faint, AnchorEnd, 0)
	if !l.Bar.Empty() {
		const steps = 32
		h := l.Bar.Dy()
		for k := 0; k < steps; k++ {
			r := l.Bar
			r.Min.Y, r.Max.Y = l.Bar.Min.Y+k*h/steps, l.Bar.Min.Y+(k+1)*h/steps
			r.Max.X = r.Min.X + colorbarBar
			s.Rect(r, l.Colormap.At(1-(float64(k)+0.5)/steps))
		}
		ticks, dec := Ticks(l.Lo, l.Hi, 5)
		for _, v := range ticks {
			y := l.Bar.Max.Y - 1 - int((v-l.Lo)/(l.Hi-l.Lo)*float64(h-1)+0.5)
			s.Text(l.Bar.Min.X+colorbarBar+4, y+(f.Ascent()-f.Descent())/2, FormatTick(v, dec), size, Ink, AnchorStart, 0)
		}
	}
	return s.Close()
}

// cellTitle describes cell (i, j): the token pair (or ranges when pooled) and the value.
func cellTitle(l *HeatmapLayout, tokens []string, i, j int, v float32, pool Pool) string {
	q0, q1 := l.Rows.Tokens(i)
	k0, k1 := l.Cols.Tokens(j)
	tok := func(k int) string {
		if k < len(tokens) {
			return fmt.Sprintf("%d %q", k, tokens[k])
		}
		return fmt.Sprint(k)
	}
	if q1-q0 == 1 && k1-k0 == 1 {
		return fmt.Sprintf("query %s → key %s: %.4f", tok(q0), tok(k0), v)
	}
	return fmt.Sprintf("queries %d–%d → keys %d–%d: %s %.4f", q0, q1-1, k0, k1-1, pool, v)
}
