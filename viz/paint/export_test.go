package paint

import (
	"bytes"
	"encoding/xml"
	"image/png"
	"io"
	"strings"
	"testing"
)

func TestPNGRoundTrip(t *testing.T) {
	img, l := Heatmap(oneHot(6, func(q int) int { return 0 }), words(6), HeatmapOptions{Width: 400})
	var buf bytes.Buffer
	if err := WritePNG(&buf, img); err != nil {
		t.Fatal(err)
	}
	back, err := png.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if back.Bounds() != img.Bounds() || back.Bounds() != l.Bounds {
		t.Fatalf("decoded %v, drew %v", back.Bounds(), img.Bounds())
	}
	p := centre(l.CellRect(5, 0))
	r, g, b, _ := back.At(p.X, p.Y).RGBA()
	want := Viridis.At(1)
	if uint8(r>>8) != want.R || uint8(g>>8) != want.G || uint8(b>>8) != want.B {
		t.Errorf("decoded cell colour %d,%d,%d, want %v", r>>8, g>>8, b>>8, want)
	}
}

// hostile token texts: markup, entities, quotes, control characters, invalid UTF-8.
var hostile = []string{"<script>alert(1)</script>", "&amp;", `" onload="x`, "]]>", "\x00\x1b[31m", "\xff\xfe", "안녕", "'"}

// checkSVG decodes the document fully and returns the names of its elements and its text.
func checkSVG(t *testing.T, doc []byte) (elems map[string]int, text string) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(doc))
	elems = map[string]int{}
	var sb strings.Builder
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v\n%s", err, doc)
		}
		switch v := tok.(type) {
		case xml.StartElement:
			elems[v.Name.Local]++
		case xml.CharData:
			sb.Write(v)
		}
	}
	if elems["svg"] != 1 {
		t.Fatalf("want one <svg> root, got %v", elems)
	}
	return elems, sb.String()
}

func TestHeatmapSVG(t *testing.T) {
	tokens := append([]string{"<s>"}, hostile...)
	m := oneHot(len(tokens), func(q int) int { return q })
	var buf bytes.Buffer
	if err := HeatmapSVG(&buf, m, tokens, HeatmapOptions{Width: 700, Title: "t <b>"}); err != nil {
		t.Fatal(err)
	}
	doc := buf.Bytes()
	elems, text := checkSVG(t, doc)
	if elems["script"] != 0 || bytes.Contains(doc, []byte("<script")) {
		t.Error("token text became a <script> element")
	}
	if !strings.Contains(text, "<script>alert(1)</script>") {
		t.Error("the <script> token's text is not shown as text")
	}
	n := len(tokens)
	if elems["rect"] < n*n {
		t.Errorf("%d rects for %d×%d cells", elems["rect"], n, n)
	}
	if elems["text"] < 2*n {
		t.Errorf("%d text elements for %d tokens on two axes", elems["text"], n)
	}
}

func TestLinesSVG(t *testing.T) {
	tokens := append([]string{"<s>"}, hostile...)
	m := oneHot(len(tokens), func(q int) int { return q / 2 })
	heads := []HeadMap{{Layer: 1, Head: 0, Map: m}, {Layer: 1, Head: 3, Map: m}}
	var buf bytes.Buffer
	if err := LinesSVG(&buf, heads, tokens, LinesOptions{}); err != nil {
		t.Fatal(err)
	}
	doc := buf.Bytes()
	elems, text := checkSVG(t, doc)
	if elems["script"] != 0 || bytes.Contains(doc, []byte("<script")) {
		t.Error("token text became a <script> element")
	}
	if !strings.Contains(text, "L1 H3") || !strings.Contains(text, "<script>") {
		t.Errorf("legend or token text missing from %q", text)
	}
	if want := 2 * len(tokens); elems["line"] != want {
		t.Errorf("%d lines, want %d (one per query per head)", elems["line"], want)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, io.ErrShortWrite }

func TestSVGWriteError(t *testing.T) {
	err := HeatmapSVG(failWriter{}, oneHot(50, func(int) int { return 0 }), words(50), HeatmapOptions{})
	if err == nil {
		t.Error("a failing writer reported no error")
	}
}
