package main

import (
	"bytes"
	"encoding/xml"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/attnscope/attnscope/engine/infer"
	"github.com/attnscope/attnscope/internal/shareddata"
	"github.com/attnscope/attnscope/viz/paint"
)

func decodePNG(t *testing.T, path string) *image.RGBA {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	rgba := image.NewRGBA(img.Bounds())
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y++ {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x++ {
			rgba.Set(x, y, img.At(x, y))
		}
	}
	return rgba
}

// ink counts the pixels in r that differ from the background.
func ink(img *image.RGBA, r image.Rectangle) int {
	n := 0
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if img.RGBAAt(x, y) != paint.Background {
				n++
			}
		}
	}
	return n
}

// TestRenderHeadView draws stories260K's first head over "Once upon a time" and checks the PNG
// against the layout the same options give: every cell in its colour, every label inked.
func TestRenderHeadView(t *testing.T) {
	model := shareddata.Model(t, "stories260K.gguf")
	out := filepath.Join(t.TempDir(), "head.png")
	const prompt = "Once upon a time"
	if msg, code := cli(t, "render", "--model", model, "--prompt", prompt, "--view", "head", "--layer", "1", "--head", "2", "-o", out); code != 0 {
		t.Fatalf("render: exit %d: %s", code, msg)
	}
	img := decodePNG(t, out)

	// The same trace and options, to know where things are.
	l, err := infer.Open(model, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	s := l.NewSession(infer.Options{Capture: true})
	if _, _, err := s.Prefill(prompt, false); err != nil {
		t.Fatal(err)
	}
	rf := renderFlags{layer: 1, head: 2, pool: "max"}
	fonts, err := paint.NewFonts(12)
	if err != nil {
		t.Fatal(err)
	}
	m, err := paint.TraceMap(s.Trace, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	tokens := paint.TraceTokens(s.Trace)
	lay := paint.LayoutHeatmap(m, tokens, rf.heatmapOptions(s.Trace, fonts))
	if img.Bounds() != lay.Bounds {
		t.Fatalf("picture %v, layout %v", img.Bounds(), lay.Bounds)
	}
	n := len(tokens)
	if n < 5 || lay.Rows.Cells != n || lay.Rows.Pool != 1 {
		t.Fatalf("%d tokens laid out as %+v", n, lay.Rows)
	}
	for q := 0; q < n; q++ {
		for k := 0; k <= q; k++ {
			r := lay.CellRect(q, k)
			p := r.Min.Add(r.Max).Div(2)
			if got, want := img.RGBAAt(p.X, p.Y), lay.Colormap.At(float64(m.Rows[q][k])); got != want {
				t.Errorf("cell (%d, %d) weight %.3f is %v, want %v", q, k, m.Rows[q][k], got, want)
			}
		}
	}
	for i := 0; i < n; i++ {
		if r := lay.RowLabelRect(i); r.Empty() || ink(img, r) < 10 {
			t.Errorf("query label %d (%q) at %v is not drawn", i, lay.RowLabels[i], r)
		}
		if r := lay.ColLabelRect(i); r.Empty() || ink(img, r) < 10 {
			t.Errorf("key label %d (%q) at %v is not drawn", i, lay.ColLabels[i], r)
		}
	}
	if !strings.Contains(lay.RowLabels[1], "Once") {
		t.Errorf("label of token 1 is %q", lay.RowLabels[1])
	}
	strip := lay.Bar
	strip.Max.X = strip.Min.X + 10
	if strip.Empty() || ink(img, strip) < strip.Dx()*strip.Dy()*9/10 {
		t.Errorf("no colour bar at %v", strip)
	}
}

// TestRenderViews draws every view and format once.
func TestRenderViews(t *testing.T) {
	model := shareddata.Model(t, "stories260K.gguf")
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"model.png", []string{"--view", "model"}},
		{"lines.png", []string{"--view", "lines", "--heads", "0,3", "--layer", "2"}},
		{"lines1.png", []string{"--view", "lines", "--query", "3"}},
		{"kv.png", []string{"--view", "kvcache", "--generate", "4"}},
		{"head.svg", []string{"--view", "head", "--colormap", "magma"}},
		{"lines.svg", []string{"--view", "lines", "--heads", "all"}},
		{"wide.png", []string{"--view", "head", "--width", "300", "--pool", "mean"}},
		{"logprobs.png", []string{"--view", "head", "--values", "logprobs"}},
		{"logprobs.svg", []string{"--view", "head", "--values", "logprobs"}},
		{"rope.png", []string{"--view", "positions", "--pos", "2", "--dim", "1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, tc.name)
			args := append([]string{"render", "--model", model, "--prompt", "Once upon a time <b>&", "-o", out}, tc.args...)
			if msg, code := cli(t, args...); code != 0 {
				t.Fatalf("exit %d: %s", code, msg)
			}
			if strings.HasSuffix(tc.name, ".svg") {
				b, err := os.ReadFile(out)
				if err != nil {
					t.Fatal(err)
				}
				dec := xml.NewDecoder(bytes.NewReader(b))
				for {
					if _, err := dec.Token(); err == io.EOF {
						break
					} else if err != nil {
						t.Fatalf("SVG is not well-formed: %v", err)
					}
				}
				return
			}
			img := decodePNG(t, out)
			if got := ink(img, img.Bounds()); got < img.Bounds().Dx()*img.Bounds().Dy()/50 {
				t.Errorf("picture %v is nearly blank (%d pixels drawn)", img.Bounds(), got)
			}
			if tc.name == "wide.png" && img.Bounds().Dx() > 300 {
				t.Errorf("--width 300 drew %d pixels wide", img.Bounds().Dx())
			}
		})
	}
}

