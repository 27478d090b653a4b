package webapp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/attnscope/attnscope/engine/gguf"
	"github.com/attnscope/attnscope/engine/infer"
	"github.com/attnscope/attnscope/engine/quant"
	"github.com/attnscope/attnscope/engine/trace"
	"github.com/attnscope/attnscope/internal/shareddata"
	"github.com/attnscope/attnscope/viz/paint"
)

// sharedModel returns the bytes of a model of the shared test data (skipping without it).
func sharedModel(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(shareddata.Path(t, "models/"+name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// load loads a model from its bytes or fails the test.
func load(t testing.TB, data []byte) *infer.Loaded {
	t.Helper()
	l, _, err := Load(data)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func runModel(t *testing.T, path, text string, maxTokens int) (*Viewer, *trace.Trace, *PosTable) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	l, _, err := Load(data)
	if err != nil {
		t.Fatal(err)
	}
	pt, err := LearnedPositions(l)
	if err != nil {
		t.Fatal(err)
	}
	s, res, err := Run(context.Background(), l, text, RunOptions{MaxTokens: maxTokens}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	v := NewViewer(nil)
	v.Top, v.Positions = res.Top, pt
	return v, s.Trace, pt
}

func show(t *testing.T, v *Viewer, tr *trace.Trace, st ViewState) *image.RGBA {
	t.Helper()
	if err := st.Check(tr); err != nil {
		t.Fatalf("%+v: %v", st, err)
	}
	v.State = st
	img, err := v.Render(tr)
	if err != nil {
		t.Fatalf("%+v: %v", st, err)
	}
	if dir := os.Getenv("ATTNSCOPE_E2E_SHOTS"); dir != "" {
		shotN++
		f, _ := os.Create(filepath.Join(dir, fmt.Sprintf("test-%02d-%s%s.png", shotN, st.View, st.Values)))
		paint.WritePNG(f, img)
		f.Close()
	}
	return img
}

var shotN int

func hasColor(img *image.RGBA, c color.RGBA) bool {
	for i := 0; i+3 < len(img.Pix); i += 4 {
		if img.Pix[i] == c.R && img.Pix[i+1] == c.G && img.Pix[i+2] == c.B {
			return true
		}
	}
	return false
}

func TestHeadViewValuesAndZoom(t *testing.T) {
	v, tr, _ := runModel(t, shareddata.Path(t, "models/stories260K.gguf"), "Once upon a time there was a little girl", 8)
	n := len(tr.Tokens)
	base := ViewState{View: "head", Layer: 1, Head: 2, Token: -1, FocusQuery: -1, FocusKey: -1}
	probs := show(t, v, tr, base)
	var hp Hit
	for x := v.heat.Grid.Min.X; x < v.heat.Grid.Max.X && hp.Kind == ""; x += v.heat.Cols.Cell {
		if h := v.At(x+1, v.heat.Grid.Max.Y-2); h.Kind == "cell" && h.P > 0 && h.P < 0.05 {
			hp = h
		}
	}
	if hp.Kind != "cell" {
		t.Fatal("no cell with a small weight in the last row")
	}
	lp := base
	lp.Values = "logprobs"
	logs := show(t, v, tr, lp)
	hl := v.At(v.heat.CellRect(v.heat.Rows.CellOf(hp.Query), v.heat.Cols.CellOf(hp.Key)).Min.Add(image.Pt(1, 1)).X,
		v.heat.CellRect(v.heat.Rows.CellOf(hp.Query), 0).Min.Y+1)
	if hl.Query != hp.Query || hl.Key != hp.Key || hl.P != hp.P || math.Abs(float64(hl.LogP)-math.Log(float64(hp.P))) > 1e-6 {
		t.Errorf("log-probability hit %+v for %+v", hl, hp)
	}
	// A small probability is near the bottom of the probability scale but well up the log scale.
	at := func(img *image.RGBA) color.RGBA {
		r := v.heat.CellRect(v.heat.Rows.CellOf(hp.Query), v.heat.Cols.CellOf(hp.Key))
		return img.RGBAAt(r.Min.X+1, r.Min.Y+1)
	}
	v.State = base
	v.Render(tr)
	pc := at(probs)
	v.State = lp
	v.Render(tr)
	lc := at(logs)
	if paint.Lightness(lc) <= paint.Lightness(pc) {
		t.Errorf("p = %g: log view colour %v is not lighter than the probability view's %v", hp.P, lc, pc)
	}
	if (&ViewState{View: "head", Values: "scores"}).Check(tr) == nil {
		t.Errorf("values \"scores\" accepted")
	}

	// Zoomed ×4 on the last query: the window's first cell is a later token.
	z := base
	z.Zoom, z.FocusQuery, z.FocusKey = 4, n-1, 0
	show(t, v, tr, z)
	h := v.At(v.heat.Grid.Min.X+1, v.heat.Grid.Min.Y+1)
	if w := v.State.Window; w[0] != h.Query || w[1] != n || w[2] != 0 || w[3] != n/4 {
		t.Errorf("zoomed window %v (n %d, first cell %d)", w, n, h.Query)
	}
	if h.Kind != "cell" || h.Key != 0 || h.Query != n-(n+3)/4 && h.Query != n-n/4 {
		t.Errorf("zoomed hit %+v (n %d)", h, n)
	}
	if got := v.heat.Rows.N; got > n/4+1 {
		t.Errorf("zoomed view shows %d queries of %d", got, n)
	}
	if (&ViewState{View: "head", Zoom: 1e6}).Check(tr) == nil || (&ViewState{View: "head", FocusQuery: n}).Check(tr) == nil {
		t.Errorf("bad zoom or focus accepted")
	}

	// Several heads in the lines view, each in its own colour.
	li := show(t, v, tr, ViewState{View: "lines", Layer: 0, Heads: []int{0, 1, 2, 3}, Token: -1})
	for h := 0; h < 4; h++ {
		if !hasColor(li, paint.HeadColor(h)) {
			t.Errorf("lines view: no pixel of head %d's colour", h)
		}
	}
	if (&ViewState{View: "lines", Heads: []int{99}}).Check(tr) == nil {
		t.Errorf("head 99 accepted")
	}

	// RoPE: the dimension slider picks one of the rope_dims/2 frequency pairs.
	pos := show(t, v, tr, ViewState{View: "positions", Pos: 3, Dim: 1000})
	if v.State.NDim != tr.Positional.RopeDims/2 || v.State.Dim != v.State.NDim-1 || v.State.NPos != n || v.State.Pos != 3 {
		t.Errorf("rope sliders %+v (rope dims %d)", v.State, tr.Positional.RopeDims)
	}
	if pos.Bounds().Dy() < 200 {
		t.Errorf("rope picture %v", pos.Bounds())
	}
}

func TestLearnedPositions(t *testing.T) {
	v, tr, pt := runModel(t, filepath.Join("..", "..", "models", "reverse.gguf"), "abc", 0)
	if tr.Positional.Scheme != "learned" || pt == nil {
		t.Fatalf("scheme %q, table %v", tr.Positional.Scheme, pt != nil)
	}
	if pt.NPos != tr.Positional.MaxPositions || pt.NEmbd != tr.Model.NEmbd || len(pt.W) != pt.NPos*pt.NEmbd {
		t.Errorf("table %d × %d, model context %d, width %d", pt.NPos, pt.NEmbd, tr.Positional.MaxPositions, tr.Model.NEmbd)
	}
	sim := pt.Similarity(pt.NPos)
	for i := range sim {
		if math.Abs(float64(sim[i][i])-1) > 1e-5 {
			t.Errorf("similarity of position %d with itself %g", i, sim[i][i])
		}
		for j := range sim {
			if sim[i][j] != sim[j][i] || sim[i][j] < -1.0001 || sim[i][j] > 1.0001 {
				t.Fatalf("similarity [%d][%d] = %g, [%d][%d] = %g", i, j, sim[i][j], j, i, sim[j][i])
			}
		}
	}
	img := show(t, v, tr, ViewState{View: "positions", Pos: 1 << 20, Dim: 5})
	if v.State.NPos != pt.NPos || v.State.NDim != pt.NEmbd || v.State.Pos != pt.NPos-1 || v.State.Dim != 5 {
		t.Errorf("learned sliders %+v", v.State)
	}
	if img.Bounds().Dy() < 300 || !hasColor(img, color.RGBA{255, 140, 0, 255}) || !hasColor(img, color.RGBA{255, 64, 64, 255}) {
		t.Errorf("learned picture %v lacks the outlined position or dimension", img.Bounds())
	}
	// Without the table (a trace from elsewhere) the view says how to get it.
	v.Positions = nil
	show(t, v, tr, ViewState{View: "positions"})
}

func TestViewStateEqual(t *testing.T) {
	a := ViewState{View: "lines", Heads: []int{1, 2}}
	b := a
	b.Heads = []int{1, 2}
	if !a.Equal(b) {
		t.Errorf("equal states differ")
	}
	b.Heads = []int{1}
	c := a
	c.Zoom = 2
	if a.Equal(b) || a.Equal(c) {
		t.Errorf("different states are equal")
	}
}

// A run in budgeted slices (adaptive prompt chunks) gives the same tokens and attention as one in
// fixed chunks.
func TestRunSliced(t *testing.T) {
	l := load(t, sharedModel(t, "stories260K.gguf"))
	text := "Once upon a time there was a little girl named Lily. She loved to play outside in the park with her friends."
	s1, r1, err := Run(context.Background(), l, text, RunOptions{MaxTokens: 4}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	yields := 0
	s2, r2, err := Run(context.Background(), l, text, RunOptions{MaxTokens: 4, SliceBudget: 1}, func(*infer.Session) error { yields++; return nil }, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r1.Generated, r2.Generated) || len(s1.Trace.Tokens) != len(s2.Trace.Tokens) {
		t.Fatalf("sliced run %v, whole %v", r2.Generated, r1.Generated)
	}
	// A budget of 1 ns means one prompt token (the time per token is not known yet), then
	// MinSliceTokens at a time, then one yield per generated token (three or four of them).
	n := len(r2.PromptTokens)
	want := 1 + (n-1+MinSliceTokens-1)/MinSliceTokens
	if yields < want+3 || yields > want+4 {
		t.Errorf("%d yields for %d prompt tokens and 4 generated, want %d or %d", yields, n, want+3, want+4)
	}
	for l := range s1.Trace.Attn {
		for h := range s1.Trace.Attn[l] {
			for q, row := range s1.Trace.Attn[l][h] {
				for k, p := range row {
					if d := math.Abs(float64(p - s2.Trace.Attn[l][h][q][k])); d > 1e-6 {
						t.Fatalf("L%d H%d [%d][%d]: %g vs %g", l, h, q, k, p, s2.Trace.Attn[l][h][q][k])
					}
				}
			}
		}
	}
}

// unsupportedTypeModel is stories260K with one weight stored as IQ4_NL, a ggml type the engine
// does not compute with.
func unsupportedTypeModel(t *testing.T) []byte {
	t.Helper()
	f, err := gguf.Open(shareddata.Path(t, "models/stories260K.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := gguf.FromFile(f)
	if err != nil {
		t.Fatal(err)
	}
	ti, ok := f.Tensor("blk.0.attn_q.weight")
	if !ok {
		t.Fatal("no blk.0.attn_q.weight")
	}
	n := ti.Elements() / uint64(quant.IQ4_NL.BlockSize()) * uint64(quant.IQ4_NL.BlockBytes())
	if err := b.SetTensor(ti.Name, quant.IQ4_NL, ti.Dims, make([]byte, n)); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := b.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestLoadUnsupportedType(t *testing.T) {
	_, _, err := Load(unsupportedTypeModel(t))
	t.Logf("%v", err)
	if err == nil || !strings.Contains(err.Error(), "IQ4_NL") {
		t.Errorf("a model with an IQ4_NL tensor: %v", err)
	}
}

// A pooled trace (long prompts) draws every view from its pooled maps: cells of several tokens,
// each the largest weight of its block of the exact map.
func TestPooledTraceViews(t *testing.T) {
	l := load(t, sharedModel(t, "stories260K.gguf"))
	const text = "Once upon a time there was a little girl named Lily. She loved to play"
	ex, _, err := Run(context.Background(), l, text, RunOptions{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	po, _, err := Run(context.Background(), l, text, RunOptions{Capture: trace.CapturePooled, PoolCells: 4}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	n := len(po.Trace.Tokens)
	cell := paint.TraceCell(po.Trace)
	if po.Trace.Capture != trace.CapturePooled || cell <= 1 || (n+cell-1)/cell > 4 {
		t.Fatalf("capture %q, %d tokens in cells of %d", po.Trace.Capture, n, cell)
	}
	v := NewViewer(nil)
	for _, view := range Views {
		show(t, v, po.Trace, ViewState{View: view, Layer: 1, Head: 2, Token: n - 1, FocusQuery: -1, FocusKey: -1})
	}
	show(t, v, po.Trace, ViewState{View: "head", Layer: 1, Head: 2, Token: -1, FocusQuery: -1, FocusKey: -1})
	if w := v.State.Window; w != [4]int{0, n, 0, n} {
		t.Errorf("pooled window %v", w)
	}
	exact := ex.Trace.Attn[1][2]
	lay := v.HeatmapLayout()
	for _, c := range [][2]int{{0, 0}, {1, 0}, {2, 1}} {
		r := lay.CellRect(c[0], c[1])
		h := v.At(r.Min.X+1, r.Min.Y+1)
		var want float32
		for q := c[0] * cell; q < min(n, (c[0]+1)*cell); q++ {
			for k := c[1] * cell; k < min(len(exact[q]), (c[1]+1)*cell); k++ {
				want = max(want, exact[q][k])
			}
		}
		if h.Kind != "cell" || h.Query != c[0]*cell || h.Key != c[1]*cell || math.Abs(float64(h.P-want)) > 1e-6 {
			t.Errorf("cell %v: hit %+v, want query %d key %d p %g", c, h, c[0]*cell, c[1]*cell, want)
		}
	}
	b, err := TraceBytes(po.Trace)
	if err != nil {
		t.Fatal(err)
	}
	var tj struct {
		Capture string
		Layers  []struct {
			Heads  [][][]float64
			Pooled []struct{ Cell, Cells, N int }
		}
	}
	if err := json.Unmarshal(b, &tj); err != nil {
		t.Fatal(err)
	}
	if tj.Capture != "pooled" || len(tj.Layers) != 5 || len(tj.Layers[1].Pooled) != 8 || tj.Layers[1].Pooled[2].Cell != cell || tj.Layers[1].Pooled[2].N != n {
		t.Errorf("pooled trace JSON: capture %q, %d layers, %+v", tj.Capture, len(tj.Layers), tj.Layers[1].Pooled)
	}
}
