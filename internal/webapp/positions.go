package webapp

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"sort"

	"github.com/attnscope/attnscope/engine/infer"
	"github.com/attnscope/attnscope/engine/quant"
	"github.com/attnscope/attnscope/engine/trace"
	"github.com/attnscope/attnscope/viz/paint"
)

// PosTable is a learned position-embedding table, shape (position, dim): W[p*NEmbd+d].
type PosTable struct {
	NPos, NEmbd int
	W           []float32
}

// MaxPosTableElems bounds the table the page reads (GPT-2's is 1024 × 768).
const MaxPosTableElems = 1 << 24

// MaxSimilarityPositions bounds the positions of the cosine-similarity map (n² dot products).
const MaxSimilarityPositions = 256

// LearnedPositions reads the learned position table of a loaded model (position_embd.weight);
// nil when the model has none.
func LearnedPositions(l *infer.Loaded) (*PosTable, error) {
	if l == nil || l.File == nil {
		return nil, nil
	}
	ti, ok := l.File.Tensor("position_embd.weight")
	if !ok {
		return nil, nil
	}
	if len(ti.Dims) != 2 || ti.Dims[0] == 0 || ti.Dims[1] == 0 {
		return nil, fmt.Errorf("position_embd.weight: shape %v is not a matrix", ti.Dims)
	}
	if ti.Dims[0]*ti.Dims[1] > MaxPosTableElems {
		return nil, fmt.Errorf("position_embd.weight: %d × %d is larger than the page shows (%d values)", ti.Dims[1], ti.Dims[0], MaxPosTableElems)
	}
	raw, err := l.File.TensorData(ti)
	if err != nil {
		return nil, err
	}
	pt := &PosTable{NEmbd: int(ti.Dims[0]), NPos: int(ti.Dims[1])}
	pt.W = make([]float32, pt.NEmbd*pt.NPos)
	if err := quant.Dequantize(ti.Type, pt.W, raw); err != nil {
		return nil, fmt.Errorf("position_embd.weight: %w", err)
	}
	return pt, nil
}

// Row is position p's embedding.
func (pt *PosTable) Row(p int) []float32 { return pt.W[p*pt.NEmbd : (p+1)*pt.NEmbd] }

// Similarity is the cosine similarity of the first n positions' embeddings, shape (n, n).
func (pt *PosTable) Similarity(n int) [][]float32 {
	n = min(n, pt.NPos)
	norms := make([]float64, n)
	for p := range norms {
		var s float64
		for _, x := range pt.Row(p) {
			s += float64(x) * float64(x)
		}
		norms[p] = math.Sqrt(s)
	}
	out := make([][]float32, n)
	for i := range out {
		out[i] = make([]float32, n)
		a := pt.Row(i)
		for j := range out[i] {
			if j < i {
				out[i][j] = out[j][i]
				continue
			}
			var dot float64
			for d, x := range pt.Row(j) {
				dot += float64(a[d]) * float64(x)
			}
			if den := norms[i] * norms[j]; den > 0 {
				out[i][j] = float32(dot / den)
			}
		}
	}
	return out
}

func indexLabels(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%d", prefix, i)
	}
	return out
}

// positions draws the model's position scheme with the state's sliders: Pos (a position) and Dim
// (a dimension; for RoPE and sinusoidal a frequency pair, for ALiBi a head). It records the
// sliders' ranges in v.State.NPos and v.State.NDim and clamps Pos and Dim to them.
func (v *Viewer) positions(t *trace.Trace, width int) *image.RGBA {
	p := t.Positional
	if p.Scheme == "learned" && v.Positions != nil {
		return v.learned(t, width)
	}
	n := len(t.Tokens)
	st := &v.State
	var sub, pick string
	var rel, one func(d int) float64
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
		v.setRanges(n, len(theta))
		rel = func(d int) float64 {
			var sum float64
			for _, th := range theta {
				sum += math.Cos(float64(d) * th)
			}
			return sum / float64(len(theta))
		}
		th := theta[st.Dim]
		one = func(d int) float64 { return math.Cos(float64(d) * th) }
		sub = fmt.Sprintf("%s · %d dims · base %g: mean cos((q−k)·θ_i) over the %d frequency pairs", p.Scheme, dims, base, len(theta))
		pick = fmt.Sprintf("pair %d: θ = %.4g rad per position (wavelength %.4g positions): cos((q−k)·θ), the q·k factor of this pair alone", st.Dim, th, 2*math.Pi/th)
	case "alibi":
		nh := max(t.Model.NHead, 1)
		v.setRanges(n, nh)
		slope := func(h int) float64 { return math.Pow(2, -8*float64(h+1)/float64(nh)) }
		rel = func(d int) float64 { return -slope(0) * math.Abs(float64(d)) }
		m := slope(st.Dim)
		one = func(d int) float64 { return -m * math.Abs(float64(d)) }
		sub = fmt.Sprintf("ALiBi: bias −m·|q−k| added to the scores (head 0: m = %.4g)", slope(0))
		pick = fmt.Sprintf("head %d: m = 2^(−8·%d/%d) = %.4g", st.Dim, st.Dim+1, nh, m)
	default:
		v.setRanges(n, 0)
		msg := fmt.Sprintf("Positions: %s (context %d) — this scheme has no analytic picture here.", p.Scheme, p.MaxPositions)
		if p.Scheme == "learned" {
			msg = "Positions: learned table (context " + fmt.Sprint(p.MaxPositions) + ") — the viewer was given the trace without the model's table."
		}
		return v.message(width, msg)
	}
	grid := func(f func(int) float64, title string) *image.RGBA {
		rows := make([][]float32, n)
		for q := range rows {
			rows[q] = make([]float32, n)
			for k := range rows[q] {
				rows[q][k] = float32(f(q - k))
			}
		}
		img, l := paint.Heatmap(paint.Map{Rows: rows, Keys: n, Signed: true}, paint.TraceTokens(t), paint.HeatmapOptions{Width: width, Fonts: v.Fonts, Title: title})
		outlineRow(img, l, st.Pos)
		return img
	}
	return stack(grid(rel, fmt.Sprintf("%s · positions: %s · position %d outlined", title(t), sub, st.Pos)), grid(one, pick))
}

