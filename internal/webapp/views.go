package webapp

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"reflect"
	"slices"
	"strings"

	"github.com/attnscope/attnscope/engine/trace"
	"github.com/attnscope/attnscope/viz/paint"
)

// Views are the names show accepts, in the order the page lists them.
var Views = []string{"model", "head", "lines", "positions", "kvcache", "generation"}

// ViewState is what the page shows: a view and the layer, head and token it is about.
type ViewState struct {
	View  string `json:"view"`
	Layer int    `json:"layer"`
	Head  int    `json:"head"`
	Token int    `json:"token"` // pinned query token, -1: none
	Width int    `json:"width"` // picture width in pixels (0: 800)
	// Values the head view shows: "probs" (the default) or "logprobs" (ln p: the scaled
	// pre-softmax scores less each row's log-sum-exp, that is the scores up to a per-row constant).
	Values string `json:"values"`
	// Heads are the heads of Layer that the lines view draws together, one colour each (empty:
	// Head alone).
	Heads []int `json:"heads"`
	// Zoom of the head view (0 or 1: every token) and the query and key it centres on (-1: the
	// middle).
	Zoom       float64 `json:"zoom"`
	FocusQuery int     `json:"focusQuery"`
	FocusKey   int     `json:"focusKey"`
	// Window is what the head view last drawn shows: queries [q0, q1) and keys [k0, k1), set by
	// Render.
	Window [4]int `json:"window"`
	// Pos and Dim are the positional view's sliders: a position, and a dimension (a frequency pair
	// for RoPE and sinusoidal, a head for ALiBi). Render clamps them to NPos and NDim, the ranges
	// of the view last drawn (0: no such slider).
	Pos  int `json:"pos"`
	Dim  int `json:"dim"`
	NPos int `json:"nPos"`
	NDim int `json:"nDim"`
}

// Equal reports whether s and o show the same thing.
func (s ViewState) Equal(o ViewState) bool {
	if !slices.Equal(s.Heads, o.Heads) {
		return false
	}
	s.Heads, o.Heads = nil, nil
	return reflect.DeepEqual(s, o)
}

// MaxLinesHeads bounds the heads one lines view draws.
const MaxLinesHeads = 64

// Check validates s against a trace (nil: only the view's name and the ranges' signs).
func (s *ViewState) Check(t *trace.Trace) error {
	known := false
	for _, v := range Views {
		known = known || v == s.View
	}
	if !known {
		return fmt.Errorf("unknown view %q (choose %s)", s.View, strings.Join(Views, ", "))
	}
	if s.Layer < 0 || s.Head < 0 || s.Token < -1 || s.Width < 0 || s.Width > 8192 {
		return fmt.Errorf("layer, head and width must not be negative, token must be -1 or more, width at most 8192")
	}
	if s.Values != "" && s.Values != "probs" && s.Values != "logprobs" {
		return fmt.Errorf("values %q: choose probs or logprobs", s.Values)
	}
	if len(s.Heads) > MaxLinesHeads {
		return fmt.Errorf("heads: at most %d at once", MaxLinesHeads)
	}
	if math.IsNaN(s.Zoom) || s.Zoom < 0 || s.Zoom > paint.MaxZoom {
		return fmt.Errorf("zoom %g: use 1 to %d", s.Zoom, paint.MaxZoom)
	}
	if s.FocusQuery < -1 || s.FocusKey < -1 || s.Pos < 0 || s.Dim < 0 {
		return fmt.Errorf("focusQuery and focusKey must be -1 or more, pos and dim not negative")
	}
	if t == nil {
		return nil
	}
	for _, h := range s.Heads {
		if h < 0 || h >= t.Model.NHead {
			return fmt.Errorf("heads: head %d out of range: the model has heads 0..%d", h, t.Model.NHead-1)
		}
	}
	if s.FocusQuery >= len(t.Tokens) || s.FocusKey >= len(t.Tokens) {
		return fmt.Errorf("focus (%d, %d) out of range: the text has tokens 0..%d", s.FocusQuery, s.FocusKey, len(t.Tokens)-1)
	}
	if s.Layer >= t.Model.NLayer {
		return fmt.Errorf("layer %d out of range: the model has layers 0..%d", s.Layer, t.Model.NLayer-1)
	}
	if s.Head >= t.Model.NHead {
		return fmt.Errorf("head %d out of range: the model has heads 0..%d", s.Head, t.Model.NHead-1)
	}
	if s.Token >= len(t.Tokens) {
		return fmt.Errorf("token %d out of range: the text has tokens 0..%d", s.Token, len(t.Tokens)-1)
	}
	return nil
}

