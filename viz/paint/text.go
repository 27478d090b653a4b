package paint

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"os"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// HangulFontPaths are the files searched, in order, for a font with Hangul glyphs (Debian's
// fonts-nanum first). Fonts are read at run time; none is compiled in.
var HangulFontPaths = []string{
	"/usr/share/fonts/truetype/nanum/NanumGothic.ttf",
	"/usr/share/fonts/truetype/nanum/NanumBarunGothic.ttf",
	"/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
	"/usr/share/fonts/truetype/unfonts-core/UnDotum.ttf",
}

var (
	goRegular     *opentype.Font
	systemFonts   []*opentype.Font
	systemFontErr error
	fontsOnce     sync.Once
)

func loadFonts() {
	var err error
	if goRegular, err = opentype.Parse(goregular.TTF); err != nil {
		panic("paint: Go Regular: " + err.Error())
	}
	for _, p := range HangulFontPaths {
		if _, err := os.Stat(p); err != nil {
			continue
		}
		f, err := LoadFont(p)
		if err != nil {
			systemFontErr = err
			continue
		}
		systemFonts = append(systemFonts, f)
		break
	}
}

// LoadFont parses a TrueType or OpenType file (the first font of a collection).
func LoadFont(path string) (*opentype.Font, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if f, err := opentype.Parse(b); err == nil {
		return f, nil
	}
	c, err := opentype.ParseCollection(b)
	if err != nil {
		return nil, fmt.Errorf("%s: not a TrueType/OpenType font: %w", path, err)
	}
	f, err := c.Font(0)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// Fonts draws text at one size with Go Regular, falling back rune by rune to further fonts (a
// Hangul font found on the system, or ones the caller passes). A Fonts is not safe for
// concurrent use.
type Fonts struct {
	size  float64
	extra []*opentype.Font
	faces []font.Face
	face  font.Face
}

// NewFonts returns Go Regular at size pixels followed by extra fonts (tried in order for runes
// Go Regular lacks) and the Hangul font found in HangulFontPaths, if any.
func NewFonts(size float64, extra ...*opentype.Font) (*Fonts, error) {
	fontsOnce.Do(loadFonts)
	all := append([]*opentype.Font{goRegular}, extra...)
	return newFonts(size, extra, append(all, systemFonts...))
}

// newFonts makes faces of exactly the fonts all (extra is kept for WithSize).
func newFonts(size float64, extra, all []*opentype.Font) (*Fonts, error) {
	if !(size > 0) {
		return nil, fmt.Errorf("paint: font size %g is not positive", size)
	}
	f := &Fonts{size: size, extra: extra}
	for _, fnt := range all {
		face, err := opentype.NewFace(fnt, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingFull})
		if err != nil {
			return nil, fmt.Errorf("paint: font face at size %g: %w", size, err)
		}
		f.faces = append(f.faces, face)
	}
	f.face = &fallbackFace{faces: f.faces}
	return f, nil
}

// DefaultFonts is NewFonts(size) without extra fonts; Go Regular always parses, so it cannot fail
// for a positive size.
func DefaultFonts(size float64) *Fonts {
	f, err := NewFonts(size)
	if err != nil {
		panic(err)
	}
	return f
}

// WithSize returns the same fonts at another size.
func (f *Fonts) WithSize(size float64) *Fonts {
	g, err := NewFonts(size, f.extra...)
	if err != nil {
		panic(err)
	}
	return g
}

// SystemFontError reports why a Hangul font that exists could not be read (nil otherwise).
func SystemFontError() error { fontsOnce.Do(loadFonts); return systemFontErr }

// Size is the font size in pixels.
func (f *Fonts) Size() float64 { return f.size }

// Face is the fallback face (it draws each rune with the first font that has it).
func (f *Fonts) Face() font.Face { return f.face }

// Has reports whether some font has a glyph for r.
func (f *Fonts) Has(r rune) bool {
	_, ok := f.face.GlyphAdvance(r)
	return ok
}

