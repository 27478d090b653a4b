package paint

import (
	"fmt"
	"image"
)

// HeatmapOptions configure the head view. The zero value is usable.
type HeatmapOptions struct {
	Width  int // the most the picture may be wide, in pixels (default 800); it is cut to its content
	Height int // picture height; 0: as tall as square cells need
	// MaxCell is the largest cell side in pixels (default 48).
	MaxCell int
	Title   string
	// Colormap defaults to Viridis for probabilities and Diverging for signed maps.
	Colormap *Colormap
	// Pool combines tokens when there are more than pixels (default PoolMax).
	Pool Pool
	// Min and Max fix the colour scale; when Min >= Max it is [0, 1] for probabilities and
	// symmetric around zero for signed maps.
	Min, Max float32
	// Fonts default to DefaultFonts(12).
	Fonts *Fonts
	// MaxLabel is the widest a token label may be, in pixels (default 110); longer ones are
	// cut with an ellipsis.
	MaxLabel int
	// NoLegend leaves out the colour bar.
	NoLegend bool
	// ColTokens label the columns when they are not the rows' tokens (a table of positions ×
	// dimensions, say); nil: tokens label both axes.
	ColTokens []string
	// RowName and ColName name the axes (default "query ↓" and "key →").
	RowName, ColName string
}

func (o *HeatmapOptions) defaults() {
	if o.Width <= 0 {
		o.Width = 800
	}
	if o.MaxCell <= 0 {
		o.MaxCell = 48
	}
	if o.Fonts == nil {
		o.Fonts = DefaultFonts(12)
	}
	if o.MaxLabel <= 0 {
		o.MaxLabel = 110
	}
	if o.RowName == "" {
		o.RowName = "query ↓"
	}
	if o.ColName == "" {
		o.ColName = "key →"
	}
}

const (
	margin   = 8 // around the picture
	labelGap = 4 // between labels and cells
)

// HeatmapLayout is where everything of a head view goes. Scenes use it to map the pointer to a
// cell (CellAt) and to draw highlights (CellRect).
type HeatmapLayout struct {
	Bounds     image.Rectangle // the whole picture
	Grid       image.Rectangle // the cells
	Bar        image.Rectangle // the colour bar (empty without a legend)
	Rows, Cols Axis            // queries down, keys across
	// RowStride and ColStride: a label is drawn every Stride-th cell.
	RowStride, ColStride int
	// RowLabels[i] and ColLabels[j] label cells i and j (the first token of a pooled cell).
	RowLabels, ColLabels []string
	Header               string // title, with a note on pooling when cells cover several tokens
	Lo, Hi               float64
	Colormap             *Colormap
	RowName, ColName     string
	fonts                *Fonts
}

