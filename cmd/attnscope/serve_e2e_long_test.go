package main

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/attnscope/attnscope/engine/infer"
	"github.com/attnscope/attnscope/engine/presets"
	"github.com/attnscope/attnscope/engine/quant"
	"github.com/attnscope/attnscope/engine/synth"
	"github.com/attnscope/attnscope/internal/webapp"
)

// longTokens is the prompt of the long run: the prompt's tokens, the start token included.
const longTokens = 10000

// keepMemory, put ahead of the page's scripts, keeps the engine's wasm memory where the test
// can read its size (window.attnscopeMemory): the page does not expose it.
const keepMemory = `<script>
(() => {
  const keep = (r) => { const inst = r.instance || r; if (inst.exports && inst.exports.mem) window.attnscopeMemory = inst.exports.mem; return r; };
  const streaming = WebAssembly.instantiateStreaming, instantiate = WebAssembly.instantiate;
  WebAssembly.instantiateStreaming = (...a) => streaming.apply(WebAssembly, a).then(keep);
  WebAssembly.instantiate = (...a) => instantiate.apply(WebAssembly, a).then(keep);
})();
</script>
`

// TestBrowserLongRun prefills a 16,384-context s15m model with a 10,000-token text through the
// page's own controls (shipped model list, text box, Run) and checks that every head of every
// layer was captured pooled, that the pooled views draw, and that the engine's wasm memory at the
// end (wasm memory never shrinks, so this is its peak) stays under the weights, the KV cache and
// infer.Headroom. It takes many minutes: set ATTNSCOPE_LONG_BROWSER=1 to run it.
// ATTNSCOPE_LONG_MODEL names a model file to use instead of the synthesized one, and
// ATTNSCOPE_LONG_LIMIT (a duration, 30m unless set) how long the run may take.
func TestBrowserLongRun(t *testing.T) {
	if os.Getenv("ATTNSCOPE_LONG_BROWSER") != "1" {
		t.Skip("the 10,000-token browser run takes many minutes: set ATTNSCOPE_LONG_BROWSER=1 to run it")
	}
	chrome := findChromium(t)
	start := time.Now()
	web := buildPage(t)
	page, err := os.ReadFile(filepath.Join(web, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	page = bytes.Replace(page, []byte(`<script src="wasm_exec.js">`), []byte(keepMemory+`<script src="wasm_exec.js">`), 1)
	if err := os.WriteFile(filepath.Join(web, "index.html"), page, 0o644); err != nil {
		t.Fatal(err)
	}
	models := t.TempDir()
	const name = "s15m-16k-q8_0.gguf"
	modelBytes := longModel(t)
	if err := os.WriteFile(filepath.Join(models, name), modelBytes, 0o644); err != nil {
		t.Fatal(err)
	}

	// The text, and the bound, from the same model natively.
	l, info, err := webapp.Load(modelBytes)
	if err != nil {
		t.Fatal(err)
	}
	text, n := longText(t, l, longTokens)
	weights := l.Model.WeightBytes()
	perToken := l.Model.Config().KVBytesPerToken()
	bound := weights + int64(n)*perToken + infer.Headroom
	boundCtx := weights + int64(info.NCtx)*perToken + infer.Headroom
	l.Close()
	t.Logf("model %s: %d layers × %d heads, context %d, %s; text of %d bytes, %d tokens", name, info.NLayer, info.NHead, info.NCtx, info.Quant, len(text), n)

	srv := httptest.NewServer(newServeHandler(web, models))
	defer srv.Close()
	ctx := headless(t, chrome, chromedp.Flag("enable-precise-memory-info", true))
	eval := evaluator(t, ctx, 2*time.Minute)
	type memory struct {
		Wasm   int64 `json:"wasm"`   // bytes of the engine's wasm memory
		JSUsed int64 `json:"jsUsed"` // performance.memory.usedJSHeapSize (0 without it)
		JS     int64 `json:"js"`     // performance.memory.totalJSHeapSize
	}
	const memJS = `({wasm: window.attnscopeMemory ? attnscopeMemory.buffer.byteLength : 0,
		jsUsed: performance.memory ? performance.memory.usedJSHeapSize : 0,
		js: performance.memory ? performance.memory.totalJSHeapSize : 0})`
	mib := func(b int64) float64 { return float64(b) / (1 << 20) }

	if _, err := chromedp.Run(ctx, chromedp.Navigate(srv.URL+"/index.html")); err != nil {
		t.Fatal(err)
	}
	var idle memory
	eval("memory before loading", `attnscope.ready.then(() => `+memJS+`)`, &idle)
	// The model from the page's list, as a user picks it.
	var picked string
	eval("pick the model", fmt.Sprintf(`(async () => {
		await attnscope.ready;
		await attnscope.modelList;
		const sel = document.getElementById('shipped');
		const o = [...sel.options].find((o) => o.textContent.startsWith(%q));
		if (!o) return 'not listed: ' + [...sel.options].map((o) => o.textContent).join(', ');
		sel.value = o.value;
		document.getElementById('load-shipped').click();
		return o.value;
	})()`, name), &picked)
	if !strings.HasSuffix(picked, name) {
		t.Fatalf("the page's model list: %s", picked)
	}
	lctx, lcancel := context.WithTimeout(ctx, 2*time.Minute)
	status, err := chromedp.Run(lctx, chromedp.Poll[string](`(() => { const s = document.getElementById('status').textContent, e = document.getElementById('error').textContent;
		return e ? 'error: ' + e : s.startsWith('loaded') ? s : ''; })()`))
	lcancel()
	if err != nil || !strings.HasPrefix(status, "loaded") {
		t.Fatalf("loading the model: %q %v", status, err)
	}
	var loaded memory
	eval("memory after loading", memJS, &loaded)
	t.Logf("wasm memory %.1f MiB before loading the model, %.1f MiB after", mib(idle.Wasm), mib(loaded.Wasm))

	// The text into the text box, no tokens to generate, Run.
	var clicked bool
	eval("run", fmt.Sprintf(`(() => {
		document.getElementById('prompt').value = %s;
		document.getElementById('max-tokens').value = '0';
		try { attnscope.show('head', {layer: 0, head: 0}); } catch (e) {}
		document.getElementById('run').click();
		return true;
	})()`, strconv.Quote(text)), &clicked)
	t0 := time.Now()
	limit := 30 * time.Minute
	if v := os.Getenv("ATTNSCOPE_LONG_LIMIT"); v != "" {
		if limit, err = time.ParseDuration(v); err != nil {
			t.Fatalf("ATTNSCOPE_LONG_LIMIT=%s: %v (a duration such as 45m)", v, err)
		}
	}
	var done string
	for last := time.Now(); ; {
		var p struct {
			Status string `json:"status"`
			Error  string `json:"error"`
			Tokens int    `json:"tokens"`
			Mem    memory `json:"mem"`
		}
		eval("progress", `(() => { const st = attnscope.state(); return {status: document.getElementById('status').textContent,
			error: document.getElementById('error').textContent, tokens: st.window ? st.window[1] : 0, mem: `+memJS+`}; })()`, &p)
		if p.Error != "" {
			t.Fatalf("after %.0f s (%d tokens shown): the page says %q", time.Since(t0).Seconds(), p.Tokens, p.Error)
		}
		if strings.Contains(p.Status, "prompt tokens") {
			done = p.Status
			break
		}
		if time.Since(t0) > limit {
			t.Fatalf("not done after %v: %d of %d tokens, %.1f tokens/s, wasm memory %.1f MiB (bound %.1f MiB)",
				limit, p.Tokens, n, float64(p.Tokens)/time.Since(t0).Seconds(), mib(p.Mem.Wasm), mib(bound))
		}
		if time.Since(last) >= time.Minute {
			t.Logf("%4.0f s: %d tokens (%.1f tokens/s), wasm memory %.1f MiB", time.Since(t0).Seconds(), p.Tokens, float64(p.Tokens)/time.Since(t0).Seconds(), mib(p.Mem.Wasm))
			last = time.Now()
		}
		time.Sleep(5 * time.Second)
	}
	wall := time.Since(t0).Seconds()
	var end memory
	eval("memory at the end", memJS, &end)
	t.Logf("page: %q", done)

	// The pooled views: the grid of every head and one head, enlarged.
	shots := os.Getenv("ATTNSCOPE_E2E_SHOTS")
	for _, v := range []struct{ view, opts string }{
		{"model", `{layer: 0, head: 0, token: -1}`},
		{"head", fmt.Sprintf(`{layer: %d, head: %d, token: -1, zoom: 1, focusQuery: -1, focusKey: -1}`, info.NLayer-1, info.NHead-1)},
	} {
		img, st := shot(t, eval, v.view, v.opts)
		checkDrawn(t, v.view+" (pooled)", img)
		if v.view == "head" && st.Window != [4]int{0, n, 0, n} {
			t.Errorf("pooled head view: window %v, want all %d tokens", st.Window, n)
		}
		if shots != "" {
			var buf bytes.Buffer
			if err := png.Encode(&buf, img); err == nil {
				os.WriteFile(filepath.Join(shots, "long-"+v.view+".png"), buf.Bytes(), 0o644)
			}
		}
	}
	var hit webapp.Hit
	eval("hover", `(() => { const c = document.getElementById('view'); return attnscope.at(c.width / 3 | 0, c.height / 2 | 0); })()`, &hit)
	if hit.Kind != "cell" || hit.Key > hit.Query {
		t.Errorf("hover over the pooled head view: %+v", hit)
	}
	var afterViews memory
	eval("memory after the views", memJS, &afterViews)

	// The trace (a large JSON export: read last, after the memory figures).
	var tr struct {
		Capture string `json:"capture"`
		Tokens  int    `json:"tokens"`
		Layers  []struct {
			Exact  int   `json:"exact"`
			Pooled []int `json:"pooled"` // per head, the tokens its map covers
			Cells  []int `json:"cells"`
		} `json:"layers"`
	}
	eval("trace", `(() => { const t = attnscope.trace(); return {capture: t.capture, tokens: t.tokens.length,
		layers: t.layers.map((l) => ({exact: l.heads.reduce((a, h) => a + h.length, 0),
			pooled: (l.pooled || []).map((p) => p.n), cells: (l.pooled || []).map((p) => p.cells)}))}; })()`, &tr)
	if tr.Capture != "pooled" || tr.Tokens != n || len(tr.Layers) != info.NLayer {
		t.Fatalf("trace: capture %q, %d tokens, %d layers (want pooled, %d, %d)", tr.Capture, tr.Tokens, len(tr.Layers), n, info.NLayer)
	}
	for li, layer := range tr.Layers {
		if len(layer.Pooled) != info.NHead || layer.Exact != 0 {
			t.Errorf("layer %d: %d pooled heads, %d exact rows (want %d pooled, none exact)", li, len(layer.Pooled), layer.Exact, info.NHead)
		}
		for h, covered := range layer.Pooled {
			if covered != n || layer.Cells[h] < 2 {
				t.Errorf("layer %d head %d: pooled map over %d tokens in %d cells", li, h, covered, layer.Cells[h])
			}
		}
	}
	var afterTrace memory
	eval("memory after the trace", memJS, &afterTrace)

	if end.Wasm == 0 {
		t.Error("the page's wasm memory was not found")
	} else if end.Wasm > bound {
		t.Errorf("wasm memory at the end of the run %.1f MiB is over weights %.1f + KV cache %.1f (%d tokens) + %.0f MiB = %.1f MiB",
			mib(end.Wasm), mib(weights), mib(int64(n)*perToken), n, mib(infer.Headroom), mib(bound))
	}
	t.Logf("%d tokens prefilled in %.1f s in the page: %.1f tokens/s", n, wall, float64(n)/wall)
	t.Logf("wasm memory: %.1f MiB after loading, %.1f MiB at the end of the run (its peak), %.1f MiB after drawing the views, %.1f MiB after exporting the trace as JSON",
		mib(loaded.Wasm), mib(end.Wasm), mib(afterViews.Wasm), mib(afterTrace.Wasm))
	t.Logf("bound: weights %.1f MiB + KV cache %.1f MiB (%d tokens) + %.0f MiB = %.1f MiB; with the KV cache at the whole context (%d) %.1f MiB",
		mib(weights), mib(int64(n)*perToken), n, mib(infer.Headroom), mib(bound), info.NCtx, mib(boundCtx))
	t.Logf("JS heap (performance.memory): %.1f MiB used of %.1f MiB at the end of the run, %.1f of %.1f MiB after the trace",
		mib(end.JSUsed), mib(end.JS), mib(afterTrace.JSUsed), mib(afterTrace.JS))
	t.Logf("whole test %.1f s", time.Since(start).Seconds())
}

// longModel is the model of the long run: ATTNSCOPE_LONG_MODEL, or s15m with a context of 16,384
// in Q8_0 as `attnscope synth --preset s15m --ctx 16384 --type q8_0` writes it.
func longModel(t *testing.T) []byte {
	t.Helper()
	if p := os.Getenv("ATTNSCOPE_LONG_MODEL"); p != "" {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	p, err := presets.Get("s15m")
	if err != nil {
		t.Fatal(err)
	}
	o := synth.Options{Arch: p.Arch, Name: "s15m", Dim: p.Dim, Layers: p.Layers, Heads: p.Heads, KVHeads: p.KVHeads,
		FFN: p.FFN, Vocab: p.Vocab, Ctx: 16384, Type: quant.Q8_0, Seed: 1}
	var buf bytes.Buffer
	if err := synth.Generate(&buf, o); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// longText is a text of exactly want tokens for l (the start token included) when words and
// single letters can make it so, else of the fewest tokens over want; it returns the count.
func longText(t *testing.T, l *infer.Loaded, want int) (string, int) {
	t.Helper()
	s := l.NewSession(infer.Options{})
	count := func(text string) int {
		ids, _, err := s.Tokenize(text, true)
		if err != nil {
			t.Fatal(err)
		}
		return len(ids)
	}
	words := strings.Fields(`the river ran past old stone houses where children played until the evening
		light turned gold and a baker closed his shop while travellers counted coins for bread and tea
		under quiet hills a small boat waited for the morning tide and the wind carried songs of sailors`)
	var b strings.Builder
	var ends []int // ends[i]: the text's length after i+1 words
	for i := 0; b.Len() < 8*want; i++ {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(words[(i*7+i/len(words))%len(words)])
		ends = append(ends, b.Len())
	}
	all := b.String()
	// The most words within want tokens.
	lo, hi := 0, len(ends)-1
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if count(all[:ends[mid]]) <= want {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	text := all[:ends[lo]]
	n := count(text)
	for n < want {
		text += " a"
		n = count(text)
	}
	return text, n
}