// HasHangul reports whether Hangul syllables can be drawn.
func (f *Fonts) HasHangul() bool { return f.Has('한') && f.Has('글') }

// Ascent, Descent and LineHeight are the vertical metrics in whole pixels.
func (f *Fonts) Ascent() int     { return f.face.Metrics().Ascent.Ceil() }
func (f *Fonts) Descent() int    { return f.face.Metrics().Descent.Ceil() }
func (f *Fonts) LineHeight() int { return f.Ascent() + f.Descent() }

// Width is the advance of s in pixels.
func (f *Fonts) Width(s string) int { return font.MeasureString(f.face, s).Ceil() }

// Draw draws s with its baseline starting at (x, y).
func (f *Fonts) Draw(dst draw.Image, x, y int, s string, c color.Color) {
	d := font.Drawer{Dst: dst, Src: image.NewUniform(c), Face: f.face, Dot: fixed.P(x, y)}
	d.DrawString(s)
}

// DrawRotated draws s turned a quarter turn anticlockwise (reading upwards): the baseline runs up
// from (x, y), and the glyphs lie to the left of it.
func (f *Fonts) DrawRotated(dst draw.Image, x, y int, s string, c color.Color) {
	w, a, d := f.Width(s), f.Ascent(), f.Descent()
	if w <= 0 {
		return
	}
	tmp := image.NewAlpha(image.Rect(0, 0, w, a+d))
	dr := font.Drawer{Dst: tmp, Src: image.Opaque, Face: f.face, Dot: fixed.P(0, a)}
	dr.DrawString(s)
	// The point (u, v) of tmp goes to (x - a + v, y - u): the baseline (v = a) lands on column x.
	rot := image.NewAlpha(image.Rect(x-a, y-w, x+d, y))
	for v := 0; v < a+d; v++ {
		for u := 0; u < w; u++ {
			rot.SetAlpha(x-a+v, y-1-u, tmp.AlphaAt(u, v))
		}
	}
	draw.DrawMask(dst, rot.Rect, image.NewUniform(c), image.Point{}, rot, rot.Rect.Min, draw.Over)
}

// fallbackFace is a font.Face that takes each rune from the first face that has a glyph for it.
type fallbackFace struct{ faces []font.Face }

func (m *fallbackFace) pick(r rune) font.Face {
	for _, f := range m.faces {
		if _, ok := f.GlyphAdvance(r); ok {
			return f
		}
	}
	return m.faces[0]
}

func (m *fallbackFace) Close() error {
	for _, f := range m.faces {
		f.Close()
	}
	return nil
}

func (m *fallbackFace) Glyph(dot fixed.Point26_6, r rune) (image.Rectangle, image.Image, image.Point, fixed.Int26_6, bool) {
	return m.pick(r).Glyph(dot, r)
}

func (m *fallbackFace) GlyphBounds(r rune) (fixed.Rectangle26_6, fixed.Int26_6, bool) {
	return m.pick(r).GlyphBounds(r)
}

func (m *fallbackFace) GlyphAdvance(r rune) (fixed.Int26_6, bool) {
	return m.pick(r).GlyphAdvance(r)
}

// Kern applies a font's kerning only between two runes drawn by that same font.
func (m *fallbackFace) Kern(r0, r1 rune) fixed.Int26_6 {
	f := m.pick(r0)
	if f != m.pick(r1) {
		return 0
	}
	return f.Kern(r0, r1)
}

// Metrics are the largest ascent, descent and height among the faces, so that any rune fits.
func (m *fallbackFace) Metrics() font.Metrics {
	out := m.faces[0].Metrics()
	for _, f := range m.faces[1:] {
		mt := f.Metrics()
		out.Height = max(out.Height, mt.Height)
		out.Ascent = max(out.Ascent, mt.Ascent)
		out.Descent = max(out.Descent, mt.Descent)
	}
	return out
}
