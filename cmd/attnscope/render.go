package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/attnscope/attnscope/engine/infer"
	"github.com/attnscope/attnscope/engine/trace"
	"github.com/attnscope/attnscope/internal/webapp"
	"github.com/attnscope/attnscope/viz/paint"
)

func init() {
	register(command{"render", "draw a view of the attention (head, model, lines, kvcache, positions) to a PNG or SVG file", cmdRender})
}

// renderViews are the views render draws, in the order its help lists them.
var renderViews = []string{"head", "model", "lines", "kvcache", "positions"}

type renderFlags struct {
	view, out, heads, colormap, pool, font, values string
	layer, head, width, query, generate, pos, dim  int
	fontSize                                       float64
	// positions is the model's learned position table (nil: none), for the positions view.
	positions *webapp.PosTable
	// grid is how renderTrace drew a pooled trace (zero for exact rows).
	grid pooledGrid
}

func cmdRender(args []string, stdout io.Writer) error {
	fs := newFlags("render")
	var mf modelFlags
	mf.register(fs, true)
	var rf renderFlags
	fs.StringVar(&rf.view, "view", "head", "what to draw: "+strings.Join(renderViews, "|"))
	fs.IntVar(&rf.layer, "layer", 0, "layer of the head and lines views")
	fs.IntVar(&rf.head, "head", 0, "head of the head view (and of the lines view without --heads)")
	fs.StringVar(&rf.heads, "heads", "", "lines view: comma-separated heads drawn together in colours, or \"all\"")
	fs.IntVar(&rf.query, "query", -1, "lines view: show only this token's lines (-1: every token's)")
	fs.IntVar(&rf.width, "width", 0, "picture width in pixels (0: the view's default)")
	fs.IntVar(&rf.generate, "generate", -1, "greedily generate N tokens after the prompt and draw them too (-1: 16 for the kvcache view of a generative model, else 0)")
	fs.StringVar(&rf.colormap, "colormap", "", "heatmap colours: viridis|magma|inferno|greys|diverging (default viridis)")
	fs.StringVar(&rf.pool, "pool", "max", "when tokens outnumber pixels, a cell shows the max or the mean of the weights it covers")
	fs.StringVar(&rf.font, "font", "", "extra TrueType/OpenType `file` for glyphs Go Regular lacks (a Hangul font is found by itself when installed)")
	fs.Float64Var(&rf.fontSize, "font-size", 12, "label size in pixels")
	fs.StringVar(&rf.values, "values", "probs", "head view: probs, or logprobs (ln p: the pre-softmax scores up to a per-row constant)")
	fs.IntVar(&rf.pos, "pos", 0, "positions view: the position to outline")
	fs.IntVar(&rf.dim, "dim", 0, "positions view: the dimension (RoPE and sinusoidal: frequency pair; ALiBi: head) to show")
	fs.StringVar(&rf.out, "o", "", "output `file`: .png or .svg (SVG for the head and lines views)")
	var af attnFlags
	af.register(fs, infer.CaptureAuto)
	if err := parse(fs, args); err != nil {
		return err
	}
	opts := infer.Options{Context: mf.ctx}
	if err := af.options(&opts); err != nil {
		return err
	}
	if err := mf.check(fs, true); err != nil {
		return err
	}
	opts.KVType = mf.kv
	if err := need(fs, "o", rf.out); err != nil {
		return err
	}
	if err := rf.check(); err != nil {
		return err
	}
	if !opts.Capture && (rf.view == "head" || rf.view == "model" || rf.view == "lines") {
		return errNoAttention
	}
	fonts, err := rf.fonts()
	if err != nil {
		return err
	}
	l, err := mf.open()
	if err != nil {
		return err
	}
	defer l.Close()
	cfg := l.Model.Config()
	if err := rf.checkModel(cfg.NLayer, cfg.NHead); err != nil {
		return err
	}
	n := rf.generate
	if n < 0 { // the default: a few steps for the KV-cache chart, when the model can generate
		n = 0
		if rf.view == "kvcache" && l.Model.HasLMHead() {
			n = 16
		}
	}
	t, err := captureTrace(l, opts, mf.prompt, n)
	if err != nil {
		return err
	}
	if rf.view == "positions" {
		if rf.positions, err = webapp.LearnedPositions(l); err != nil {
			return err
		}
	}
	var buf bytes.Buffer
	if err := renderTrace(&buf, t, &rf, fonts); err != nil {
		return err
	}
	if isPooled(t) && (rf.view == "head" || rf.view == "model") {
		notePooled(diag, t, rf.view, rf.grid, rf.pool)
	}
	if err := os.WriteFile(rf.out, buf.Bytes(), 0o644); err != nil {
		return err
	}
	escaped := !fonts.HasHangul() && hasHangul(t)
	if escaped {
		fmt.Fprintln(diag, "note: no Hangul font found (install fonts-nanum or pass --font): Hangul is shown as \\u escapes")
	}
	if mf.json {
		return writeJSON(stdout, struct {
			File          string `json:"file"`
			View          string `json:"view"`
			Tokens        int    `json:"tokens"`
			Bytes         int    `json:"bytes"`
			HangulEscaped bool   `json:"hangul_escaped,omitempty"`
		}{rf.out, rf.view, len(t.Tokens), buf.Len(), escaped})
	}
	fmt.Fprintf(stdout, "wrote %s (%s view, %d tokens)\n", rf.out, rf.view, len(t.Tokens))
	return nil
}