// LayoutHeatmap computes the head view of m, whose tokens label both axes (tokens[i] is the
// text of query i and of key i).
func LayoutHeatmap(m Map, tokens []string, o HeatmapOptions) *HeatmapLayout {
	o.defaults()
	f := o.Fonts
	l := &HeatmapLayout{fonts: f, Colormap: o.Colormap, RowName: o.RowName, ColName: o.ColName}
	colTokens := tokens
	if o.ColTokens != nil {
		colTokens = o.ColTokens
	}
	colLabels := Labels(colTokens, o.MaxLabel, f)
	l.Lo, l.Hi = m.scale(o.Min, o.Max)
	if l.Colormap == nil {
		l.Colormap = Viridis
		if m.Signed {
			l.Colormap = Diverging
		}
	}
	labels := Labels(tokens, o.MaxLabel, f)
	labelW := max(f.Width(o.RowName), f.Width(o.ColName))
	for _, s := range labels {
		labelW = max(labelW, f.Width(s))
	}
	for _, s := range colLabels {
		labelW = max(labelW, f.Width(s))
	}
	lh := f.LineHeight()
	legendW := 0
	if !o.NoLegend {
		legendW = labelGap*3 + ColorbarWidth(l.Lo, l.Hi, f)
	}
	// Fit the cells; when they pool tokens, labels gain an index and the last label may run past
	// the grid: fit again with room for both.
	var top, overRows, overCols int
	for pass := 0; pass < 2; pass++ {
		top = margin + lh + labelGap + labelW + labelGap
		left := margin + labelW + labelGap
		availW := o.Width - left - legendW - max(margin, overCols)
		availH := availW
		if o.Height > 0 {
			availH = o.Height - top - max(margin, overRows)
		}
		l.Rows, l.Cols = fitAxes(len(m.Rows), m.NKeys(), availW, availH, o.MaxCell)
		l.Grid = image.Rect(left, top, left+l.Cols.Size(), top+l.Rows.Size())
		l.RowStride, l.ColStride = l.Rows.Stride(lh), l.Cols.Stride(lh)
		if pass == 1 || (l.Rows.Pool == 1 && l.Cols.Pool == 1 && l.RowStride == 1 && l.ColStride == 1) {
			break
		}
		if l.RowStride > 1 {
			overRows = lh
		}
		if l.ColStride > 1 {
			overCols = lh
		}
		if l.Rows.Pool > 1 {
			labelW = max(labelW, min(o.MaxLabel, f.Width(fmt.Sprintf("%d ", len(tokens))+widest(labels, f))))
		}
		if l.Cols.Pool > 1 {
			labelW = max(labelW, min(o.MaxLabel, f.Width(fmt.Sprintf("%d ", len(colTokens))+widest(colLabels, f))))
		}
	}
	l.RowLabels = cellLabels(tokens, labels, l.Rows, labelW, f)
	l.ColLabels = cellLabels(colTokens, colLabels, l.Cols, labelW, f)
	l.Header = o.Title
	if l.Rows.Pool > 1 || l.Cols.Pool > 1 {
		note := fmt.Sprintf("%d tokens, %d per cell (%s)", max(l.Rows.N, l.Cols.N), max(l.Rows.Pool, l.Cols.Pool), o.Pool)
		if l.Header != "" {
			l.Header += " — " + note
		} else {
			l.Header = note
		}
	}
	h := o.Height
	if h <= 0 {
		h = l.Grid.Max.Y + max(margin, overRows)
	}
	if !o.NoLegend {
		barH := max(min(l.Grid.Dy(), 240), min(120, h-top-margin))
		x := l.Grid.Max.X + labelGap*3 + overCols
		l.Bar = image.Rect(x, top, x+legendW-labelGap*3, top+barH)
		h = max(h, l.Bar.Max.Y+lh/2+margin)
	}
	right := l.Grid.Max.X + max(margin, overCols)
	if !l.Bar.Empty() {
		right = l.Bar.Max.X + margin
	}
	l.Bounds = image.Rect(0, 0, min(o.Width, max(right, 2*margin+f.Width(l.Header))), h)
	return l
}

// widest is the widest of labels.
func widest(labels []string, f *Fonts) string {
	best, w := "", -1
	for _, s := range labels {
		if sw := f.Width(s); sw > w {
			best, w = s, sw
		}
	}
	return best
}

// cellLabels picks, for each cell of a, the label of its first token; when cells pool several
// tokens, the label starts with that token's index, all within width pixels.
func cellLabels(tokens, labels []string, a Axis, width int, f *Fonts) []string {
	out := make([]string, a.Cells)
	for i := range out {
		lo, _ := a.Tokens(i)
		switch {
		case lo >= len(labels):
		case a.Pool > 1:
			out[i] = Truncate(fmt.Sprintf("%d %s", lo, TokenLabel(tokens[lo], f)), width, f)
		default:
			out[i] = labels[lo]
		}
	}
	return out
}

// CellAt returns the cell (row, col) under p.
func (l *HeatmapLayout) CellAt(p image.Point) (row, col int, ok bool) {
	if !p.In(l.Grid) {
		return 0, 0, false
	}
	return (p.Y - l.Grid.Min.Y) / l.Rows.Cell, (p.X - l.Grid.Min.X) / l.Cols.Cell, true
}

// CellRect is the rectangle of cell (row, col).
func (l *HeatmapLayout) CellRect(row, col int) image.Rectangle {
	x, y := l.Grid.Min.X+col*l.Cols.Cell, l.Grid.Min.Y+row*l.Rows.Cell
	return image.Rect(x, y, x+l.Cols.Cell, y+l.Rows.Cell)
}

