package paint

import (
	"image"
	"image/color"
	"testing"

	"github.com/attnscope/attnscope/engine/trace"
)

func TestModelView(t *testing.T) {
	const nLayer, nHead, n = 3, 4, 9
	maps := make([][]Map, nLayer)
	for l := range maps {
		for h := 0; h < nHead; h++ {
			target := func(q int) int { return q * (h + l) % (q + 1) }
			maps[l] = append(maps[l], oneHot(n, target))
		}
	}
	img, lay := ModelView(maps, ModelOptions{Width: 600, Title: "model"})
	save(t, "model.png", img)
	if !lay.Bounds.Eq(img.Bounds()) || img.Bounds().Dx() > 600 {
		t.Fatalf("picture %v, layout %v", img.Bounds(), lay.Bounds)
	}
	for l := 0; l < nLayer; l++ {
		for h := 0; h < nHead; h++ {
			r := lay.ThumbRect(l, h)
			if !r.In(img.Bounds()) {
				t.Fatalf("thumbnail %d,%d at %v leaves the picture", l, h, r)
			}
			if gl, gh, ok := lay.HeadAt(centre(r)); !ok || gl != l || gh != h {
				t.Errorf("HeadAt(centre of %d,%d) = %d,%d,%v", l, h, gl, gh, ok)
			}
			// The first query sees only the first key, with weight 1: the top-left cell (past the
			// padding that centres the cells) is bright.
			d := 0
			for d < r.Dx() && img.RGBAAt(r.Min.X+d, r.Min.Y+d) == MaskFill {
				d++
			}
			if got := img.RGBAAt(r.Min.X+d, r.Min.Y+d); got != Viridis.At(1) || d > r.Dx()/n {
				t.Errorf("thumbnail %d,%d top-left = %v after %d pixels of padding, want %v", l, h, got, d, Viridis.At(1))
			}
			if got := img.RGBAAt(r.Max.X-2, r.Min.Y+1); got != MaskFill {
				t.Errorf("thumbnail %d,%d top-right (masked) = %v, want %v", l, h, got, MaskFill)
			}
		}
	}
	if _, _, ok := lay.HeadAt(image.Pt(2, 2)); ok {
		t.Error("HeadAt in the margin reports a head")
	}
	// Captions: ink left of the first column and above the first row.
	first := lay.ThumbRect(0, 0)
	if inked(img, image.Rect(0, first.Min.Y, first.Min.X, first.Max.Y)) == 0 {
		t.Error("no layer caption")
	}
	if inked(img, image.Rect(first.Min.X, first.Min.Y-14, first.Max.X, first.Min.Y)) == 0 {
		t.Error("no head caption")
	}
}

func TestLinesView(t *testing.T) {
	// Query 0 → key 0, query 1 → key 0, query 2 → key 2.
	m := Map{Rows: [][]float32{{1}, {1, 0}, {0, 0, 1}}, Keys: 3}
	img, l := Lines([]HeadMap{{Layer: 0, Head: 2, Map: m}}, []string{"a", "b", "c"}, LinesOptions{})
	save(t, "lines.png", img)
	midX := (l.LeftX + l.RightX) / 2
	want := HeadColor(2)
	if got := img.RGBAAt(midX, int(l.RowY(2))); got != want {
		t.Errorf("middle of the full-weight line 2→2 = %v, want %v", got, want)
	}
	if got := img.RGBAAt(midX, int(l.RowY(0))); got != want {
		t.Errorf("middle of the line 0→0 = %v, want %v", got, want)
	}
	// 2→0 has weight 0: nothing crosses the middle at row 1's height.
	if got := img.RGBAAt(midX, int(l.RowY(1))); got != Background {
		t.Errorf("a zero-weight line was drawn: %v at the middle of row 1", got)
	}
	// Labels on both sides.
	for _, x := range [][2]int{{0, l.LeftX}, {l.RightX, l.Bounds.Max.X}} {
		if inked(img, image.Rect(x[0], l.Top, x[1], l.Top+l.Rows.Size())) == 0 {
			t.Errorf("no token labels in columns %d..%d", x[0], x[1])
		}
	}
	// Half weight: half opacity over white.
	half := Map{Rows: [][]float32{{1}, {0.5, 0.5}}}
	img, l = Lines([]HeadMap{{Head: 0, Map: half}}, []string{"a", "b"}, LinesOptions{Queries: []int{1}})
	c := img.RGBAAt((l.LeftX+l.RightX)/2, int(l.RowY(1)))
	hc := HeadColor(0)
	expect := color.RGBA{uint8((int(hc.R) + 255) / 2), uint8((int(hc.G) + 255) / 2), uint8((int(hc.B) + 255) / 2), 255}
	if !near(c, expect, 3) {
		t.Errorf("half-weight line = %v, want about %v", c, expect)
	}
	if got := img.RGBAAt((l.LeftX+l.RightX)/2, int(l.RowY(0))); got != Background {
		t.Errorf("query 0's line drawn although only query 1 was asked for: %v", got)
	}
}

func TestKVChart(t *testing.T) {
	var steps []trace.Step
	for n := 5; n <= 20; n++ {
		st := trace.Step{Pos: n - 1, N: 1, KV: trace.KVStep{Tokens: n}}
		if n == 5 {
			st.Pos, st.N = 0, 5
		}
		for l := 0; l < 3; l++ {
			st.KV.BytesPerLayer = append(st.KV.BytesPerLayer, int64(n*256))
			st.KV.CapacityPerLayer = append(st.KV.CapacityPerLayer, 32*256)
		}
		steps = append(steps, st)
	}
	img := KVChart(steps, KVOptions{Title: "kv"})
	save(t, "kvcache.png", img)
	if img.Bounds().Dx() != 720 || img.Bounds().Dy() != 420 {
		t.Fatalf("default size %v", img.Bounds())
	}
	// Every layer's band colour appears.
	count := map[color.RGBA]int{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			count[img.RGBAAt(x, y)]++
		}
	}
	for l := 0; l < 3; l++ {
		if c := layerColor(Viridis, l, 3); count[c] < 100 {
			t.Errorf("layer %d's colour %v covers %d pixels", l, c, count[c])
		}
	}
	// No steps, or a tiny picture, must not panic.
	KVChart(nil, KVOptions{})
	KVChart(steps, KVOptions{Width: 50, Height: 40})
}

func TestTraceMap(t *testing.T) {
	tr := trace.New(trace.Model{NLayer: 2, NHead: 3, Causal: true}, trace.Positional{})
	tr.Attn[1][2] = [][]float32{{1}, {0.5, 0.5}}
	tr.Tokens = []trace.Token{{Text: "a"}, {Text: " b"}}
	m, err := TraceMap(tr, 1, 2)
	if err != nil || len(m.Rows) != 2 || m.NKeys() != 2 {
		t.Fatalf("TraceMap = %+v, %v", m, err)
	}
	if _, err := TraceMap(tr, 2, 0); err == nil {
		t.Error("layer 2 of 2 accepted")
	}
	if _, err := TraceMap(tr, 0, 3); err == nil {
		t.Error("head 3 of 3 accepted")
	}
	if got := TraceTokens(tr); len(got) != 2 || got[1] != " b" {
		t.Errorf("TraceTokens = %q", got)
	}
	if maps := TraceMaps(tr); len(maps) != 2 || len(maps[1]) != 3 {
		t.Errorf("TraceMaps shape %d×%d", len(maps), len(maps[1]))
	}
}
