package paint

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"slices"
)

// HeadMap is the map of one head, named by its layer and head.
type HeadMap struct {
	Layer, Head int
	Map         Map
}

// Name is "L<layer> H<head>".
func (h HeadMap) Name() string { return fmt.Sprintf("L%d H%d", h.Layer, h.Head) }

// LinesOptions configure the lines view.
type LinesOptions struct {
	// Width is the picture width (default: the labels plus 320 pixels between the columns).
	Width int
	// Height caps the picture height; 0: one text line per token. When the tokens do not fit,
	// they are pooled into groups as in the heatmap.
	Height int
	Title  string
	// Queries are the tokens whose lines are drawn, highlighted on the left (nil: all).
	Queries []int
	// MinWeight hides lines lighter than this (default 0.01).
	MinWeight float32
	// LineWidth in pixels (default 2).
	LineWidth float64
	Pool      Pool
	Fonts     *Fonts // default DefaultFonts(12)
	MaxLabel  int    // widest label in pixels (default 110)
}

// LinesLayout places the two token columns: row i of the left column (queries) is centred at
// y = RowY(i) and its label ends at LeftX; the right column (keys) starts at RightX.
type LinesLayout struct {
	Bounds        image.Rectangle
	Rows          Axis
	Stride        int // a label every Stride-th row
	LeftX, RightX int
	Top           int
	Labels        []string // per row
	Header        string
	// Legend[i] is where the swatch of the i-th head starts, on its text baseline (several
	// heads only); ColumnsY is the baseline of the column names.
	Legend   []image.Point
	ColumnsY int
	fonts    *Fonts
}

// RowY is the vertical centre of row i.
func (l *LinesLayout) RowY(i int) float64 {
	return float64(l.Top) + (float64(i)+0.5)*float64(l.Rows.Cell)
}

// RowAt returns the row under p and whether p is on the left (query) side.
func (l *LinesLayout) RowAt(p image.Point) (row int, left, ok bool) {
	if p.Y < l.Top || p.Y >= l.Top+l.Rows.Size() {
		return 0, false, false
	}
	return (p.Y - l.Top) / l.Rows.Cell, p.X < (l.LeftX+l.RightX)/2, true
}

func (o *LinesOptions) defaults() {
	if o.Fonts == nil {
		o.Fonts = DefaultFonts(12)
	}
	if o.MinWeight <= 0 {
		o.MinWeight = 0.01
	}
	if o.LineWidth <= 0 {
		o.LineWidth = 2
	}
	if o.MaxLabel <= 0 {
		o.MaxLabel = 110
	}
}

// LayoutLines lays out the tokens in two columns, with a legend for several heads.
func LayoutLines(heads []HeadMap, tokens []string, o LinesOptions) *LinesLayout {
	o.defaults()
	f := o.Fonts
	labels := Labels(tokens, o.MaxLabel, f)
	labelW := f.Width("query")
	for _, s := range labels {
		labelW = max(labelW, f.Width(s))
	}
	lh := f.LineHeight()
	l := &LinesLayout{Header: o.Title, fonts: f}
	w := o.Width
	if w <= 0 {
		w = 2*(margin+labelW+labelGap) + 320
	}
	l.LeftX = margin + labelW
	l.RightX = w - margin - labelW
	if l.RightX-l.LeftX < 40 {
		l.RightX = l.LeftX + 40
		w = l.RightX + labelW + margin
	}
	y := margin + f.Ascent()
	if len(heads) > 1 { // legend entries, wrapped to the width
		y += lh + labelGap
		x := margin
		for _, h := range heads {
			adv := 14 + f.Width(h.Name()) + 12
			if x > margin && x+adv-12 > w-margin {
				x, y = margin, y+lh
			}
			l.Legend = append(l.Legend, image.Pt(x, y))
			x += adv
		}
	}
	l.ColumnsY = y + lh + labelGap
	l.Top = l.ColumnsY + f.Descent() + labelGap
	avail := len(tokens) * (lh + 4)
	if o.Height > 0 {
		avail = min(avail, o.Height-l.Top-margin)
	}
	l.Rows = NewAxis(len(tokens), avail, lh+4)
	l.Stride = l.Rows.Stride(lh)
	l.Labels = cellLabels(tokens, labels, l.Rows, labelW, f)
	if l.Rows.Pool > 1 {
		note := fmt.Sprintf("%d tokens, %d per row (%s)", l.Rows.N, l.Rows.Pool, o.Pool)
		l.Header = joinHeader(l.Header, note)
	}
	bottom := margin
	if l.Stride > 1 { // the last label may run past the last row
		bottom = max(margin, lh)
	}
	l.Bounds = image.Rect(0, 0, max(w, 2*margin+f.Width(l.Header)), l.Top+l.Rows.Size()+bottom)
	return l
}