func (rf *renderFlags) check() error {
	known := false
	for _, v := range renderViews {
		known = known || v == rf.view
	}
	if !known {
		return fmt.Errorf("unknown --view %q (choose %s)", rf.view, strings.Join(renderViews, ", "))
	}
	switch ext := strings.ToLower(filepath.Ext(rf.out)); ext {
	case ".png":
	case ".svg":
		if rf.view != "head" && rf.view != "lines" {
			return fmt.Errorf("-o %s: SVG is written for the head and lines views; use .png for the %s view", rf.out, rf.view)
		}
	default:
		return fmt.Errorf("-o %s: the file name must end in .png or .svg", rf.out)
	}
	if rf.width < 0 || (rf.width > 0 && rf.width < 64) || rf.width > 16384 {
		return fmt.Errorf("--width %d: use 64 to 16384 pixels (0: default)", rf.width)
	}
	if rf.fontSize < 4 || rf.fontSize > 96 {
		return fmt.Errorf("--font-size %g: use 4 to 96 pixels", rf.fontSize)
	}
	if rf.pool != "max" && rf.pool != "mean" {
		return fmt.Errorf("--pool %q: use max or mean", rf.pool)
	}
	if rf.colormap != "" {
		if _, err := paint.ColormapByName(rf.colormap); err != nil {
			return fmt.Errorf("--colormap: %w", err)
		}
	}
	if rf.layer < 0 || rf.head < 0 || rf.pos < 0 || rf.dim < 0 {
		return fmt.Errorf("--layer, --head, --pos and --dim must not be negative")
	}
	if rf.values != "probs" && rf.values != "logprobs" {
		return fmt.Errorf("--values %q: use probs or logprobs", rf.values)
	}
	if rf.values != "probs" && rf.view != "head" {
		return fmt.Errorf("--values is for the head view")
	}
	if rf.heads != "" && rf.view != "lines" {
		return fmt.Errorf("--heads is for the lines view (the %s view shows --head)", rf.view)
	}
	if rf.query >= 0 && rf.view != "lines" {
		return fmt.Errorf("--query is for the lines view")
	}
	if rf.generate < -1 {
		return fmt.Errorf("--generate %d must not be negative", rf.generate)
	}
	if strings.TrimSpace(rf.heads) != "all" {
		if _, err := rf.headList(math.MaxInt); err != nil {
			return err
		}
	}
	return nil
}

