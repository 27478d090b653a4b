package paint

import (
	"fmt"
	"image"

	"github.com/attnscope/attnscope/engine/trace"
)

// ModelOptions configure the model view (every layer's and head's map as a thumbnail).
type ModelOptions struct {
	Width int // picture width in pixels (default 1000)
	// MaxThumb is the largest thumbnail side (default 160).
	MaxThumb int
	Title    string
	Colormap *Colormap // default Viridis (Diverging for signed maps)
	Pool     Pool      // how thumbnails pool tokens (default PoolMax)
	// Min and Max fix the colour scale as in HeatmapOptions.
	Min, Max float32
	Fonts    *Fonts // default DefaultFonts(12)
}

// ModelLayout places the thumbnails: layer l, head h at ThumbRect(l, h).
type ModelLayout struct {
	Bounds        image.Rectangle
	Layers, Heads int
	Thumb, Gap    int         // thumbnail side and the space between thumbnails
	Origin        image.Point // top-left corner of layer 0, head 0
	Header        string
	fonts         *Fonts
}

// LayoutModel lays out nLayer × nHead thumbnails.
func LayoutModel(nLayer, nHead int, o ModelOptions) *ModelLayout {
	if o.Width <= 0 {
		o.Width = 1000
	}
	if o.MaxThumb <= 0 {
		o.MaxThumb = 160
	}
	if o.Fonts == nil {
		o.Fonts = DefaultFonts(12)
	}
	f := o.Fonts
	lh := f.LineHeight()
	l := &ModelLayout{Layers: nLayer, Heads: nHead, Header: o.Title, fonts: f}
	left := margin + f.Width(fmt.Sprintf("layer %d", max(nLayer-1, 0))) + labelGap
	top := margin + lh + labelGap + lh + labelGap // title line, then head captions
	avail := o.Width - left - margin
	l.Gap = 6
	l.Thumb = min(o.MaxThumb, (avail-l.Gap*max(nHead-1, 0))/max(nHead, 1))
	if l.Thumb < 8 {
		l.Gap = 1
		l.Thumb = max((avail-max(nHead-1, 0))/max(nHead, 1), 1)
	}
	l.Origin = image.Pt(left, top)
	pitch := l.Thumb + l.Gap
	l.Bounds = image.Rect(0, 0, min(o.Width, left+nHead*pitch-l.Gap+margin), top+nLayer*pitch-l.Gap+margin)
	l.Bounds.Max.X = max(l.Bounds.Max.X, 2*margin+f.Width(l.Header))
	return l
}

// ThumbRect is the square of layer layer, head head.
func (l *ModelLayout) ThumbRect(layer, head int) image.Rectangle {
	x := l.Origin.X + head*(l.Thumb+l.Gap)
	y := l.Origin.Y + layer*(l.Thumb+l.Gap)
	return image.Rect(x, y, x+l.Thumb, y+l.Thumb)
}

// HeadAt returns the thumbnail under p (a click opens that head).
func (l *ModelLayout) HeadAt(p image.Point) (layer, head int, ok bool) {
	if p.X < l.Origin.X || p.Y < l.Origin.Y {
		return 0, 0, false
	}
	pitch := l.Thumb + l.Gap
	head, layer = (p.X-l.Origin.X)/pitch, (p.Y-l.Origin.Y)/pitch
	if head >= l.Heads || layer >= l.Layers || !p.In(l.ThumbRect(layer, head)) {
		return 0, 0, false
	}
	return layer, head, true
}

// ModelView draws maps[layer][head] as a grid of thumbnails, layers down and heads across,
// with layer and head captions. Rows of maps may have different lengths.
func ModelView(maps [][]Map, o ModelOptions) (*image.RGBA, *ModelLayout) {
	if o.Fonts == nil {
		o.Fonts = DefaultFonts(12)
	}
	nHead := 0
	for _, hs := range maps {
		nHead = max(nHead, len(hs))
	}
	l := LayoutModel(len(maps), nHead, o)
	img := newCanvas(l.Bounds.Dx(), l.Bounds.Dy())
	f := l.fonts
	if l.Header != "" {
		f.Draw(img, margin, margin+f.Ascent(), l.Header, Ink)
	}
	pitch := l.Thumb + l.Gap
	headFmt, wide := "head %d", f.Width(fmt.Sprintf("head %d", max(nHead-1, 0)))
	if wide+4 > pitch {
		headFmt, wide = "%d", f.Width(fmt.Sprint(max(nHead-1, 0)))
	}
	headStride := (wide + 4 + pitch - 1) / pitch
	for h := 0; h < nHead; h += headStride {
		r := l.ThumbRect(0, h)
		c := fmt.Sprintf(headFmt, h)
		f.Draw(img, r.Min.X+(r.Dx()-f.Width(c))/2, r.Min.Y-labelGap-f.Descent(), c, Ink)
	}
	layerStride := (f.LineHeight() + pitch - 1) / pitch
	for li, hs := range maps {
		if li%layerStride == 0 {
			r := l.ThumbRect(li, 0)
			c := fmt.Sprintf("layer %d", li)
			f.Draw(img, r.Min.X-labelGap-f.Width(c), r.Min.Y+(r.Dy()+f.Ascent()-f.Descent())/2, c, Ink)
		}
		for h, m := range hs {
			drawThumb(img, l.ThumbRect(li, h), m, o)
		}
	}
	return img, l
}

// drawThumb draws a small heatmap of m filling r (centred when the cells do not fill it).
func drawThumb(dst *image.RGBA, r image.Rectangle, m Map, o ModelOptions) {
	cmap := o.Colormap
	if cmap == nil {
		cmap = Viridis
		if m.Signed {
			cmap = Diverging
		}
	}
	lo, hi := m.scale(o.Min, o.Max)
	rows, cols := fitAxes(len(m.Rows), m.NKeys(), r.Dx(), r.Dy(), 0)
	vals, masked := m.Pooled(rows, cols, o.Pool)
	off := image.Pt(r.Min.X+(r.Dx()-cols.Size())/2, r.Min.Y+(r.Dy()-rows.Size())/2)
	FillRect(dst, r, MaskFill)
	for i := 0; i < rows.Cells; i++ {
		for j := 0; j < cols.Cells; j++ {
			c := i*cols.Cells + j
			if masked[c] {
				continue
			}
			x, y := off.X+j*cols.Cell, off.Y+i*rows.Cell
			FillRect(dst, image.Rect(x, y, x+cols.Cell, y+rows.Cell), cmap.At((float64(vals[c])-lo)/(hi-lo)))
		}
	}
}

// TraceMaps returns every head's map of a trace, shape (layer, head).
func TraceMaps(t *trace.Trace) [][]Map {
	out := make([][]Map, len(t.Attn))
	for l := range t.Attn {
		for h := range t.Attn[l] {
			m, _ := TraceMap(t, l, h)
			out[l] = append(out[l], m)
		}
	}
	return out
}
