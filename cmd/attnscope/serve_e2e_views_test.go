package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/draw"
	"math"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/attnscope/attnscope/engine/gguf"
	"github.com/attnscope/attnscope/engine/quant"
	"github.com/attnscope/attnscope/internal/shareddata"
	"github.com/attnscope/attnscope/internal/webapp"
	"github.com/attnscope/attnscope/viz/paint"
)

// evalFunc evaluates a JS expression in the page (awaiting promises) into out.
type evalFunc func(what, expr string, out any)

// shot shows a view through the JS API and returns the canvas picture and the state.
func shot(t *testing.T, eval evalFunc, view, opts string) (image.Image, webapp.ViewState) {
	t.Helper()
	var r struct {
		State webapp.ViewState `json:"state"`
		URL   string           `json:"url"`
	}
	eval("show "+view+" "+opts, fmt.Sprintf(`(() => { const state = attnscope.show(%q, %s); return {state, url: document.getElementById('view').toDataURL('image/png')}; })()`, view, opts), &r)
	return decodeDataURL(t, r.URL), r.State
}

// checkViewOptions drives the options of the views through the JS API on a run of n tokens of a
// model with nHead heads: log-probabilities, zoom, all heads in the lines view, positional sliders.
func checkViewOptions(t *testing.T, eval evalFunc, n, nHead int) {
	img, st := shot(t, eval, "head", `{layer: 1, head: 2, token: -1, values: 'logprobs', zoom: 1, focusQuery: -1, focusKey: -1}`)
	checkDrawn(t, "head (log-probabilities)", img)
	if st.Values != "logprobs" || st.Window != [4]int{0, n, 0, n} {
		t.Errorf("log-probability head view: state %+v", st)
	}
	var hit webapp.Hit
	eval("hover logprobs", `(() => { const c = document.getElementById('view'); return attnscope.at(c.width / 3 | 0, c.height / 2 | 0); })()`, &hit)
	if hit.Kind != "cell" || hit.P > 0 && math.Abs(float64(hit.LogP)-math.Log(float64(hit.P))) > 1e-5 {
		t.Errorf("hover over the log-probability view: %+v", hit)
	}
	img, st = shot(t, eval, "head", `{values: 'probs', zoom: 4, focusQuery: 1e9, focusKey: 0}`)
	checkDrawn(t, "head (zoomed)", img)
	if st.Zoom != 4 || st.Window[1] != n || st.Window[0] == 0 || st.Window[2] != 0 || st.Window[3] >= n {
		t.Errorf("zoomed head view: state %+v (n %d)", st, n)
	}
	// The page's own controls: the wheel zooms at the pointer, dragging scrolls.
	var ui struct{ Wheel, Dragged webapp.ViewState }
	eval("wheel and drag", `(() => {
		const c = document.getElementById('view');
		attnscope.show('head', {zoom: 1, focusQuery: -1, focusKey: -1});
		const r = c.getBoundingClientRect();
		const at = (x, y) => ({clientX: r.left + x * r.width / c.width, clientY: r.top + y * r.height / c.height, bubbles: true, cancelable: true});
		c.dispatchEvent(new WheelEvent('wheel', Object.assign(at(c.width / 2, c.height / 2), {deltaY: -100})));
		const wheel = attnscope.state();
		attnscope.show('head', {zoom: 4, focusQuery: 1e9, focusKey: 1e9});
		// Grab the first cell of the grid.
		let x = -1, y = -1;
		for (let yy = 0; yy < c.height && x < 0; yy += 2)
			for (let xx = 0; xx < c.width; xx += 2)
				if (attnscope.at(xx, yy).kind === 'cell') { x = xx + 2; y = yy + 2; break; }
		c.dispatchEvent(new MouseEvent('mousedown', at(x, y)));
		for (let dx = 4; dx <= 60; dx += 4) c.dispatchEvent(new MouseEvent('mousemove', at(x + dx, y)));
		window.dispatchEvent(new MouseEvent('mouseup', at(x + 60, y)));
		return {wheel, dragged: attnscope.state()};
	})()`, &ui)
	if ui.Wheel.Zoom <= 1 || ui.Wheel.Window[1]-ui.Wheel.Window[0] >= n {
		t.Errorf("wheel over the head view: state %+v", ui.Wheel)
	}
	if ui.Dragged.Zoom != 4 || ui.Dragged.Window[3] >= n || ui.Dragged.Window[1] != n {
		t.Errorf("dragging the zoomed head view to the right did not scroll to earlier keys: %+v (n %d)", ui.Dragged, n)
	}
	img, st = shot(t, eval, "lines", `{zoom: 1, focusQuery: -1, focusKey: -1, heads: 'all'}`)
	checkDrawn(t, "lines (all heads)", img)
	if len(st.Heads) != nHead {
		t.Errorf("lines view with all heads: state %+v", st)
	}
	img, st = shot(t, eval, "positions", `{heads: null, pos: 3, dim: 1}`)
	checkDrawn(t, "positions (sliders)", img)
	if st.Pos != 3 || st.Dim != 1 || st.NPos != n || st.NDim < 2 {
		t.Errorf("positions view sliders: state %+v", st)
	}
	var bad string
	eval("bad values", `(() => { try { attnscope.show('head', {values: 'scores'}); return 'shown'; } catch (e) { return e.message; } })()`, &bad)
	if !strings.Contains(bad, "probs or logprobs") {
		t.Errorf("show with values 'scores': %q", bad)
	}
}

