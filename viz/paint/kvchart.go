package paint

import (
	"fmt"
	"image"
	"image/color"
	"math"

	"github.com/attnscope/attnscope/engine/trace"
)

// KVOptions configure the KV-cache chart.
type KVOptions struct {
	Width, Height int    // default 720 × 420
	Title         string // default "KV cache"
	// Colormap colours the layers, first to last (default Viridis).
	Colormap *Colormap
	Fonts    *Fonts // default DefaultFonts(12)
}

// KVChart draws the bytes the KV cache holds against the tokens it holds, one band per layer
// stacked from layer 0 at the bottom, with a point per evaluation step, and the bytes reserved
// (allocated capacity) as a dashed line.
func KVChart(steps []trace.Step, o KVOptions) *image.RGBA {
	if o.Width <= 0 {
		o.Width = 720
	}
	if o.Height <= 0 {
		o.Height = 420
	}
	if o.Fonts == nil {
		o.Fonts = DefaultFonts(12)
	}
	if o.Colormap == nil {
		o.Colormap = Viridis
	}
	if o.Title == "" {
		o.Title = "KV cache"
	}
	f := o.Fonts
	img := newCanvas(o.Width, o.Height)
	lh := f.LineHeight()
	// Points: the empty cache, then the state after each step.
	nLayer := 0
	for _, s := range steps {
		nLayer = max(nLayer, len(s.KV.BytesPerLayer))
	}
	xs := []float64{0}
	stack := [][]float64{make([]float64, nLayer+1)} // cumulative bytes below each layer's top
	var reserved []float64
	maxY := 1.0
	for _, s := range steps {
		cum := make([]float64, nLayer+1)
		for l := 0; l < nLayer; l++ {
			var b int64
			if l < len(s.KV.BytesPerLayer) {
				b = s.KV.BytesPerLayer[l]
			}
			cum[l+1] = cum[l] + float64(b)
		}
		var res int64
		for _, c := range s.KV.CapacityPerLayer {
			res += c
		}
		xs = append(xs, float64(s.KV.Tokens))
		stack = append(stack, cum)
		reserved = append(reserved, float64(res))
		maxY = math.Max(maxY, math.Max(cum[nLayer], float64(res)))
	}
	maxY *= 1.04 // headroom, so that the top line stays clear of the frame
	maxX := math.Max(1, xs[len(xs)-1])
	unit, div := byteUnit(maxY)
	yTicks, ydec := Ticks(0, maxY/div, 5)
	xTicks, _ := Ticks(0, maxX, 8)
	xTicks = integers(xTicks)
	yLabelW := 0
	for _, t := range yTicks {
		yLabelW = max(yLabelW, f.Width(FormatTick(t, ydec)))
	}
	legendW := f.Width(fmt.Sprintf("layer %d", max(nLayer-1, 0))) + 30
	plot := image.Rect(margin+lh+labelGap+yLabelW+labelGap, margin+2*lh+2*labelGap,
		o.Width-margin-legendW, o.Height-margin-2*lh-labelGap)
	if plot.Dx() < 20 || plot.Dy() < 20 {
		f.Draw(img, margin, margin+f.Ascent(), "KV cache: picture too small", Ink)
		return img
	}
	px := func(x float64) float64 { return float64(plot.Min.X) + x/maxX*float64(plot.Dx()-1) }
	py := func(y float64) float64 { return float64(plot.Max.Y-1) - y/maxY*float64(plot.Dy()-1) }

	// Title and summary.
	f.Draw(img, margin, margin+f.Ascent(), o.Title, Ink)
	if len(steps) > 0 {
		last := stack[len(stack)-1][nLayer]
		sum := fmt.Sprintf("%d tokens · %s in %d layers · %d steps", int(maxX), humanBytes(last), nLayer, len(steps))
		if maxX > 0 {
			sum += " · " + humanBytes(last/maxX) + " per token"
		}
		f.Draw(img, margin, margin+f.Ascent()+lh+labelGap/2, sum, Faint)
	}
	// Grid and axes.
	for _, t := range yTicks {
		y := int(math.Round(py(t * div)))
		FillRect(img, image.Rect(plot.Min.X, y, plot.Max.X, y+1), MaskFill)
		s := FormatTick(t, ydec)
		f.Draw(img, plot.Min.X-labelGap-f.Width(s), y+(f.Ascent()-f.Descent())/2, s, Ink)
	}
	for _, t := range xTicks {
		x := int(math.Round(px(t)))
		FillRect(img, image.Rect(x, plot.Max.Y, x+1, plot.Max.Y+3), Ink)
		s := FormatTick(t, 0)
		f.Draw(img, x-f.Width(s)/2, plot.Max.Y+labelGap+f.Ascent(), s, Ink)
	}
	xl := "tokens in the cache"
	f.Draw(img, plot.Min.X+(plot.Dx()-f.Width(xl))/2, plot.Max.Y+labelGap+lh+f.Ascent(), xl, Faint)
	yl := "K+V " + unit
	f.DrawRotated(img, margin+f.Ascent(), plot.Min.Y+(plot.Dy()+f.Width(yl))/2, yl, Faint)

	// One band per layer.
	var pen Pen
	for l := 0; l < nLayer; l++ {
		pts := make([][2]float64, 0, 2*len(xs))
		for i := range xs {
			pts = append(pts, [2]float64{px(xs[i]), py(stack[i][l+1])})
		}
		for i := len(xs) - 1; i >= 0; i-- {
			pts = append(pts, [2]float64{px(xs[i]), py(stack[i][l])})
		}
		pen.Polygon(img, pts, layerColor(o.Colormap, l, nLayer))
	}
	// The total as a line with a dot per step, and the reserved bytes dashed.
	for i := 1; i < len(xs); i++ {
		pen.Line(img, px(xs[i-1]), py(stack[i-1][nLayer]), px(xs[i]), py(stack[i][nLayer]), 1.5, Ink)
		x, y := int(px(xs[i])), int(py(stack[i][nLayer]))
		FillRect(img, image.Rect(x-1, y-1, x+2, y+2), Ink)
		r := int(math.Round(py(reserved[i-1])))
		dashedH(img, int(px(xs[i-1])), int(px(xs[i]))+1, r, Faint)
	}
	FillRect(img, image.Rect(plot.Min.X, plot.Min.Y, plot.Min.X+1, plot.Max.Y), Ink)
	FillRect(img, image.Rect(plot.Min.X, plot.Max.Y-1, plot.Max.X, plot.Max.Y), Ink)

	// Legend: the layers (every one when they fit), then the reserved line.
	lx, ly := plot.Max.X+3*labelGap, plot.Min.Y+f.Ascent()
	stride := max(1, (nLayer*lh+(plot.Dy()-2*lh)-1)/max(plot.Dy()-2*lh, 1))
	for l := nLayer - 1; l >= 0; l-- {
		if (nLayer-1-l)%stride != 0 && l != 0 {
			continue
		}
		FillRect(img, image.Rect(lx, ly-f.Ascent()+2, lx+10, ly-1), layerColor(o.Colormap, l, nLayer))
		f.Draw(img, lx+14, ly, fmt.Sprintf("layer %d", l), Ink)
		ly += lh
	}
	dashedH(img, lx, lx+10, ly-f.Ascent()/2, Faint)
	f.Draw(img, lx+14, ly, "reserved", Faint)
	return img
}

// layerColor spreads the layers over the lighter 85% of a colormap, first layer darkest.
func layerColor(m *Colormap, l, n int) color.RGBA {
	if n <= 1 {
		return m.At(0.5)
	}
	return m.At(0.1 + 0.85*float64(l)/float64(n-1))
}

// byteUnit picks the unit that shows v bytes in numbers under 1024.
func byteUnit(v float64) (string, float64) {
	switch {
	case v >= 1<<30:
		return "GiB", 1 << 30
	case v >= 1<<20:
		return "MiB", 1 << 20
	case v >= 1<<10:
		return "KiB", 1 << 10
	}
	return "bytes", 1
}

func humanBytes(v float64) string {
	u, d := byteUnit(v)
	if d == 1 {
		return fmt.Sprintf("%.0f bytes", v)
	}
	return fmt.Sprintf("%.1f %s", v/d, u)
}

// integers drops fractional ticks (token counts are whole).
func integers(ts []float64) []float64 {
	out := ts[:0]
	for _, t := range ts {
		if t == math.Trunc(t) {
			out = append(out, t)
		}
	}
	return out
}