func TestRenderErrors(t *testing.T) {
	model := shareddata.Model(t, "stories260K.gguf")
	out := filepath.Join(t.TempDir(), "x.png")
	base := []string{"render", "--model", model, "--prompt", "Once upon a time"}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--view", "heads", "-o", out}, `unknown --view "heads"`},
		{[]string{"--layer", "5", "-o", out}, "--layer 5 out of range: the model has 5 layers (0..4)"},
		{[]string{"--head", "8", "-o", out}, "--head 8 out of range: the model has 8 heads per layer (0..7)"},
		{[]string{"--layer", "-1", "-o", out}, "must not be negative"},
		{[]string{"--view", "lines", "--heads", "1,x", "-o", out}, `"x" is not a head number`},
		{[]string{"--view", "lines", "--heads", "1,9", "-o", out}, "head 9 out of range"},
		{[]string{"--view", "lines", "--query", "99", "-o", out}, "--query 99 out of range"},
		{[]string{"--view", "kvcache", "-o", strings.TrimSuffix(out, ".png") + ".svg"}, "use .png for the kvcache view"},
		{[]string{"-o", strings.TrimSuffix(out, ".png") + ".jpg"}, "must end in .png or .svg"},
		{[]string{"--width", "10", "-o", out}, "--width 10"},
		{[]string{"--colormap", "jet", "-o", out}, `unknown colormap "jet"`},
		{[]string{"--pool", "median", "-o", out}, `--pool "median"`},
		{[]string{"--font", "/nonexistent.ttf", "-o", out}, "--font"},
		{[]string{"--values", "scores", "-o", out}, `--values "scores"`},
		{[]string{"--view", "lines", "--values", "logprobs", "-o", out}, "--values is for the head view"},
		{[]string{"--view", "positions", "--pos", "-1", "-o", out}, "must not be negative"},
	} {
		msg, code := cli(t, append(base, tc.args...)...)
		if code == 0 || !strings.Contains(msg, tc.want) {
			t.Errorf("render %s: exit %d, %q; want an error containing %q", strings.Join(tc.args, " "), code, msg, tc.want)
		}
	}
	if msg, code := cli(t, base...); code != 2 || !strings.Contains(msg, "-o is required") {
		t.Errorf("render without -o: exit %d: %s", code, msg)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a failed render left a file")
	}
}