// checkHangulLabels runs 안녕하세요 transformer with a Llama-2 vocabulary (which has Hangul
// pieces) and checks the trace's token texts and the head view's labels: the label of the
// Hangul token is drawn, pixel for pixel as the native viewer draws it with the system's Hangul
// font (fonts-nanum), not as an escape.
func checkHangulLabels(t *testing.T, eval evalFunc) {
	const text = "안녕하세요 transformer"
	path := shareddata.Path(t, "models/llama-2-tiny-random.gguf")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var info webapp.Info
	eval("load llama-2-tiny-random", `attnscope.loadModel('models/llama-2-tiny-random.gguf')`, &info)
	var res runResult
	eval("run Hangul (Llama-2 vocabulary)", fmt.Sprintf(`attnscope.run(%q, {maxTokens: 0})`, text), &res)
	var tokens []string
	eval("Hangul tokens", `attnscope.trace().tokens.map(t => t.text)`, &tokens)
	hangul := -1
	for i, s := range tokens {
		if s == "안" {
			hangul = i
		}
	}
	if hangul < 0 || !strings.Contains(strings.Join(tokens, ""), "하세요") {
		t.Fatalf("the trace's tokens %q lack the Hangul pieces", tokens)
	}
	img, _ := shot(t, eval, "head", `{layer: 0, head: 0, token: -1, values: 'probs', zoom: 1, focusQuery: -1, focusKey: -1, heads: null}`)

	fonts, err := paint.NewFonts(12)
	if err != nil || !fonts.HasHangul() {
		msg := fmt.Sprintf("no system Hangul font (fonts-nanum): %v", err)
		if shareddata.Required() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	l, _, err := webapp.Load(data)
	if err != nil {
		t.Fatal(err)
	}
	s, _, err := webapp.Run(context.Background(), l, text, webapp.RunOptions{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	v := webapp.NewViewer(fonts)
	v.State = webapp.ViewState{View: "head", Token: -1, Values: "probs", FocusQuery: -1, FocusKey: -1}
	native, err := v.Render(s.Trace)
	if err != nil {
		t.Fatal(err)
	}
	lay := v.HeatmapLayout()
	r := lay.RowLabelRect(lay.Rows.CellOf(hangul))
	if r.Empty() || r.Dx() > fonts.Width(`\uC548`)/2 {
		t.Fatalf("native label of 안 at %v: empty or as wide as an escape", r)
	}
	page := image.NewRGBA(img.Bounds())
	draw.Draw(page, page.Bounds(), img, img.Bounds().Min, draw.Src)
	ink, diff := 0, 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			p, q := page.RGBAAt(x, y), native.RGBAAt(x, y)
			if p != q {
				diff++
			}
			if p.R < 128 {
				ink++
			}
		}
	}
	if ink < 10 || diff > 0 {
		t.Errorf("the page's label of 안 at %v: %d ink pixels, %d pixels differ from the native picture", r, ink, diff)
	}
}

// checkBadUploads uploads a model with a tensor type the engine does not compute with and one
// too large for the browser: each shows its reason in the page.
func checkBadUploads(t *testing.T, ctx context.Context, dir string) {
	f, err := gguf.Open(shareddata.Path(t, "models/stories260K.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := gguf.FromFile(f)
	if err != nil {
		t.Fatal(err)
	}
	ti, _ := f.Tensor("blk.0.attn_q.weight")
	typ := quant.IQ4_NL
	n := ti.Elements() / uint64(typ.BlockSize()) * uint64(typ.BlockBytes())
	if err := b.SetTensor(ti.Name, typ, ti.Dims, make([]byte, n)); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := b.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	unsupported := filepath.Join(dir, "iq4nl.gguf")
	os.WriteFile(unsupported, buf.Bytes(), 0o644)
	// A sparse file: a GGUF header and then nothing, one byte over the page's limit.
	large := filepath.Join(dir, "large.gguf")
	os.WriteFile(large, []byte("GGUF\x03\x00\x00\x00"), 0o644)
	if err := os.Truncate(large, webapp.MaxModelBytes+1); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ file, want string }{
		{unsupported, "type IQ4_NL is not supported"},
		{large, "too large for the browser"},
	} {
		uctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		if _, err := chromedp.Run(uctx, chromedp.SetUploadFiles("#file", []string{c.file})); err != nil {
			cancel()
			t.Fatalf("uploading %s: %v", c.file, err)
		}
		got, err := chromedp.Run(uctx, chromedp.Poll[string](fmt.Sprintf(`(() => { const e = document.getElementById('error').textContent; return e.includes(%q) && e; })()`, c.want),
			chromedp.WithPollingTimeout(10*time.Second)))
		cancel()
		if err != nil {
			msg, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('error').textContent`))
			t.Errorf("uploading %s: the page shows %q, not %q", filepath.Base(c.file), msg, c.want)
			continue
		}
		t.Logf("upload %s: %s", filepath.Base(c.file), got)
	}
}

// checkDefaultModel serves a model list with an English model: the page opens it by itself.
func checkDefaultModel(t *testing.T, ctx context.Context, eval evalFunc, web string, model []byte) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "english.gguf"), model, 0o644)
	os.WriteFile(filepath.Join(dir, "another.gguf"), model, 0o644)
	srv := httptest.NewServer(newServeHandler(web, dir))
	defer srv.Close()
	if _, err := chromedp.Run(ctx, chromedp.Navigate(srv.URL+"/index.html")); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Name, Shipped string
		Info          *webapp.Info
	}
	eval("default model", `attnscope.ready.then(async (a) => {
		while (!a.modelList) await new Promise((r) => setTimeout(r, 10));
		const name = await a.modelList;
		return {name, shipped: document.getElementById('shipped').value, info: a.info()};
	})`, &got)
	if got.Name != "english.gguf" || !strings.HasSuffix(got.Shipped, "english.gguf") || got.Info == nil || got.Info.Bytes != int64(len(model)) {
		t.Errorf("with english.gguf served the page opened %q (picker %q, model %+v)", got.Name, got.Shipped, got.Info)
	}
	shots := os.Getenv("ATTNSCOPE_E2E_SHOTS")
	if shots != "" {
		var ok bool
		eval("page run", `(async () => {
			document.getElementById('prompt').value = 'Once upon a time there was a little girl named Lily';
			document.getElementById('run').click();
			while (document.getElementById('run').disabled) await new Promise((r) => setTimeout(r, 20));
			attnscope.show('head', {layer: 1, head: 2, zoom: 2, focusQuery: 10, focusKey: 4});
			return true;
		})()`, &ok)
		if b, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
			os.WriteFile(filepath.Join(shots, "page.png"), b, 0o644)
		}
	}

	// A gpt2-style model's learned position table, with the sliders.
	reverse, err := os.ReadFile(filepath.Join("..", "..", "models", "reverse.gguf"))
	if err != nil {
		t.Fatalf("the shipped reverse model: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "reverse.gguf"), reverse, 0o644)
	var info webapp.Info
	eval("load reverse", `attnscope.loadModel('models/reverse.gguf')`, &info)
	var facts string
	eval("facts", `document.getElementById('facts').textContent`, &facts)
	if !strings.Contains(facts, info.Arch) || !strings.Contains(facts, "learned") {
		t.Errorf("the page's model facts after loadModel(reverse): %q", facts)
	}
	eval("run reverse", `attnscope.run('abc', {maxTokens: 0})`, &runResult{})
	img, st := shot(t, eval, "positions", `{pos: 2, dim: 3}`)
	checkDrawn(t, "positions (learned)", img)
	if info.Positional != "learned" || st.NPos != info.NCtx || st.NDim != info.NEmbd || st.Pos != 2 || st.Dim != 3 {
		t.Errorf("learned positions of %+v: state %+v", info, st)
	}
	if shots != "" {
		if b, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
			os.WriteFile(filepath.Join(shots, "page-positions.png"), b, 0o644)
		}
	}
}

// checkEmbed opens embed.html with its state in the hash: the lines view with every head in
// log-probability mode, and a hash whose text is markup, which must stay text.
func checkEmbed(t *testing.T, ctx context.Context, eval evalFunc, base string) {
	hostile := `<img src=x onerror="document.title='owned'">`
	u := base + "/embed.html#model=models/stories260K.gguf&view=lines&layer=1&heads=all&values=logprobs&text=" + strings.ReplaceAll(url.QueryEscape("Once "+hostile), "+", "%20")
	if _, err := chromedp.Run(ctx, chromedp.Navigate(u)); err != nil {
		t.Fatal(err)
	}
	var st struct {
		State  webapp.ViewState
		Error  string
		Images int
		Title  string
	}
	eval("embed", `attnscope.ready.then(async (a) => {
		for (let i = 0; i < 500 && document.getElementById('status').textContent !== '' && !document.getElementById('error').textContent; i++)
			await new Promise((r) => setTimeout(r, 20));
		return {state: a.state(), error: document.getElementById('error').textContent, images: document.images.length, title: document.title};
	})`, &st)
	if st.Error != "" || st.State.View != "lines" || st.State.Layer != 1 || len(st.State.Heads) != 8 || st.State.Values != "logprobs" {
		t.Errorf("embed page: %+v", st)
	}
	if st.Images != 0 || st.Title == "owned" {
		t.Errorf("the hash's text became markup: %d images, title %q", st.Images, st.Title)
	}
	var tokens []string
	eval("embed tokens", `attnscope.trace().tokens.map(t => t.text)`, &tokens)
	if !strings.Contains(strings.Join(tokens, ""), "onerror") {
		t.Errorf("embed trace tokens %q", tokens)
	}
	// A bad hash value is refused in words.
	if _, err := chromedp.Run(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Navigate(base+"/embed.html#model=models/stories260K.gguf&values=scores")); err != nil {
		t.Fatal(err)
	}
	var msg string
	eval("embed bad values", `attnscope.ready.then(async () => {
		for (let i = 0; i < 250 && !document.getElementById('error').textContent; i++) await new Promise((r) => setTimeout(r, 20));
		return document.getElementById('error').textContent;
	})`, &msg)
	if !strings.Contains(msg, "values must be probs or logprobs") {
		t.Errorf("embed with values=scores: %q", msg)
	}
}
