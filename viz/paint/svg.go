package paint

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"image"
	"image/color"
	"io"
	"strings"
)

// SVG writes a small SVG document: rectangles, lines and text. Text is XML-escaped, so token
// text (untrusted) can never become markup. Write errors are kept and returned by Close.
type SVG struct {
	w   *bufio.Writer
	err error
}

// SVGFontFamily is the font list SVG text asks for; viewers pick the first they have.
const SVGFontFamily = "Go, 'Noto Sans', 'NanumGothic', 'DejaVu Sans', sans-serif"

// NewSVG starts a width×height document with a white background.
func NewSVG(w io.Writer, width, height int) *SVG {
	s := &SVG{w: bufio.NewWriter(w)}
	s.printf(`<?xml version="1.0" encoding="UTF-8"?>`+"\n"+
		`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="%s">`+"\n",
		width, height, width, height, escapeText(SVGFontFamily))
	s.Rect(image.Rect(0, 0, width, height), Background)
	return s
}

func (s *SVG) printf(format string, args ...any) {
	if s.err == nil {
		_, s.err = fmt.Fprintf(s.w, format, args...)
	}
}

// Rect fills r with c.
func (s *SVG) Rect(r image.Rectangle, c color.Color) {
	s.printf(`<rect x="%d" y="%d" width="%d" height="%d" fill="%s"/>`+"\n", r.Min.X, r.Min.Y, r.Dx(), r.Dy(), hexColor(c))
}

// RectTitled fills r with c and gives it a tooltip (shown by browsers on hover).
func (s *SVG) RectTitled(r image.Rectangle, c color.Color, title string) {
	s.printf(`<rect x="%d" y="%d" width="%d" height="%d" fill="%s"><title>%s</title></rect>`+"\n",
		r.Min.X, r.Min.Y, r.Dx(), r.Dy(), hexColor(c), escapeText(title))
}

// HatchPattern defines, once per document, the pattern that RectHatched fills with.
func (s *SVG) HatchPattern() {
	s.printf(`<defs><pattern id="hatch" width="5" height="5" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">`+
		`<rect width="5" height="5" fill="%s"/><line x1="0" y1="0" x2="0" y2="5" stroke="%s" stroke-width="1.5"/></pattern></defs>`+"\n",
		hexColor(MaskFill), hexColor(MaskHatch))
}

// RectHatched fills r with the pattern HatchPattern defined.
func (s *SVG) RectHatched(r image.Rectangle) {
	s.printf(`<rect x="%d" y="%d" width="%d" height="%d" fill="url(#hatch)"/>`+"\n", r.Min.X, r.Min.Y, r.Dx(), r.Dy())
}

// Line draws a line of the given width in c at opacity alpha.
func (s *SVG) Line(x0, y0, x1, y1, width float64, c color.Color, alpha float64) {
	s.printf(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="%.2f" stroke-opacity="%.3f"/>`+"\n",
		x0, y0, x1, y1, hexColor(c), width, alpha)
}

// Text anchors for SVG.Text.
const (
	AnchorStart = "start"
	AnchorEnd   = "end"
	AnchorMid   = "middle"
)

// Text writes text with its baseline at (x, y), anchored at its start, middle or end, turned by
// rotate degrees (clockwise) about (x, y).
func (s *SVG) Text(x, y int, text string, size float64, c color.Color, anchor string, rotate int) {
	tr := ""
	if rotate != 0 {
		tr = fmt.Sprintf(` transform="rotate(%d %d %d)"`, rotate, x, y)
	}
	s.printf(`<text x="%d" y="%d" font-size="%g" fill="%s" text-anchor="%s"%s xml:space="preserve">%s</text>`+"\n",
		x, y, size, hexColor(c), anchor, tr, escapeText(text))
}

// Close ends the document and flushes it.
func (s *SVG) Close() error {
	s.printf("</svg>\n")
	if s.err == nil {
		s.err = s.w.Flush()
	}
	return s.err
}

func hexColor(c color.Color) string {
	r, g, b, _ := c.RGBA()
	return fmt.Sprintf("#%02x%02x%02x", r>>8, g>>8, b>>8)
}

// escapeText escapes &, <, >, quotes and characters XML forbids (replaced by U+FFFD).
func escapeText(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s)) // writing to a strings.Builder cannot fail
	return b.String()
}
