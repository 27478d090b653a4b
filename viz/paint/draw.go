package paint

import (
	"image"
	"image/color"
	"image/draw"
	"math"

	"golang.org/x/image/vector"
)

// Colours shared by the views.
var (
	Background = color.RGBA{255, 255, 255, 255}
	Ink        = color.RGBA{0x22, 0x22, 0x22, 255} // text and axes
	Faint      = color.RGBA{0x88, 0x88, 0x88, 255} // secondary text, grid lines
	MaskFill   = color.RGBA{0xee, 0xee, 0xee, 255} // cells a query may not see
	MaskHatch  = color.RGBA{0xd0, 0xd0, 0xd0, 255}
)

// FillRect fills r (clipped to dst) with c, replacing what was there.
func FillRect(dst *image.RGBA, r image.Rectangle, c color.Color) {
	draw.Draw(dst, r.Intersect(dst.Bounds()), image.NewUniform(c), image.Point{}, draw.Src)
}

// StrokeRect draws the one-pixel outline of r.
func StrokeRect(dst *image.RGBA, r image.Rectangle, c color.Color) {
	FillRect(dst, image.Rect(r.Min.X, r.Min.Y, r.Max.X, r.Min.Y+1), c)
	FillRect(dst, image.Rect(r.Min.X, r.Max.Y-1, r.Max.X, r.Max.Y), c)
	FillRect(dst, image.Rect(r.Min.X, r.Min.Y, r.Min.X+1, r.Max.Y), c)
	FillRect(dst, image.Rect(r.Max.X-1, r.Min.Y, r.Max.X, r.Max.Y), c)
}

// hatch fills r with bg and diagonal lines of fg every step pixels, marking masked cells.
func hatch(dst *image.RGBA, r image.Rectangle, bg, fg color.RGBA, step int) {
	r = r.Intersect(dst.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c := bg
			if step > 0 && (x+y)%step == 0 {
				c = fg
			}
			dst.SetRGBA(x, y, c)
		}
	}
}

// Pen draws anti-aliased lines and polygons, composited over the picture; it reuses its
// rasterizer between shapes. Shapes that reach outside the picture are not drawn.
type Pen struct{ z vector.Rasterizer }

// Line draws a line of the given width from (x0, y0) to (x1, y1) in c (alpha is honoured).
func (p *Pen) Line(dst *image.RGBA, x0, y0, x1, y1, width float64, c color.Color) {
	dx, dy := x1-x0, y1-y0
	l := math.Hypot(dx, dy)
	if l == 0 || width <= 0 {
		return
	}
	// The line is a quad: the segment offset by half the width on each side.
	nx, ny := -dy/l*width/2, dx/l*width/2
	p.Polygon(dst, [][2]float64{{x0 + nx, y0 + ny}, {x1 + nx, y1 + ny}, {x1 - nx, y1 - ny}, {x0 - nx, y0 - ny}}, c)
}

// Polygon fills the closed polygon pts (non-zero winding) with c.
func (p *Pen) Polygon(dst *image.RGBA, pts [][2]float64, c color.Color) {
	if len(pts) < 3 {
		return
	}
	minX, minY, maxX, maxY := pts[0][0], pts[0][1], pts[0][0], pts[0][1]
	for _, q := range pts[1:] {
		minX, maxX = math.Min(minX, q[0]), math.Max(maxX, q[0])
		minY, maxY = math.Min(minY, q[1]), math.Max(maxY, q[1])
	}
	box := image.Rect(int(math.Floor(minX)), int(math.Floor(minY)), int(math.Ceil(maxX)), int(math.Ceil(maxY)))
	if box.Empty() || box.Intersect(dst.Bounds()) != box {
		return
	}
	p.z.Reset(box.Dx(), box.Dy())
	ox, oy := float64(box.Min.X), float64(box.Min.Y)
	p.z.MoveTo(float32(pts[0][0]-ox), float32(pts[0][1]-oy))
	for _, q := range pts[1:] {
		p.z.LineTo(float32(q[0]-ox), float32(q[1]-oy))
	}
	p.z.ClosePath()
	p.z.Draw(dst, box, image.NewUniform(c), image.Point{})
}

// withAlpha returns c (opaque) at opacity a in [0, 1], premultiplied.
func withAlpha(c color.RGBA, a float64) color.RGBA {
	a = math.Max(0, math.Min(1, a))
	return color.RGBA{uint8(float64(c.R)*a + 0.5), uint8(float64(c.G)*a + 0.5), uint8(float64(c.B)*a + 0.5), uint8(255*a + 0.5)}
}

// dashedH draws a horizontal dashed line.
func dashedH(dst *image.RGBA, x0, x1, y int, c color.Color) {
	for x := x0; x < x1; x += 6 {
		FillRect(dst, image.Rect(x, y, min(x+3, x1), y+1), c)
	}
}

// newCanvas returns a w×h picture filled with the background colour.
func newCanvas(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, max(w, 1), max(h, 1)))
	FillRect(img, img.Bounds(), Background)
	return img
}
