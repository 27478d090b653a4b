package paint

import (
	"image"
	"math"
	"strconv"
)

// Ticks returns about n round values (multiples of 1, 2 or 5 times a power of ten) covering
// [lo, hi], and the number of decimals that shows them exactly.
func Ticks(lo, hi float64, n int) ([]float64, int) {
	if !(hi > lo) || n < 1 {
		return []float64{lo}, 0
	}
	raw := (hi - lo) / float64(n)
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	step := p
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			step = m * p
			break
		}
	}
	dec := max(0, -int(math.Floor(math.Log10(step)+1e-9)))
	var out []float64
	for v := math.Ceil(lo/step-1e-9) * step; v <= hi+step*1e-9; v += step {
		if math.Abs(v) < step*1e-9 {
			v = 0
		}
		out = append(out, v)
	}
	return out, dec
}

// FormatTick writes v with dec decimals.
func FormatTick(v float64, dec int) string { return strconv.FormatFloat(v, 'f', dec, 64) }

// ColorbarWidth is the width DrawColorbar needs for a bar over [lo, hi], labels included.
func ColorbarWidth(lo, hi float64, fonts *Fonts) int {
	ticks, dec := Ticks(lo, hi, 5)
	w := 0
	for _, t := range ticks {
		w = max(w, fonts.Width(FormatTick(t, dec)))
	}
	return colorbarBar + 4 + w
}

const colorbarBar = 14 // width of the colour strip

// DrawColorbar draws a vertical legend in r: the colormap from lo (bottom) to hi (top), with
// round tick values labelled to its right.
func DrawColorbar(dst *image.RGBA, r image.Rectangle, m *Colormap, lo, hi float64, fonts *Fonts) {
	h := r.Dy()
	if h < 2 || !(hi > lo) {
		return
	}
	bar := image.Rect(r.Min.X, r.Min.Y, r.Min.X+colorbarBar, r.Max.Y)
	for y := 0; y < h; y++ {
		t := 1 - float64(y)/float64(h-1)
		FillRect(dst, image.Rect(bar.Min.X, bar.Min.Y+y, bar.Max.X, bar.Min.Y+y+1), m.At(t))
	}
	StrokeRect(dst, bar, Faint)
	ticks, dec := Ticks(lo, hi, 5)
	a, d := fonts.Ascent(), fonts.Descent()
	for _, v := range ticks {
		y := bar.Max.Y - 1 - int(math.Round((v-lo)/(hi-lo)*float64(h-1)))
		FillRect(dst, image.Rect(bar.Max.X, y, bar.Max.X+3, y+1), Ink)
		base := y + (a-d)/2
		base = max(base, r.Min.Y+a-d)
		base = min(base, r.Max.Y+d)
		fonts.Draw(dst, bar.Max.X+4, base, FormatTick(v, dec), Ink)
	}
}