// Viewer draws views of a trace and answers what lies under a point of the last picture.
type Viewer struct {
	Fonts *paint.Fonts
	State ViewState
	// Top are the next-token candidates of the run's steps (RunResult.Top), for the generation view.
	Top [][]Candidate
	// Positions is the loaded model's learned position table (nil: none), for the positions view.
	Positions *PosTable
	heat      *paint.HeatmapLayout
	hmap      paint.Map // the head view's map (cells of cell tokens)
	cell      int
	q0, k0    int // the first query and key cells of the zoomed head view
	grid      *paint.ModelLayout
	lines     *paint.LinesLayout
	t         *trace.Trace
}

// NewViewer draws with fonts (nil: Go Regular at 12 px).
func NewViewer(fonts *paint.Fonts) *Viewer {
	if fonts == nil {
		fonts = paint.DefaultFonts(12)
	}
	return &Viewer{Fonts: fonts, State: ViewState{View: "model", Token: -1, FocusQuery: -1, FocusKey: -1}}
}

func title(t *trace.Trace) string {
	if t.Model.Name != "" {
		return t.Model.Name
	}
	return t.Model.Arch
}

// Render draws the current view of t (nil: a picture asking for a model and a run).
func (v *Viewer) Render(t *trace.Trace) (*image.RGBA, error) {
	v.heat, v.grid, v.lines, v.t, v.q0, v.k0 = nil, nil, nil, t, 0, 0
	st := v.State
	width := st.Width
	if width == 0 {
		width = 800
	}
	if t == nil || len(t.Tokens) == 0 {
		return v.message(width, "Load a model and run a text to see its attention."), nil
	}
	if err := st.Check(t); err != nil {
		return nil, err
	}
	switch st.View {
	case "model":
		img, l := paint.ModelView(paint.TraceMaps(t), paint.ModelOptions{Width: width, Fonts: v.Fonts,
			Title: fmt.Sprintf("%s · %d layers × %d heads · %d tokens (click a head)", title(t), t.Model.NLayer, t.Model.NHead, len(t.Tokens))})
		v.grid = l
		return img, nil
	case "head":
		return v.head(t, width)
	case "lines":
		heads := st.Heads
		if len(heads) == 0 {
			heads = []int{st.Head}
		}
		var maps []paint.HeadMap
		names := ""
		for i, h := range heads {
			m, err := paint.TraceMap(t, st.Layer, h)
			if err != nil {
				return nil, err
			}
			maps = append(maps, paint.HeadMap{Layer: st.Layer, Head: h, Map: m})
			if i > 0 {
				names += ", "
			}
			names += fmt.Sprint(h)
		}
		what := fmt.Sprintf("head %s", names)
		if len(heads) > 1 {
			what = fmt.Sprintf("heads %s in colour", names)
		}
		o := paint.LinesOptions{Fonts: v.Fonts, Title: fmt.Sprintf("%s · layer %d · %s", title(t), st.Layer, what)}
		if st.Token >= 0 {
			o.Queries = []int{st.Token / paint.TraceCell(t)}
		}
		img, l := paint.Lines(maps, paint.TraceTokens(t), o)
		v.lines = l
		return img, nil
	case "kvcache":
		img := paint.KVChart(t.Steps, paint.KVOptions{Width: width, Fonts: v.Fonts,
			Title: fmt.Sprintf("%s · KV cache (%d KV heads × %d dims per layer, float32)", title(t), t.Model.NKVHead, t.Model.HeadDim)})
		return v.kvFooter(img, t), nil
	case "generation":
		return v.generation(t, width), nil
	}
	return v.positions(t, width), nil
}

