package paint

import (
	"fmt"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// save writes img under $ATTNSCOPE_PAINT_DIR when it is set, to look at the pictures tests draw.
func save(t *testing.T, name string, img image.Image) {
	t.Helper()
	dir := os.Getenv("ATTNSCOPE_PAINT_DIR")
	if dir == "" {
		return
	}
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := WritePNG(f, img); err != nil {
		t.Fatal(err)
	}
}

// oneHot is a causal map in which query q attends only to key target(q).
func oneHot(n int, target func(q int) int) Map {
	m := Map{Keys: n}
	for q := 0; q < n; q++ {
		row := make([]float32, q+1)
		row[target(q)] = 1
		m.Rows = append(m.Rows, row)
	}
	return m
}

func words(n int) []string {
	base := []string{"<s>", " Once", " upon", " a", " time", " there", " was", " a", " little", " girl"}
	out := make([]string, n)
	for i := range out {
		out[i] = base[i%len(base)]
	}
	return out
}

func centre(r image.Rectangle) image.Point { return r.Min.Add(r.Max).Div(2) }

func TestHeatmapOneHotColours(t *testing.T) {
	const n = 10
	m := oneHot(n, func(q int) int { return q / 2 })
	img, l := Heatmap(m, words(n), HeatmapOptions{Width: 600, Title: "one-hot"})
	save(t, "onehot.png", img)
	if l.Rows.Pool != 1 || l.Rows.Cells != n || l.Cols.Cells != n {
		t.Fatalf("layout %+v %+v: want one cell per token", l.Rows, l.Cols)
	}
	for q := 0; q < n; q++ {
		for k := 0; k < n; k++ {
			got := img.RGBAAt(centre(l.CellRect(q, k)).X, centre(l.CellRect(q, k)).Y)
			var want []color.RGBA
			switch {
			case k > q:
				want = []color.RGBA{MaskFill, MaskHatch}
			case k == q/2:
				want = []color.RGBA{Viridis.At(1)}
			default:
				want = []color.RGBA{Viridis.At(0)}
			}
			ok := false
			for _, w := range want {
				ok = ok || got == w
			}
			if !ok {
				t.Errorf("cell (%d, %d) = %v, want one of %v", q, k, got, want)
			}
		}
	}
	if !l.Bounds.Eq(img.Bounds()) || img.Bounds().Dx() > 600 {
		t.Errorf("picture %v, layout %v, asked for width 600", img.Bounds(), l.Bounds)
	}
	// CellAt inverts CellRect.
	for _, c := range [][2]int{{0, 0}, {3, 1}, {9, 9}} {
		r := l.CellRect(c[0], c[1])
		if q, k, ok := l.CellAt(centre(r)); !ok || q != c[0] || k != c[1] {
			t.Errorf("CellAt(centre of %v) = %d, %d, %v", c, q, k, ok)
		}
	}
	if _, _, ok := l.CellAt(image.Pt(0, 0)); ok {
		t.Error("CellAt outside the grid reports a cell")
	}
}

func TestHeatmapSignedUsesDiverging(t *testing.T) {
	m := Map{Rows: [][]float32{{-2, 0}, {0, 2}}, Signed: true}
	img, l := Heatmap(m, []string{"a", "b"}, HeatmapOptions{Width: 300})
	if l.Colormap != Diverging || l.Lo != -2 || l.Hi != 2 {
		t.Fatalf("signed map: colormap %s, scale [%g, %g]", l.Colormap.Name, l.Lo, l.Hi)
	}
	p := centre(l.CellRect(0, 0))
	if got := img.RGBAAt(p.X, p.Y); got != Diverging.At(0) {
		t.Errorf("most negative cell = %v, want %v", got, Diverging.At(0))
	}
	p = centre(l.CellRect(0, 1))
	if got := img.RGBAAt(p.X, p.Y); got != Diverging.At(0.5) {
		t.Errorf("zero cell = %v, want %v", got, Diverging.At(0.5))
	}
}

// Labels never overlap each other or the cells, whatever the number of tokens, and stay inside
// the picture.
func TestHeatmapLabelsDoNotOverlap(t *testing.T) {
	tokens := words(3000)
	tokens[3] = strings.Repeat("supercalifragilistic", 5) // cut with an ellipsis
	for _, n := range []int{1, 5, 12, 40, 90, 300, 3000} {
		for _, width := range []int{320, 800} {
			t.Run(fmt.Sprintf("n%d_w%d", n, width), func(t *testing.T) {
				l := LayoutHeatmap(oneHot(n, func(q int) int { return q }), tokens[:n], HeatmapOptions{Width: width})
				var rows, cols []image.Rectangle
				for i := range l.RowLabels {
					if r := l.RowLabelRect(i); !r.Empty() {
						rows = append(rows, r)
					}
				}
				for j := range l.ColLabels {
					if r := l.ColLabelRect(j); !r.Empty() {
						cols = append(cols, r)
					}
				}
				if len(rows) == 0 || len(cols) == 0 {
					t.Fatalf("no labels: %d rows, %d columns", len(rows), len(cols))
				}
				for _, set := range [][]image.Rectangle{rows, cols} {
					for i, r := range set {
						if !r.In(l.Bounds) {
							t.Errorf("label %v leaves the picture %v", r, l.Bounds)
						}
						if r.Overlaps(l.Grid) {
							t.Errorf("label %v covers the cells %v", r, l.Grid)
						}
						if i > 0 && r.Overlaps(set[i-1]) {
							t.Errorf("labels %v and %v overlap", set[i-1], r)
						}
					}
				}
				for _, s := range l.RowLabels {
					if l.fonts.Width(s) > 110 {
						t.Errorf("label %q is %d pixels wide, more than the 110 allowed", s, l.fonts.Width(s))
					}
				}
			})
		}
	}
}

func TestHeatmapPoolsLongInputs(t *testing.T) {
	const n = 2000
	diag := oneHot(n, func(q int) int { return q })
	img, l := Heatmap(diag, words(n), HeatmapOptions{Width: 600, Pool: PoolMax})
	save(t, "pooled.png", img)
	if l.Rows.Pool < 2 || l.Rows.Cells*l.Rows.Pool < n || l.Grid.Dx() > 600 {
		t.Fatalf("layout %+v in grid %v does not pool 2000 tokens into 600 pixels", l.Rows, l.Grid)
	}
	if img.Bounds().Dx() > 600 {
		t.Errorf("picture %d pixels wide, asked for 600", img.Bounds().Dx())
	}
	if !strings.Contains(l.Header, "per cell (max)") {
		t.Errorf("header %q does not say cells are pooled", l.Header)
	}
	// Max pooling keeps the diagonal at full weight; a mean shows 1/pool there.
	for _, i := range []int{0, l.Rows.Cells / 2, l.Rows.Cells - 1} {
		p := centre(l.CellRect(i, i))
		if got := img.RGBAAt(p.X, p.Y); got != Viridis.At(1) {
			t.Errorf("max-pooled diagonal cell %d = %v, want %v", i, got, Viridis.At(1))
		}
	}
	vals, _ := diag.Pooled(l.Rows, l.Cols, PoolMean)
	i := 3
	lo, hi := l.Rows.Tokens(i)
	visible := (hi - lo) * (hi - lo + 1) / 2 // the lower triangle of the block
	if got, want := vals[i*l.Cols.Cells+i], float32(hi-lo)/float32(visible); got != want {
		t.Errorf("mean-pooled diagonal cell = %v, want %v", got, want)
	}
}

func TestHeatmapEmpty(t *testing.T) {
	img, _ := Heatmap(Map{}, nil, HeatmapOptions{})
	if img.Bounds().Empty() {
		t.Error("an empty map gives an empty picture")
	}
}