func joinHeader(title, note string) string {
	if title == "" {
		return note
	}
	return title + " — " + note
}

// Lines draws the lines view: tokens in two columns, queries on the left and keys on the right,
// a line from query q to key k with opacity proportional to the weight, one colour per head
// (HeadColor). Several heads are drawn over each other.
func Lines(heads []HeadMap, tokens []string, o LinesOptions) (*image.RGBA, *LinesLayout) {
	o.defaults()
	l := LayoutLines(heads, tokens, o)
	img := newCanvas(l.Bounds.Dx(), l.Bounds.Dy())
	f := l.fonts
	if l.Header != "" {
		f.Draw(img, margin, margin+f.Ascent(), l.Header, Ink)
	}
	for i, p := range l.Legend {
		FillRect(img, image.Rect(p.X, p.Y-f.Ascent()+2, p.X+10, p.Y-2), HeadColor(heads[i].Head))
		f.Draw(img, p.X+14, p.Y, heads[i].Name(), Ink)
	}
	f.Draw(img, l.LeftX-f.Width("query"), l.ColumnsY, "query", Faint)
	f.Draw(img, l.RightX, l.ColumnsY, "key", Faint)
	selected := l.selection(o.Queries)
	if o.Queries != nil {
		for i := 0; i < l.Rows.Cells; i++ {
			if selected(i) {
				w := f.Width(l.Labels[i])
				r := image.Rect(l.LeftX-w-2, int(l.RowY(i))-l.Rows.Cell/2, l.LeftX+2, int(l.RowY(i))+(l.Rows.Cell+1)/2)
				FillRect(img, r, color.RGBA{0xff, 0xec, 0xb3, 255})
			}
		}
	}
	var pen Pen
	x0, x1 := float64(l.LeftX+labelGap), float64(l.RightX-labelGap)
	for _, h := range heads {
		vals, masked := h.Map.Pooled(l.Rows, l.Rows, o.Pool)
		col := HeadColor(h.Head)
		for i := 0; i < l.Rows.Cells; i++ {
			if !selected(i) {
				continue
			}
			for j := 0; j < l.Rows.Cells; j++ {
				c := i*l.Rows.Cells + j
				a := lineAlpha(h.Map, vals[c])
				if masked[c] || a < float64(o.MinWeight) {
					continue
				}
				pen.Line(img, x0, l.RowY(i), x1, l.RowY(j), o.LineWidth, withAlpha(col, a))
			}
		}
	}
	for i, s := range l.Labels {
		if i%l.Stride != 0 {
			continue
		}
		base := labelBaseline(l.Top+i*l.Rows.Cell, l.Rows.Cell, f)
		f.Draw(img, l.LeftX-f.Width(s), base, s, Ink)
		f.Draw(img, l.RightX, base, s, Ink)
	}
	return img, l
}

// selection reports whether row i holds one of the queries (every row when queries is nil).
func (l *LinesLayout) selection(queries []int) func(int) bool {
	if queries == nil {
		return func(int) bool { return true }
	}
	return func(i int) bool {
		lo, hi := l.Rows.Tokens(i)
		return slices.ContainsFunc(queries, func(q int) bool { return q >= lo && q < hi })
	}
}

// lineAlpha is a line's opacity in [0, 1]: the weight for probabilities, the magnitude relative
// to the largest one for signed maps.
func lineAlpha(m Map, v float32) float64 {
	_, hi := m.scale(0, 0)
	a := float64(v) / hi
	if m.Signed {
		a = math.Abs(a)
	}
	return math.Max(0, math.Min(1, a))
}