// checkModel checks --layer, --head and --heads against the model's shape.
func (rf *renderFlags) checkModel(nLayer, nHead int) error {
	if rf.view != "head" && rf.view != "lines" {
		return nil
	}
	if rf.layer >= nLayer {
		return fmt.Errorf("--layer %d out of range: the model has %d layers (0..%d)", rf.layer, nLayer, nLayer-1)
	}
	if rf.head >= nHead {
		return fmt.Errorf("--head %d out of range: the model has %d heads per layer (0..%d)", rf.head, nHead, nHead-1)
	}
	_, err := rf.headList(nHead)
	return err
}

// headList returns the heads of the lines view: --heads (a list or "all") or else --head.
func (rf *renderFlags) headList(nHead int) ([]int, error) {
	spec := strings.TrimSpace(rf.heads)
	switch spec {
	case "":
		return []int{rf.head}, nil
	case "all":
		ids := make([]int, nHead)
		for h := range ids {
			ids[h] = h
		}
		return ids, nil
	}
	var ids []int
	for _, part := range strings.Split(spec, ",") {
		h, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil || h < 0 {
			return nil, fmt.Errorf("--heads %q: %q is not a head number (use e.g. 0,2,3 or all)", spec, part)
		}
		if h >= nHead {
			return nil, fmt.Errorf("--heads: head %d out of range: the model has %d heads per layer (0..%d)", h, nHead, nHead-1)
		}
		ids = append(ids, h)
	}
	return ids, nil
}

func (rf *renderFlags) colors() (*paint.Colormap, paint.Pool) {
	var cmap *paint.Colormap
	if rf.colormap != "" {
		cmap, _ = paint.ColormapByName(rf.colormap) // checked by check
	}
	if rf.pool == "mean" {
		return cmap, paint.PoolMean
	}
	return cmap, paint.PoolMax
}

// heatmapOptions are the head view's options for t.
func (rf *renderFlags) heatmapOptions(t *trace.Trace, fonts *paint.Fonts) paint.HeatmapOptions {
	cmap, pool := rf.colors()
	title := fmt.Sprintf("%s · layer %d · head %d", modelName(t), rf.layer, rf.head)
	if rf.values == "logprobs" {
		title += " · " + webapp.LogProbTitle
	}
	return paint.HeatmapOptions{Width: rf.width, Colormap: cmap, Pool: pool, Fonts: fonts, Title: title}
}

func (rf *renderFlags) fonts() (*paint.Fonts, error) {
	if rf.font == "" {
		return paint.NewFonts(rf.fontSize)
	}
	f, err := paint.LoadFont(rf.font)
	if err != nil {
		return nil, fmt.Errorf("--font: %w", err)
	}
	return paint.NewFonts(rf.fontSize, f)
}

// captureTrace evaluates the prompt with the capture opts asks for, then n greedy tokens.
func captureTrace(l *infer.Loaded, opts infer.Options, prompt string, n int) (*trace.Trace, error) {
	s := l.NewSession(opts)
	if n == 0 {
		if _, _, err := s.Prefill(prompt, false); err != nil {
			return nil, err
		}
		return s.Trace, nil
	}
	if !l.Model.HasLMHead() {
		return nil, fmt.Errorf("--generate %d: %w", n, infer.ErrNoLMHead)
	}
	// Generation samples greedily; the trace then covers the prompt and the generated tokens.
	if _, err := s.Generate(context.Background(), prompt, infer.GenerateOptions{MaxTokens: n}, nil); err != nil {
		return nil, err
	}
	return s.Trace, nil
}

func hasHangul(t *trace.Trace) bool {
	for _, tk := range t.Tokens {
		for _, r := range tk.Text {
			if r >= 0xAC00 && r <= 0xD7A3 || r >= 0x1100 && r <= 0x11FF || r >= 0x3130 && r <= 0x318F {
				return true
			}
		}
	}
	return false
}

