package paint

import (
	"image"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/image/font/opentype"

	"github.com/attnscope/attnscope/internal/shareddata"
)

// latinOnly is Go Regular alone, as on a machine without a Hangul font.
func latinOnly(t *testing.T) *Fonts {
	t.Helper()
	fontsOnce.Do(loadFonts)
	f, err := newFonts(12, nil, []*opentype.Font{goRegular})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestTokenLabel(t *testing.T) {
	latin := latinOnly(t)
	for _, tc := range []struct {
		in    string
		fonts *Fonts
		want  string
	}{
		{" Once", latin, "·Once"},
		{" ", latin, "·"},
		{"", latin, `""`},
		{"a\nb\tc\r", latin, `a\nb\tc\r`},
		{"\x01\x7f", latin, `\x01\x7f`},
		{"\xff", latin, `\xff`},
		{"<0xEC>", latin, "<0xEC>"},
		{"안녕", latin, `\uC548\uB155`},
		{"안녕", nil, "안녕"}, // no fonts: only the text rules apply (SVG viewers have their own fonts)
		{"\u200b", nil, `\u200B`},
	} {
		if got := TokenLabel(tc.in, tc.fonts); got != tc.want {
			t.Errorf("TokenLabel(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestTruncate(t *testing.T) {
	f := DefaultFonts(12)
	if got := Truncate("short", 200, f); got != "short" {
		t.Errorf("Truncate cut a label that fits: %q", got)
	}
	long := strings.Repeat("transformer", 10)
	for _, w := range []int{5, 30, 100} {
		got := Truncate(long, w, f)
		if !strings.HasSuffix(got, Ellipsis) || f.Width(got) > max(w, f.Width(Ellipsis)) {
			t.Errorf("Truncate(…, %d) = %q (%d pixels)", w, got, f.Width(got))
		}
		if w >= 30 && len(got) < 2 {
			t.Errorf("Truncate(…, %d) = %q keeps nothing", w, got)
		}
	}
	if got := Truncate("안녕하세요안녕하세요", 40, f); !utf8.ValidString(got) {
		t.Errorf("Truncate split a rune: %q", got)
	}
}

// inked counts the pixels of img that are not the background.
func inked(img *image.RGBA, r image.Rectangle) int {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if img.RGBAAt(x, y) != Background {
				n++
			}
		}
	}
	return n
}

func TestDrawRotated(t *testing.T) {
	f := DefaultFonts(12)
	img := newCanvas(100, 120)
	f.DrawRotated(img, 50, 100, "Hello", Ink)
	w := f.Width("Hello")
	box := image.Rect(50-f.Ascent(), 100-w, 50+f.Descent(), 100)
	if n := inked(img, box); n < 20 {
		t.Fatalf("only %d pixels drawn inside %v", n, box)
	}
	if n := inked(img, img.Bounds()) - inked(img, box); n != 0 {
		t.Errorf("%d pixels drawn outside %v", n, box)
	}
	// Upright text is wider than tall; turned text is taller than wide.
	if box.Dy() <= box.Dx() {
		t.Errorf("rotated box %v is not upright", box)
	}
}

// Hangul draws with a real font when one is installed (Debian's fonts-nanum), per rune next to
// Latin text; without one, labels escape it.
func TestHangulRenders(t *testing.T) {
	f := DefaultFonts(16)
	if !f.HasHangul() {
		msg := "no Hangul font found in HangulFontPaths (install fonts-nanum)"
		if err := SystemFontError(); err != nil {
			msg += ": " + err.Error()
		}
		if shareddata.Required() {
			t.Fatalf("%s, and ATTNSCOPE_REQUIRE_TESTDATA=1 requires it", msg)
		}
		t.Skip("skipping: " + msg)
	}
	text := "안녕하세요 transformer"
	if got := TokenLabel(text, f); got != "안녕하세요·transformer" {
		t.Errorf("TokenLabel escaped drawable Hangul: %q", got)
	}
	img := newCanvas(400, 40)
	f.Draw(img, 4, 28, "안녕하세요", Ink)
	hangulW := f.Width("안녕하세요")
	if hangulW < 5*8 {
		t.Errorf("five syllables are only %d pixels wide", hangulW)
	}
	if n := inked(img, img.Bounds()); n < 150 {
		t.Errorf("Hangul drew only %d pixels", n)
	}
	save(t, "hangul.png", img)
	// Each syllable draws something of its own (no empty or missing glyphs).
	for _, r := range "안녕하세요" {
		one := newCanvas(40, 40)
		f.Draw(one, 4, 28, string(r), Ink)
		if inked(one, one.Bounds()) < 20 {
			t.Errorf("%q drew almost nothing", r)
		}
	}
	// Mixed text takes Latin from Go Regular and Hangul from the fallback font.
	mixed := newCanvas(400, 40)
	f.Draw(mixed, 4, 28, text, Ink)
	if inked(mixed, mixed.Bounds()) <= inked(img, img.Bounds()) {
		t.Error("mixed Hangul and Latin text drew no more than the Hangul alone")
	}
}