// generation draws the newest (or pinned) token's attention row, averaged over the heads of each
// layer, and below it the next-token candidates of the run's steps.
func (v *Viewer) generation(t *trace.Trace, width int) *image.RGBA {
	n := len(t.Tokens)
	q := n - 1
	if v.State.Token >= 0 {
		q = v.State.Token
	}
	rows := make([][]float32, t.Model.NLayer)
	for l := range rows {
		rows[l] = make([]float32, n)
		for h := 0; h < t.Model.NHead; h++ {
			// A pooled trace holds the rows of its chosen positions only.
			for k, p := range t.Row(l, h, q) {
				if k < n {
					rows[l][k] += p / float32(t.Model.NHead)
				}
			}
		}
	}
	labels := make([]string, t.Model.NLayer)
	for l := range labels {
		labels[l] = fmt.Sprintf("L%d", l)
	}
	m := paint.Map{Rows: rows, Keys: n}
	img, l := paint.Heatmap(m, paint.TraceTokens(t), paint.HeatmapOptions{Width: width, Fonts: v.Fonts,
		Title: fmt.Sprintf("%s · token %d %q: attention per layer (mean over heads)", title(t), q, t.Tokens[q].Text)})
	// The rows are layers, not tokens: replace the row labels.
	for i := 0; i < l.Rows.Cells; i++ {
		r := l.RowLabelRect(i)
		if r.Empty() {
			continue
		}
		lo, _ := l.Rows.Tokens(i)
		paint.FillRect(img, image.Rect(l.Bounds.Min.X, r.Min.Y, l.Grid.Min.X-1, r.Max.Y), color.White)
		lab := labels[min(lo, len(labels)-1)]
		v.Fonts.Draw(img, l.Grid.Min.X-4-v.Fonts.Width(lab), r.Max.Y-v.Fonts.Descent(), lab, color.Black)
	}
	return v.candidates(img, t)
}

// candidates appends below img, for the last steps of the run, the chosen token and the most
// likely next tokens with bars for their probabilities.
func (v *Viewer) candidates(img *image.RGBA, t *trace.Trace) *image.RGBA {
	steps := v.Top
	if len(steps) == 0 {
		return img
	}
	first := max(0, len(steps)-24)
	lh := v.Fonts.LineHeight() + 4
	col, bar := 150, 60
	w := max(img.Bounds().Dx(), 110+TopCandidates*col)
	h := img.Bounds().Dy() + lh*(len(steps)-first+2)
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	paint.FillRect(out, out.Bounds(), color.White)
	draw.Draw(out, img.Bounds(), img, image.Point{}, draw.Src)
	y := img.Bounds().Dy() + lh
	v.Fonts.Draw(out, 8, y, "step · chosen → most likely next tokens (probability at temperature 1)", color.Black)
	gen := 0
	for i := range t.Tokens {
		if !t.Tokens[i].Generated {
			gen = i + 1
		}
	}
	for s := first; s < len(steps); s++ {
		y += lh
		chosen := ""
		if gen+s < len(t.Tokens) {
			chosen = t.Tokens[gen+s].Text
		}
		v.Fonts.Draw(out, 8, y, paint.Truncate(fmt.Sprintf("%d %q", s, chosen), 100, v.Fonts), color.Black)
		for j, c := range steps[s] {
			x := 110 + j*col
			bw := int(float32(bar) * c.P)
			paint.FillRect(out, image.Rect(x, y-lh+6, x+max(bw, 1), y), color.RGBA{59, 91, 219, 255})
			paint.StrokeRect(out, image.Rect(x, y-lh+6, x+bar, y), color.RGBA{200, 200, 210, 255})
			v.Fonts.Draw(out, x+bar+4, y-2, paint.Truncate(fmt.Sprintf("%q %.2f", c.Text, c.P), col-bar-8, v.Fonts), color.Black)
		}
	}
	return out
}

