package main

import (
	"image/color"
	"path/filepath"
	"testing"

	"github.com/attnscope/attnscope/engine/infer"
	"github.com/attnscope/attnscope/internal/shareddata"
	"github.com/attnscope/attnscope/internal/webapp"
	"github.com/attnscope/attnscope/viz/paint"
)

// TestRenderLogProbs checks each cell of the log-probability head view against ln p on the view's
// colour scale.
func TestRenderLogProbs(t *testing.T) {
	model := shareddata.Model(t, "stories260K.gguf")
	out := filepath.Join(t.TempDir(), "lp.png")
	const prompt = "Once upon a time"
	if msg, code := cli(t, "render", "--model", model, "--prompt", prompt, "--layer", "1", "--head", "2", "--values", "logprobs", "-o", out); code != 0 {
		t.Fatalf("render: exit %d: %s", code, msg)
	}
	img := decodePNG(t, out)
	l, err := infer.Open(model, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	s := l.NewSession(infer.Options{Capture: true})
	if _, _, err := s.Prefill(prompt, false); err != nil {
		t.Fatal(err)
	}
	fonts, err := paint.NewFonts(12)
	if err != nil {
		t.Fatal(err)
	}
	rf := renderFlags{layer: 1, head: 2, pool: "max", values: "logprobs"}
	m, _ := paint.TraceMap(s.Trace, 1, 2)
	lp, lo, hi := webapp.LogProbMap(m)
	o := rf.heatmapOptions(s.Trace, fonts)
	o.Min, o.Max = lo, hi
	lay := paint.LayoutHeatmap(lp, paint.TraceTokens(s.Trace), o)
	if img.Bounds() != lay.Bounds || lo >= 0 || hi != 0 {
		t.Fatalf("picture %v, layout %v, scale [%g, %g]", img.Bounds(), lay.Bounds, lo, hi)
	}
	for q := range m.Rows {
		for k := range m.Rows[q] {
			r := lay.CellRect(q, k)
			p := r.Min.Add(r.Max).Div(2)
			want := lay.Colormap.At((float64(lp.Rows[q][k]) - float64(lo)) / float64(hi-lo))
			if got := img.RGBAAt(p.X, p.Y); got != want {
				t.Errorf("cell (%d, %d) p %.3g: %v, want %v", q, k, m.Rows[q][k], got, want)
			}
		}
	}
}

// TestRenderLearnedPositions draws the shipped gpt2-style reverse model's position table.
func TestRenderLearnedPositions(t *testing.T) {
	out := filepath.Join(t.TempDir(), "pos.png")
	if msg, code := cli(t, "render", "--model", filepath.Join("..", "..", "models", "reverse.gguf"), "--prompt", "abc", "--view", "positions", "--pos", "3", "--dim", "5", "-o", out); code != 0 {
		t.Fatalf("render: exit %d: %s", code, msg)
	}
	img := decodePNG(t, out)
	orange, red := 0, 0
	for i := 0; i+3 < len(img.Pix); i += 4 {
		c := color.RGBA{img.Pix[i], img.Pix[i+1], img.Pix[i+2], 255}
		switch c {
		case color.RGBA{255, 140, 0, 255}:
			orange++
		case color.RGBA{255, 64, 64, 255}:
			red++
		}
	}
	if img.Bounds().Dy() < 400 || orange < 50 || red < 100 {
		t.Errorf("positions picture %v: %d pixels of the dimension's outline, %d of the position's", img.Bounds(), orange, red)
	}
}
