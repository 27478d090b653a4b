package paint

import (
	"image"
	"io"
)

// LinesSVG writes the lines view as SVG, laid out as Lines lays it out.
func LinesSVG(w io.Writer, heads []HeadMap, tokens []string, o LinesOptions) error {
	o.defaults()
	l := LayoutLines(heads, tokens, o)
	f := l.fonts
	size := f.Size()
	s := NewSVG(w, l.Bounds.Dx(), l.Bounds.Dy())
	if l.Header != "" {
		s.Text(margin, margin+f.Ascent(), l.Header, size, Ink, AnchorStart, 0)
	}
	for i, p := range l.Legend {
		s.Rect(image.Rect(p.X, p.Y-f.Ascent()+2, p.X+10, p.Y-2), HeadColor(heads[i].Head))
		s.Text(p.X+14, p.Y, heads[i].Name(), size, Ink, AnchorStart, 0)
	}
	s.Text(l.LeftX, l.ColumnsY, "query", size, Faint, AnchorEnd, 0)
	s.Text(l.RightX, l.ColumnsY, "key", size, Faint, AnchorStart, 0)
	sel := l.selection(o.Queries)
	x0, x1 := float64(l.LeftX+labelGap), float64(l.RightX-labelGap)
	for _, h := range heads {
		vals, masked := h.Map.Pooled(l.Rows, l.Rows, o.Pool)
		for i := 0; i < l.Rows.Cells; i++ {
			if !sel(i) {
				continue
			}
			for j := 0; j < l.Rows.Cells; j++ {
				c := i*l.Rows.Cells + j
				a := lineAlpha(h.Map, vals[c])
				if masked[c] || a < float64(o.MinWeight) {
					continue
				}
				s.Line(x0, l.RowY(i), x1, l.RowY(j), o.LineWidth, HeadColor(h.Head), a)
			}
		}
	}
	for i, lab := range l.Labels {
		if i%l.Stride != 0 {
			continue
		}
		base := labelBaseline(l.Top+i*l.Rows.Cell, l.Rows.Cell, f)
		s.Text(l.LeftX, base, lab, size, Ink, AnchorEnd, 0)
		s.Text(l.RightX, base, lab, size, Ink, AnchorStart, 0)
	}
	return s.Close()
}