// renderTrace draws the chosen view of t into w as PNG or SVG (by the output name).
func renderTrace(w io.Writer, t *trace.Trace, rf *renderFlags, fonts *paint.Fonts) error {
	cmap, pool := rf.colors()
	svg := strings.EqualFold(filepath.Ext(rf.out), ".svg")
	tokens := paint.TraceTokens(t)
	var img image.Image
	switch rf.view {
	case "head":
		m, err := paint.TraceMap(t, rf.layer, rf.head)
		if err != nil {
			return err
		}
		o := rf.heatmapOptions(t, fonts)
		if isPooled(t) {
			if rf.values == "logprobs" && rf.pool == "mean" {
				return fmt.Errorf("--values logprobs: the trace of %d tokens is pooled, and the log of a cell's mean is no log-probability of a pair: use --pool max (each cell's largest ln p), or --capture exact", len(t.Tokens))
			}
			m, tokens, rf.grid = pooledHead(t, *rf, o)
			o.Title += " · " + rf.grid.note(rf.pool)
		}
		if rf.values == "logprobs" {
			m, o.Min, o.Max = webapp.LogProbMap(m)
		}
		if svg {
			return paint.HeatmapSVG(w, m, tokens, o)
		}
		img, _ = paint.Heatmap(m, tokens, o)
	case "model":
		o := paint.ModelOptions{Width: rf.width, Colormap: cmap, Pool: pool, Fonts: fonts,
			Title: fmt.Sprintf("%s · %d layers × %d heads · %d tokens", modelName(t), t.Model.NLayer, t.Model.NHead, len(t.Tokens))}
		maps := paint.TraceMaps(t)
		if isPooled(t) {
			maps, rf.grid = pooledModel(t, paint.LayoutModel(t.Model.NLayer, t.Model.NHead, o).Thumb, rf.pool == "mean")
			o.Title += " · " + rf.grid.note(rf.pool)
		}
		img, _ = paint.ModelView(maps, o)
	case "lines":
		lineHeads := rf.lineHeads
		if isPooled(t) {
			lineHeads = rf.pooledLineHeads
		}
		heads, err := lineHeads(t)
		if err != nil {
			return err
		}
		o := paint.LinesOptions{Width: rf.width, Pool: pool, Fonts: fonts, Title: fmt.Sprintf("%s · layer %d", modelName(t), rf.layer)}
		if len(heads) == 1 {
			o.Title += fmt.Sprintf(" · head %d", heads[0].Head)
		}
		if rf.query >= 0 {
			if rf.query >= len(t.Tokens) {
				return fmt.Errorf("--query %d out of range (the trace has tokens 0..%d)", rf.query, len(t.Tokens)-1)
			}
			o.Queries = []int{rf.query}
		}
		if svg {
			return paint.LinesSVG(w, heads, tokens, o)
		}
		img, _ = paint.Lines(heads, tokens, o)
	case "kvcache":
		img = paint.KVChart(t.Steps, paint.KVOptions{Width: rf.width, Fonts: fonts,
			Title: fmt.Sprintf("%s · KV cache (%d KV heads × %d dims per layer, float32)", modelName(t), t.Model.NKVHead, t.Model.HeadDim)})
	case "positions":
		v := webapp.NewViewer(fonts)
		v.Positions = rf.positions
		v.State = webapp.ViewState{View: "positions", Token: -1, FocusQuery: -1, FocusKey: -1, Width: rf.width, Pos: rf.pos, Dim: rf.dim}
		pic, err := v.Render(t)
		if err != nil {
			return err
		}
		img = pic
	}
	return paint.WritePNG(w, img)
}

// lineHeads returns the maps of the lines view's heads (checked by checkModel).
func (rf *renderFlags) lineHeads(t *trace.Trace) ([]paint.HeadMap, error) {
	ids, err := rf.headList(t.Model.NHead)
	if err != nil {
		return nil, err
	}
	var out []paint.HeadMap
	for _, h := range ids {
		m, err := paint.TraceMap(t, rf.layer, h)
		if err != nil {
			return nil, err
		}
		out = append(out, paint.HeadMap{Layer: rf.layer, Head: h, Map: m})
	}
	return out, nil
}

func modelName(t *trace.Trace) string {
	if t.Model.Name != "" {
		return t.Model.Name
	}
	return t.Model.Arch
}
