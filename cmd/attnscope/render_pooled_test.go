package main

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/attnscope/attnscope/engine/infer"
	"github.com/attnscope/attnscope/engine/trace"
	"github.com/attnscope/attnscope/viz/paint"
)

// longPromptModel writes a small synthetic model whose 36 heads make auto capture pool a prompt
// of about a thousand tokens, and returns it with such a prompt (one token per byte, plus BOS).
func longPromptModel(t *testing.T) (model, prompt string) {
	t.Helper()
	model = filepath.Join(t.TempDir(), "long.gguf")
	if msg, code := cli(t, "synth", "--dim", "48", "--layers", "6", "--heads", "6", "--ffn", "64", "--vocab", "300",
		"--ctx", "2048", "--seed", "3", "-o", model); code != 0 {
		t.Fatalf("synth: exit %d: %s", code, msg)
	}
	var b strings.Builder
	for b.Len() < 1010 {
		b.WriteString("the cat sat on the mat and looked at the dog. ")
	}
	return model, b.String()
}

// TestRenderLongPrompt renders a prompt past the exact-capture bound, with one synthetic model.
func TestRenderLongPrompt(t *testing.T) {
	model, prompt := longPromptModel(t)
	t.Run("head", func(t *testing.T) { renderLongHead(t, model, prompt) })
	t.Run("views", func(t *testing.T) { renderLongViews(t, model, prompt) })
}

// renderLongHead renders the head view: the picture shows the pooled map (each cell in the colour
// of its mean below the diagonal, masked above), labels cells by token ranges, and the pooled
// note is printed.
func renderLongHead(t *testing.T, model, prompt string) {
	out := filepath.Join(t.TempDir(), "head.png")
	msg, code := cli(t, "render", "--model", model, "--backend", "cpu", "--prompt", prompt, "--layer", "2", "--head", "3", "--pool", "mean", "-o", out)
	if code != 0 {
		t.Fatalf("render: exit %d: %s", code, msg)
	}
	if !strings.Contains(msg, "note: the head view shows a pooled trace: ") || !strings.Contains(msg, "(mean per cell)") {
		t.Errorf("no pooled note in %q", msg)
	}
	img := decodePNG(t, out)

	// The same trace and options, to know where the cells are.
	l, err := infer.Open(model, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	s := l.NewSession(infer.Options{Capture: true, Mode: infer.CaptureAuto})
	if _, _, err := s.Prefill(prompt, false); err != nil {
		t.Fatal(err)
	}
	tr := s.Trace
	if n := len(tr.Tokens); n <= 1000 || tr.Capture != trace.CapturePooled {
		t.Fatalf("%d tokens captured %s, want a pooled trace of over 1000", n, tr.Capture)
	}
	fonts, err := paint.NewFonts(12)
	if err != nil {
		t.Fatal(err)
	}
	rf := renderFlags{layer: 2, head: 3, pool: "mean"}
	o := rf.heatmapOptions(tr, fonts)
	m, labels, g := pooledHead(tr, rf, o)
	o.Title += " · " + g.note(rf.pool)
	lay := paint.LayoutHeatmap(m, labels, o)
	if img.Bounds() != lay.Bounds {
		t.Fatalf("picture %v, layout %v", img.Bounds(), lay.Bounds)
	}
	if g.cell < 2 || lay.Rows.Pool != 1 || lay.Rows.Cells != g.cells || g.cells*g.cell < len(tr.Tokens) {
		t.Fatalf("grid %+v laid out as %+v", g, lay.Rows)
	}
	if !strings.Contains(msg, g.note("mean")) {
		t.Errorf("the note does not give the grid %q: %q", g.note("mean"), msg)
	}
	// Every cell on and below the diagonal is painted in the colour of its mean; those above are masked.
	for r := 0; r < g.cells; r++ {
		for c := 0; c < g.cells; c++ {
			rect := lay.CellRect(r, c)
			got := img.RGBAAt(rect.Min.X, rect.Min.Y)
			if c > r {
				if got != paint.MaskFill {
					t.Fatalf("cell (%d, %d) above the diagonal is %v, want the mask", r, c, got)
				}
				continue
			}
			if want := lay.Colormap.At(float64(m.Rows[r][c])); got != want || got == paint.Background {
				t.Fatalf("cell (%d, %d) mean %.4g is %v, want %v", r, c, m.Rows[r][c], got, want)
			}
		}
	}
	if ink(img, lay.Grid) < lay.Grid.Dx()*lay.Grid.Dy()*9/10 {
		t.Errorf("the map area %v is mostly background", lay.Grid)
	}
	// Labels name token ranges.
	if want := "0–" + strconv.Itoa(g.cell-1); lay.RowLabels[0] != want || lay.ColLabels[1] != strconv.Itoa(g.cell)+"–"+strconv.Itoa(2*g.cell-1) {
		t.Errorf("labels %q, %q; want %q and the next range", lay.RowLabels[0], lay.ColLabels[1], want)
	}
	if r := lay.RowLabelRect(0); r.Empty() || ink(img, r) < 10 {
		t.Errorf("first query label is not drawn")
	}
	if !strings.Contains(lay.Header, "pooled trace") {
		t.Errorf("title %q does not say the map is pooled", lay.Header)
	}
}

// renderLongViews draws the model view of a pooled trace, refuses views that need whole rows
// unless --rows kept them, and draws the lines of a kept row.
func renderLongViews(t *testing.T, model, prompt string) {
	dir := t.TempDir()
	base := []string{"render", "--model", model, "--backend", "cpu", "--prompt", prompt}

	out := filepath.Join(dir, "model.png")
	msg, code := cli(t, append(base, "--view", "model", "-o", out)...)
	if code != 0 || !strings.Contains(msg, "note: the model view shows a pooled trace") || !strings.Contains(msg, "(max per cell)") {
		t.Fatalf("model view: exit %d: %s", code, msg)
	}
	img := decodePNG(t, out)
	lay := paint.LayoutModel(6, 6, paint.ModelOptions{})
	for _, lh := range [][2]int{{0, 0}, {5, 5}} {
		r := lay.ThumbRect(lh[0], lh[1])
		lower := r
		lower.Min.Y += r.Dy() / 2
		lower.Max.X -= r.Dx() / 2
		if got := ink(img, lower); got < lower.Dx()*lower.Dy()*9/10 {
			t.Errorf("layer %d head %d: %d of %d pixels below the diagonal drawn", lh[0], lh[1], got, lower.Dx()*lower.Dy())
		}
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--view", "lines"}, "pass --rows Q --query Q"},
		{[]string{"--view", "lines", "--rows", "5", "--query", "7"}, "add 7 to --rows"},
		{[]string{"--values", "logprobs", "--pool", "mean"}, "use --pool max"},
		{[]string{"--capture", "none"}, "--capture none records no attention"},
		{[]string{"--capture", "bogus"}, `--capture "bogus"`},
	} {
		msg, code := cli(t, append(base, append(tc.args, "-o", filepath.Join(dir, "x.png"))...)...)
		if code == 0 || !strings.Contains(msg, tc.want) {
			t.Errorf("render %s: exit %d, %q; want an error containing %q", strings.Join(tc.args, " "), code, msg, tc.want)
		}
	}

	out = filepath.Join(dir, "lines.png")
	if msg, code := cli(t, append(base, "--view", "lines", "--rows", "5,700", "--query", "700", "--width", "400", "-o", out)...); code != 0 {
		t.Fatalf("lines of a kept row: exit %d: %s", code, msg)
	}
	if img := decodePNG(t, out); ink(img, img.Bounds()) == 0 {
		t.Error("the lines picture is blank")
	}
}