// kvFooter adds what the cache holds now and what the same model would hold with one KV head
// per query head (MHA) and with a single shared one (MQA).
func (v *Viewer) kvFooter(img *image.RGBA, t *trace.Trace) *image.RGBA {
	if len(t.Steps) == 0 || t.Model.NKVHead <= 0 {
		return img
	}
	st := t.Steps[len(t.Steps)-1]
	var total int64
	for _, b := range st.KV.BytesPerLayer {
		total += b
	}
	perHead := total / int64(t.Model.NKVHead)
	layout := "GQA"
	switch t.Model.NKVHead {
	case t.Model.NHead:
		layout = "MHA"
	case 1:
		layout = "MQA"
	}
	line := fmt.Sprintf("%d tokens: %s with %d KV heads (%s) · MHA (%d KV heads) would hold %s · MQA (1) %s",
		st.KV.Tokens, humanBytes(total), t.Model.NKVHead, layout, t.Model.NHead, humanBytes(perHead*int64(t.Model.NHead)), humanBytes(perHead))
	lh := v.Fonts.LineHeight()
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()+2*lh))
	paint.FillRect(out, out.Bounds(), color.White)
	draw.Draw(out, b, img, b.Min, draw.Src)
	v.Fonts.Draw(out, 8, b.Dy()+lh+lh/2, paint.Truncate(line, b.Dx()-16, v.Fonts), color.Black)
	return out
}

func (v *Viewer) message(width int, msg string) *image.RGBA {
	h := 4 * v.Fonts.LineHeight()
	img := image.NewRGBA(image.Rect(0, 0, width, h))
	paint.FillRect(img, img.Bounds(), color.White)
	v.Fonts.Draw(img, 16, 2*v.Fonts.LineHeight(), paint.Truncate(msg, width-32, v.Fonts), color.Black)
	return img
}

// Hit is what lies under a point of the picture.
type Hit struct {
	Kind  string  `json:"kind"` // "cell", "thumb", "row" or "" (nothing)
	Layer int     `json:"layer"`
	Head  int     `json:"head"`
	Query int     `json:"query"`
	Key   int     `json:"key"`
	P     float32 `json:"p"`
	// LogP is ln P (null for P = 0).
	LogP F32    `json:"logp"`
	From string `json:"from"`
	To   string `json:"to"`
}

// At reports what the last Render drew at (x, y).
func (v *Viewer) At(x, y int) Hit {
	pt := image.Pt(x, y)
	t := v.t
	switch {
	case v.grid != nil:
		if l, h, ok := v.grid.HeadAt(pt); ok {
			return Hit{Kind: "thumb", Layer: l, Head: h, Query: -1, Key: -1}
		}
	case v.heat != nil:
		if r, c, ok := v.heat.CellAt(pt); ok {
			q, _ := v.heat.Rows.Tokens(r)
			k, _ := v.heat.Cols.Tokens(c)
			// Cells of the map drawn; a pooled trace's cells cover v.cell tokens each.
			qc, kc := q+v.q0, k+v.k0
			q, k = qc*v.cell, kc*v.cell
			if q >= len(t.Tokens) || k >= len(t.Tokens) {
				break
			}
			hit := Hit{Kind: "cell", Layer: v.State.Layer, Head: v.State.Head, Query: q, Key: k}
			if qc < len(v.hmap.Rows) && kc < len(v.hmap.Rows[qc]) {
				hit.P = v.hmap.Rows[qc][kc]
				hit.LogP = logProb(hit.P)
			}
			hit.From, hit.To = t.Tokens[q].Text, t.Tokens[k].Text
			return hit
		}
	case v.lines != nil:
		if r, _, ok := v.lines.RowAt(pt); ok {
			q, _ := v.lines.Rows.Tokens(r)
			q *= paint.TraceCell(t)
			if q < len(t.Tokens) {
				return Hit{Kind: "row", Layer: v.State.Layer, Head: v.State.Head, Query: q, Key: -1, From: t.Tokens[q].Text}
			}
		}
	}
	return Hit{Query: -1, Key: -1}
}