// learned draws a learned table (positions × dims, the chosen position and dimension outlined)
// and the positions' cosine similarity, with the chosen position's nearest positions.
func (v *Viewer) learned(t *trace.Trace, width int) *image.RGBA {
	pt := v.Positions
	st := &v.State
	v.setRanges(pt.NPos, pt.NEmbd)
	rows := make([][]float32, pt.NPos)
	for p := range rows {
		rows[p] = pt.Row(p)
	}
	tab, l := paint.Heatmap(paint.Map{Rows: rows, Keys: pt.NEmbd, Signed: true}, indexLabels("", pt.NPos), paint.HeatmapOptions{
		Width: width, Fonts: v.Fonts, ColTokens: indexLabels("", pt.NEmbd), RowName: "position ↓", ColName: "dim →",
		Title: fmt.Sprintf("%s · learned positions: the table position_embd (%d positions × %d dims) · position %d, dim %d outlined", title(t), pt.NPos, pt.NEmbd, st.Pos, st.Dim)})
	outlineRow(tab, l, st.Pos)
	c := l.Cols.CellOf(st.Dim)
	r := l.CellRect(0, c)
	r.Max.Y = l.Grid.Max.Y
	paint.StrokeRect(tab, r.Inset(-1), color.RGBA{255, 140, 0, 255})

	ns := min(pt.NPos, MaxSimilarityPositions)
	sim := pt.Similarity(ns)
	pos := min(st.Pos, ns-1)
	simImg, sl := paint.Heatmap(paint.Map{Rows: sim, Keys: ns, Signed: true}, indexLabels("", ns), paint.HeatmapOptions{
		Width: width, Fonts: v.Fonts, Min: -1, Max: 1, RowName: "position ↓", ColName: "position →",
		Title: fmt.Sprintf("cosine similarity of positions 0..%d (position %d outlined)", ns-1, pos)})
	outlineRow(simImg, sl, pos)

	type near struct {
		p int
		c float32
	}
	var ns2 []near
	for j, c := range sim[pos] {
		if j != pos {
			ns2 = append(ns2, near{j, c})
		}
	}
	sort.SliceStable(ns2, func(a, b int) bool { return ns2[a].c > ns2[b].c })
	line := fmt.Sprintf("position %d: most similar", pos)
	for _, x := range ns2[:min(4, len(ns2))] {
		line += fmt.Sprintf(" %d (%.2f)", x.p, x.c)
	}
	lo, hi := float32(math.Inf(1)), float32(math.Inf(-1))
	for p := 0; p < pt.NPos; p++ {
		x := pt.Row(p)[st.Dim]
		lo, hi = min(lo, x), max(hi, x)
	}
	line += fmt.Sprintf(" · dim %d ranges %.3g to %.3g over the positions", st.Dim, lo, hi)
	return v.footer(stack(tab, simImg), line)
}

// setRanges records the sliders' ranges and clamps the state into them.
func (v *Viewer) setRanges(nPos, nDim int) {
	st := &v.State
	st.NPos, st.NDim = nPos, nDim
	st.Pos = max(0, min(st.Pos, nPos-1))
	st.Dim = max(0, min(st.Dim, nDim-1))
}

// outlineRow outlines row p of a heatmap (nothing when p is outside it).
func outlineRow(img *image.RGBA, l *paint.HeatmapLayout, p int) {
	if p < 0 || p >= l.Rows.N {
		return
	}
	r := l.CellRect(l.Rows.CellOf(p), 0)
	r.Max.X = l.Grid.Max.X
	paint.StrokeRect(img, r.Inset(-1), color.RGBA{255, 64, 64, 255})
}

// stack puts pictures below each other on white.
func stack(imgs ...*image.RGBA) *image.RGBA {
	w, h := 0, 0
	for _, m := range imgs {
		w, h = max(w, m.Bounds().Dx()), h+m.Bounds().Dy()
	}
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	paint.FillRect(out, out.Bounds(), color.White)
	y := 0
	for _, m := range imgs {
		b := m.Bounds()
		draw.Draw(out, image.Rect(0, y, b.Dx(), y+b.Dy()), m, b.Min, draw.Src)
		y += b.Dy()
	}
	return out
}

// footer adds a line of text below img.
func (v *Viewer) footer(img *image.RGBA, line string) *image.RGBA {
	lh := v.Fonts.LineHeight()
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()+2*lh))
	paint.FillRect(out, out.Bounds(), color.White)
	draw.Draw(out, b, img, b.Min, draw.Src)
	v.Fonts.Draw(out, 8, b.Dy()+lh+lh/2, paint.Truncate(line, b.Dx()-16, v.Fonts), color.Black)
	return out
}