// RowLabelRect is where the label of row i is drawn (empty when the row has none).
func (l *HeatmapLayout) RowLabelRect(i int) image.Rectangle {
	if i%l.RowStride != 0 {
		return image.Rectangle{}
	}
	w := l.fonts.Width(l.RowLabels[i])
	base := l.rowBaseline(i)
	x := l.Grid.Min.X - labelGap - w
	return image.Rect(x, base-l.fonts.Ascent(), x+w, base+l.fonts.Descent())
}

// ColLabelRect is where the label of column j is drawn, turned upright (empty when none).
func (l *HeatmapLayout) ColLabelRect(j int) image.Rectangle {
	if j%l.ColStride != 0 {
		return image.Rectangle{}
	}
	w := l.fonts.Width(l.ColLabels[j])
	x := l.colBaseline(j)
	y := l.Grid.Min.Y - labelGap
	return image.Rect(x-l.fonts.Ascent(), y-w, x+l.fonts.Descent(), y)
}

func (l *HeatmapLayout) rowBaseline(i int) int {
	return labelBaseline(l.Grid.Min.Y+i*l.Rows.Cell, l.Rows.Cell, l.fonts)
}

func (l *HeatmapLayout) colBaseline(j int) int {
	return labelBaseline(l.Grid.Min.X+j*l.Cols.Cell, l.Cols.Cell, l.fonts)
}

// labelBaseline places the baseline of a label across a cell starting at start: centred on a
// cell at least a line high, else with the glyphs starting at the cell.
func labelBaseline(start, cell int, f *Fonts) int {
	if cell < f.LineHeight() {
		return start + f.Ascent()
	}
	return start + cell/2 + (f.Ascent()-f.Descent())/2
}

// norm maps a value to [0, 1] on the layout's colour scale.
func (l *HeatmapLayout) norm(v float32) float64 {
	return (float64(v) - l.Lo) / (l.Hi - l.Lo)
}

// Heatmap draws the head view of m: queries down, keys across, token labels on both axes (keys
// upright), masked cells hatched grey, a colour bar at the right.
func Heatmap(m Map, tokens []string, o HeatmapOptions) (*image.RGBA, *HeatmapLayout) {
	o.defaults()
	l := LayoutHeatmap(m, tokens, o)
	img := newCanvas(l.Bounds.Dx(), l.Bounds.Dy())
	l.Draw(img, m, o.Pool)
	return img, l
}

// Draw paints the view of m laid out by l onto dst.
func (l *HeatmapLayout) Draw(dst *image.RGBA, m Map, pool Pool) {
	f := l.fonts
	if l.Header != "" {
		f.Draw(dst, margin, margin+f.Ascent(), l.Header, Ink)
	}
	vals, masked := m.Pooled(l.Rows, l.Cols, pool)
	gap := 0
	if l.Cols.Cell >= 12 {
		gap = 1 // a hairline between big cells
	}
	for i := 0; i < l.Rows.Cells; i++ {
		for j := 0; j < l.Cols.Cells; j++ {
			r := l.CellRect(i, j)
			r.Max = r.Max.Sub(image.Pt(gap, gap))
			c := i*l.Cols.Cells + j
			if masked[c] {
				step := 0
				if l.Cols.Cell >= 6 {
					step = 5
				}
				hatch(dst, r, MaskFill, MaskHatch, step)
				continue
			}
			FillRect(dst, r, l.Colormap.At(l.norm(vals[c])))
		}
	}
	for i := range l.RowLabels {
		if r := l.RowLabelRect(i); !r.Empty() {
			f.Draw(dst, r.Min.X, l.rowBaseline(i), l.RowLabels[i], Ink)
		}
	}
	for j := range l.ColLabels {
		if r := l.ColLabelRect(j); !r.Empty() {
			f.DrawRotated(dst, l.colBaseline(j), l.Grid.Min.Y-labelGap, l.ColLabels[j], Ink)
		}
	}
	// Axis names in the empty corner above the query labels.
	cx := l.Grid.Min.X - labelGap
	cy := l.Grid.Min.Y - labelGap - f.Descent()
	f.Draw(dst, cx-f.Width(l.RowName), cy, l.RowName, Faint)
	f.Draw(dst, cx-f.Width(l.ColName), cy-f.LineHeight(), l.ColName, Faint)
	if !l.Bar.Empty() {
		DrawColorbar(dst, l.Bar, l.Colormap, l.Lo, l.Hi, f)
	}
}
