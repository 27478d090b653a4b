package webapp

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
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
}

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
	if t == nil {
		return nil
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
	Top   [][]Candidate
	heat  *paint.HeatmapLayout
	grid  *paint.ModelLayout
	lines *paint.LinesLayout
	t     *trace.Trace
}

// NewViewer draws with fonts (nil: Go Regular at 12 px).
func NewViewer(fonts *paint.Fonts) *Viewer {
	if fonts == nil {
		fonts = paint.DefaultFonts(12)
	}
	return &Viewer{Fonts: fonts, State: ViewState{View: "model", Token: -1}}
}

func title(t *trace.Trace) string {
	if t.Model.Name != "" {
		return t.Model.Name
	}
	return t.Model.Arch
}

// Render draws the current view of t (nil: a picture asking for a model and a run).
func (v *Viewer) Render(t *trace.Trace) (*image.RGBA, error) {
	v.heat, v.grid, v.lines, v.t = nil, nil, nil, t
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
		m, err := paint.TraceMap(t, st.Layer, st.Head)
		if err != nil {
			return nil, err
		}
		img, l := paint.Heatmap(m, paint.TraceTokens(t), paint.HeatmapOptions{Width: width, Fonts: v.Fonts,
			Title: fmt.Sprintf("%s · layer %d · head %d", title(t), st.Layer, st.Head)})
		v.heat = l
		if st.Token >= 0 {
			r := l.CellRect(l.Rows.CellOf(st.Token), 0)
			r.Max.X = l.Grid.Max.X
			paint.StrokeRect(img, r.Inset(-1), color.RGBA{255, 64, 64, 255})
		}
		return img, nil
	case "lines":
		m, err := paint.TraceMap(t, st.Layer, st.Head)
		if err != nil {
			return nil, err
		}
		o := paint.LinesOptions{Fonts: v.Fonts, Title: fmt.Sprintf("%s · layer %d · head %d", title(t), st.Layer, st.Head)}
		if st.Token >= 0 {
			o.Queries = []int{st.Token}
		}
		img, l := paint.Lines([]paint.HeadMap{{Layer: st.Layer, Head: st.Head, Map: m}}, paint.TraceTokens(t), o)
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

// positions draws, for the trace's token positions, how the model's position scheme alone relates
// a query position to a key position: for RoPE and sinusoidal encodings the mean cosine of the
// rotation angles between the two positions (1 on the diagonal, falling with distance), for ALiBi
// the bias added to the score. Learned tables are not drawn.
func (v *Viewer) positions(t *trace.Trace, width int) *image.RGBA {
	p := t.Positional
	n := len(t.Tokens)
	var sub string
	var rel func(d int) float64
	switch p.Scheme {
	case "rope", "sinusoidal":
		dims, base := p.RopeDims, float64(p.RopeBase)
		if p.Scheme == "sinusoidal" || dims <= 0 {
			dims, base = max(t.Model.HeadDim, 2), 10000
		}
		if base <= 1 {
			base = 10000
		}
		scale := float64(p.RopeScale)
		if scale <= 0 {
			scale = 1
		}
		theta := make([]float64, dims/2)
		for i := range theta {
			theta[i] = math.Pow(base, -2*float64(i)/float64(dims)) / scale
		}
		rel = func(d int) float64 {
			var sum float64
			for _, th := range theta {
				sum += math.Cos(float64(d) * th)
			}
			return sum / float64(len(theta))
		}
		sub = fmt.Sprintf("%s · %d dims · base %g: mean cos((q−k)·θ_i) over the %d frequency pairs", p.Scheme, dims, base, len(theta))
	case "alibi":
		rel = func(d int) float64 { return -math.Abs(float64(d)) / float64(max(n, 1)) }
		sub = "ALiBi: bias −m·|q−k| (shown for m = 1/n)"
	default:
		return v.message(width, fmt.Sprintf("Positions: %s (context %d) — this scheme has no analytic picture here.", p.Scheme, p.MaxPositions))
	}
	rows := make([][]float32, n)
	for q := range rows {
		rows[q] = make([]float32, n)
		for k := range rows[q] {
			rows[q][k] = float32(rel(q - k))
		}
	}
	img, _ := paint.Heatmap(paint.Map{Rows: rows, Keys: n, Signed: true}, paint.TraceTokens(t), paint.HeatmapOptions{Width: width, Fonts: v.Fonts,
		Title: fmt.Sprintf("%s · positions: %s", title(t), sub)})
	return img
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
		for h := range t.Attn[l] {
			if q < len(t.Attn[l][h]) {
				for k, p := range t.Attn[l][h][q] {
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
	From  string  `json:"from"`
	To    string  `json:"to"`
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
			hit := Hit{Kind: "cell", Layer: v.State.Layer, Head: v.State.Head, Query: q, Key: k}
			if row := t.Attn[hit.Layer][hit.Head]; q < len(row) && k < len(row[q]) {
				hit.P = row[q][k]
			}
			hit.From, hit.To = t.Tokens[q].Text, t.Tokens[k].Text
			return hit
		}
	case v.lines != nil:
		if r, _, ok := v.lines.RowAt(pt); ok {
			q, _ := v.lines.Rows.Tokens(r)
			if q < len(t.Tokens) {
				return Hit{Kind: "row", Layer: v.State.Layer, Head: v.State.Head, Query: q, Key: -1, From: t.Tokens[q].Text}
			}
		}
	}
	return Hit{Query: -1, Key: -1}
}
