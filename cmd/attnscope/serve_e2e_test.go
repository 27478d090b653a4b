package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"math"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/attnscope/attnscope/internal/shareddata"
	"github.com/attnscope/attnscope/internal/webapp"
)

// findChromium returns the headless browser to drive, or skips (fails when test data is required).
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "no chromium on PATH: the browser end-to-end test needs it (make deps-test installs Debian's chromium)"
	if shareddata.Required() {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// buildPage copies the page into a fresh directory with a freshly built attnscope.wasm and the
// toolchain's wasm_exec.js.
func buildPage(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join("..", "..", "web")
	for _, name := range []string{"index.html", "embed.html", "scene.html", "app.js", "boot.js", "style.css"} {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	goTool := filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	if _, err := os.Stat(goTool); err != nil {
		goTool = "go"
	}
	for out, pkg := range map[string]string{"attnscope.wasm": "../../wasm", "scene.wasm": "../../wasm/scene"} {
		cmd := exec.Command(goTool, "build", "-trimpath", "-ldflags=-s -w", "-o", filepath.Join(dir, out), pkg)
		cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
		if msg, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("building %s: %v\n%s", out, err, msg)
		}
	}
	out, err := exec.Command(goTool, "env", "GOROOT").Output()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "lib", "wasm", "wasm_exec.js"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "wasm_exec.js"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

type pageTrace struct {
	Tokens []struct {
		ID   int32  `json:"id"`
		Text string `json:"text"`
	} `json:"tokens"`
	Layers []struct {
		Heads [][][]float64 `json:"heads"`
	} `json:"layers"`
	KV []struct {
		Pos int `json:"pos"`
		N   int `json:"n"`
		KV  struct {
			Tokens        int     `json:"tokens"`
			BytesPerLayer []int64 `json:"bytes_per_layer"`
		} `json:"kv"`
	} `json:"kv"`
}

type runResult struct {
	PromptTokens []int32              `json:"promptTokens"`
	Generated    []int32              `json:"generated"`
	Text         string               `json:"text"`
	Stopped      bool                 `json:"stopped"`
	Top          [][]webapp.Candidate `json:"top"`
	DecodeSecs   float64              `json:"decodeSeconds"`
	Ms           float64              `json:"ms"`
	MaxGap       float64              `json:"maxGap"`
	AtMs         float64              `json:"atMs"`
	Long         []float64            `json:"long"`
}

// TestBrowserApp loads the page in headless Chromium, runs stories260K through the JS API and
// checks the ids against llama.cpp, the trace against the native engine and the drawn views.
func TestBrowserApp(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the browser end-to-end test builds the wasm and starts Chromium")
	}
	chrome := findChromium(t)
	modelPath := shareddata.Path(t, "models/stories260K.gguf")
	ref := shareddata.LoadReference(t, "stories260K.json")
	var want []int32
	if v := ref.Variant("stories260K.gguf", false); v != nil {
		for _, r := range v.Results {
			if r.Prompt == "Once upon a time" && r.Greedy != nil && len(r.Greedy.IDs) >= 8 {
				want = r.Greedy.IDs[:8]
			}
		}
	}
	if want == nil {
		t.Fatal("stories260K.json has no greedy ids for \"Once upon a time\"")
	}
	start := time.Now()
	web := buildPage(t)
	t.Logf("wasm built in %.1f s", time.Since(start).Seconds())
	models := t.TempDir()
	modelBytes, err := os.ReadFile(modelPath)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(models, "stories260K.gguf"), modelBytes, 0o644)
	if b, err := os.ReadFile(shareddata.Path(t, "models/llama-2-tiny-random.gguf")); err == nil {
		os.WriteFile(filepath.Join(models, "llama-2-tiny-random.gguf"), b, 0o644)
	}
	var wasmGz bytes.Buffer
	wasmRaw, err := os.ReadFile(filepath.Join(web, "attnscope.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	zw, _ := gzip.NewWriterLevel(&wasmGz, gzip.DefaultCompression)
	zw.Write(wasmRaw)
	zw.Close()
	t.Logf("attnscope.wasm: %.2f MiB, %.2f MiB gzipped (as attnscope serve sends it)", float64(len(wasmRaw))/(1<<20), float64(wasmGz.Len())/(1<<20))
	notModel := filepath.Join(t.TempDir(), "notes.gguf")
	os.WriteFile(notModel, []byte("these are notes, not a model\n"), 0o644)
	srv := httptest.NewServer(newServeHandler(web, models))
	defer srv.Close()

	ctx := headless(t, chrome)
	eval := evaluator(t, ctx, 30*time.Second)

	if _, err := chromedp.Run(ctx, chromedp.Navigate(srv.URL+"/index.html")); err != nil {
		t.Fatal(err)
	}
	var readyMs float64
	eval("ready", `attnscope.ready.then(a => a.readyMs)`, &readyMs)
	var info webapp.Info
	eval("loadModel", `attnscope.loadModel('models/stories260K.gguf')`, &info)
	if info.Arch != "llama" || info.NLayer != 5 || info.Bytes != int64(len(modelBytes)) {
		t.Errorf("model facts %+v", info)
	}
	const runJS = `(async () => {
		let last = performance.now(), maxGap = 0, going = true;
		const tick = () => { const now = performance.now(); maxGap = Math.max(maxGap, now - last); last = now; if (going) requestAnimationFrame(tick); };
		requestAnimationFrame(tick);
		const long = [];
		const obs = new PerformanceObserver((l) => { for (const e of l.getEntries()) long.push(Math.round(e.duration)); });
		try { obs.observe({entryTypes: ['longtask']}); } catch (e) {}
		const t0 = performance.now();
		const r = await attnscope.run(%s, {maxTokens: 8, temperature: 0});
		r.ms = performance.now() - t0;
		r.atMs = performance.now();
		going = false;
		r.maxGap = maxGap;
		await new Promise((res) => setTimeout(res, 0));
		obs.disconnect();
		r.long = long;
		return r;
	})()`
	// The worst frame gap of the idle page, to read the gaps during runs against.
	var idleGap float64
	eval("idle frames", `new Promise((done) => {
		let last = performance.now(), worst = 0;
		const t0 = last;
		const tick = (now) => { worst = Math.max(worst, now - last); last = now; if (now - t0 < 1000) requestAnimationFrame(tick); else done(worst); };
		requestAnimationFrame(tick);
	})`, &idleGap)
	var res runResult
	eval("run", fmt.Sprintf(runJS, `'Once upon a time'`), &res)
	if !slices.Equal(res.Generated, want) {
		t.Errorf("page generated %v, llama.cpp %v", res.Generated, want)
	}

	// The same run natively: ids and every attention weight must agree.
	l, _, err := webapp.Load(modelBytes)
	if err != nil {
		t.Fatal(err)
	}
	nativeStart := time.Now()
	s, nres, err := webapp.Run(context.Background(), l, "Once upon a time", webapp.RunOptions{MaxTokens: 8}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	nativeSecs := time.Since(nativeStart).Seconds()
	var traceStr string
	eval("trace", `JSON.stringify(attnscope.trace())`, &traceStr)
	var got pageTrace
	if err := json.Unmarshal([]byte(traceStr), &got); err != nil {
		t.Fatal(err)
	}
	compareTrace(t, &got, s.Trace.Tokens, webapp.Trace(s.Trace))

	shots := os.Getenv("ATTNSCOPE_E2E_SHOTS") // a directory to keep the views' pictures in
	var showMs []string                       // how long each view takes to draw in the page
	for _, view := range webapp.Views {
		var dataURL string
		var ms float64
		eval("time "+view, fmt.Sprintf(`(() => { const t0 = performance.now(); attnscope.show(%q, {layer: 1, head: 2, token: -1}); return performance.now() - t0; })()`, view), &ms)
		showMs = append(showMs, fmt.Sprintf("%s %.0f", view, ms))
		eval("show "+view, fmt.Sprintf(`(() => { attnscope.show(%q, {layer: 1, head: 2, token: -1}); return document.getElementById('view').toDataURL('image/png'); })()`, view), &dataURL)
		img := decodeDataURL(t, dataURL)
		checkDrawn(t, view, img)
		if shots != "" {
			os.WriteFile(filepath.Join(shots, view+".png"), pngBytes(t, dataURL), 0o644)
		}
	}
	// Hover read-out and the next-token candidates.
	var hit webapp.Hit
	eval("hover", `(() => { attnscope.show('head', {layer: 0, head: 0, token: -1}); const c = document.getElementById('view'); return attnscope.at(c.width / 3 | 0, c.height / 2 | 0); })()`, &hit)
	if hit.Kind != "cell" || hit.From == "" || hit.To == "" || hit.Key > hit.Query && hit.P != 0 {
		t.Errorf("hover over the head view: %+v", hit)
	}
	if len(res.Top) != len(res.Generated) || len(res.Top) > 0 && res.Top[0][0].ID != res.Generated[0] {
		t.Errorf("next-token candidates %+v for %v", res.Top, res.Generated)
	}
	checkViewOptions(t, eval, len(res.PromptTokens)+len(res.Generated), info.NHead)
	// Stop ends a long run early and keeps what it has.
	var stopped runResult
	eval("stop", `(() => { const p = attnscope.run('Once upon a time', {maxTokens: 1000}); setTimeout(() => attnscope.stop(), 30); return p; })()`, &stopped)
	if !stopped.Stopped || len(stopped.Generated) >= 1000 {
		t.Errorf("stop: stopped=%v after %d tokens", stopped.Stopped, len(stopped.Generated))
	}

	// kvCache 'f16': the same run with half the KV bytes; an unknown type is refused.
	var kv struct {
		F32, F16 struct {
			KV struct {
				Tokens int     `json:"tokens"`
				Bytes  []int64 `json:"bytes_per_layer"`
			} `json:"kv"`
		}
		Bad string
	}
	eval("kvCache", `(async () => {
		const last = () => { const k = attnscope.trace().kv; return k[k.length - 1]; };
		await attnscope.run('Once upon a time', {maxTokens: 4, temperature: 0});
		const f32 = last();
		await attnscope.run('Once upon a time', {maxTokens: 4, temperature: 0, kvCache: 'f16'});
		const f16 = last();
		const bad = await attnscope.run('x', {kvCache: 'q4_0'}).then(() => 'ran', (e) => e.message);
		return {F32: f32, F16: f16, Bad: bad};
	})()`, &kv)
	if kv.F32.KV.Tokens == 0 || kv.F16.KV.Tokens != kv.F32.KV.Tokens || len(kv.F16.KV.Bytes) != len(kv.F32.KV.Bytes) ||
		len(kv.F32.KV.Bytes) == 0 || 2*kv.F16.KV.Bytes[0] != kv.F32.KV.Bytes[0] || !strings.Contains(kv.Bad, "f32 or f16") {
		t.Errorf("kvCache: f32 %+v, f16 %+v, unknown type: %q", kv.F32.KV, kv.F16.KV, kv.Bad)
	}

	var pngLen int
	eval("exportPNG", `attnscope.exportPNG().then(b => b.type === 'image/png' ? b.size : -1)`, &pngLen)
	if pngLen < 1000 {
		t.Errorf("exportPNG: %d bytes", pngLen)
	}

	// A file that is not a model: the page says so, and a model still runs afterwards.
	uctx, ucancel := context.WithTimeout(ctx, 20*time.Second)
	defer ucancel()
	if _, err := chromedp.Run(uctx, chromedp.SetUploadFiles("#file", []string{notModel})); err != nil {
		t.Fatalf("uploading a non-GGUF file: %v", err)
	}
	errText, err := chromedp.Run(uctx, chromedp.Poll[string](`document.getElementById('error').textContent`, chromedp.WithPollingTimeout(10*time.Second)))
	if err != nil {
		t.Fatalf("waiting for the error of a non-GGUF upload: %v", err)
	}
	if !strings.Contains(errText, "not a GGUF") {
		t.Errorf("error shown for a non-GGUF upload: %q", errText)
	}
	checkBadUploads(t, ctx, t.TempDir())
	var rejected string
	eval("loadModel(bytes)", `attnscope.loadModel(new Uint8Array([1,2,3,4,5])).then(() => 'loaded', e => e.message)`, &rejected)
	if !strings.Contains(rejected, "not a GGUF") {
		t.Errorf("loadModel(non-GGUF bytes): %q", rejected)
	}
	eval("reload", `fetch('models/stories260K.gguf').then(r => r.arrayBuffer()).then(b => attnscope.loadModel(b))`, &info)
	var again runResult
	eval("run again", fmt.Sprintf(runJS, `'Once upon a time'`), &again)
	if !slices.Equal(again.Generated, want) {
		t.Errorf("after the bad upload the page generated %v, want %v", again.Generated, want)
	}
	// A longer run for the decoding rate and the frame gaps over many slices.
	var long runResult
	eval("run 64", strings.Replace(fmt.Sprintf(runJS, `'Once upon a time'`), "maxTokens: 8", "maxTokens: 64", 1), &long)
	var hangul runResult
	eval("run Hangul", fmt.Sprintf(runJS, `'안녕하세요 transformer'`), &hangul)
	var nTok int
	eval("Hangul trace", `attnscope.trace().tokens.length`, &nTok)
	if nTok != len(hangul.PromptTokens)+len(hangul.Generated) {
		t.Errorf("Hangul run: trace has %d tokens, run %d+%d", nTok, len(hangul.PromptTokens), len(hangul.Generated))
	}
	checkHangulLabels(t, eval)

	// Navigation to the first attention map again, with the server's gzip cache warm.
	if _, err := chromedp.Run(ctx, chromedp.Navigate(srv.URL+"/index.html")); err != nil {
		t.Fatal(err)
	}
	var warmMs float64
	eval("warm reload", `(async () => {
		await attnscope.ready;
		await attnscope.loadModel('models/stories260K.gguf');
		await attnscope.run('Once upon a time', {maxTokens: 8, temperature: 0});
		attnscope.show('head', {layer: 0, head: 0});
		return performance.now();
	})()`, &warmMs)

	checkEmbed(t, ctx, eval, srv.URL)

	// The Ebiten scene page draws the same views on its own canvas.
	if _, err := chromedp.Run(ctx, chromedp.Navigate(srv.URL+"/scene.html#model=models/stories260K.gguf&view=head&layer=1&head=2")); err != nil {
		t.Fatal(err)
	}
	sctx, scancel := context.WithTimeout(ctx, 30*time.Second)
	defer scancel()
	state, err := chromedp.Run(sctx, chromedp.Poll[string](`window.attnscene && attnscene.state !== 'loading' && attnscene.state`))
	if err != nil || state != "ready" {
		msg, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`String(window.attnscene && attnscene.error)`))
		t.Fatalf("scene page: %q %v %s", state, err, msg)
	}
	time.Sleep(500 * time.Millisecond) // a few frames
	shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatal(err)
	}
	checkDrawn(t, "head", img)
	if shots != "" {
		os.WriteFile(filepath.Join(shots, "scene-head.png"), shot, 0o644)
	}

	pageTPS := float64(len(res.Generated)) / res.DecodeSecs
	nativeTPS := float64(len(nres.Generated)) / nres.DecodeSecs
	t.Logf("engine ready %.0f ms after navigation; first attention map drawn %.0f ms after navigation (load + run included); %.0f ms on a second visit", readyMs, res.AtMs, warmMs)
	t.Logf("run of 8 tokens: page %.0f ms (%.0f tokens/s decoding), native %.1f ms (%.0f tokens/s); worst frame gap during the run %.0f ms (long tasks %v ms; second run %.0f ms, long tasks %v ms)",
		res.Ms, pageTPS, nativeSecs*1000, nativeTPS, res.MaxGap, res.Long, again.MaxGap, again.Long)
	t.Logf("run of %d tokens: %.0f tokens/s decoding in the page, worst frame gap %.0f ms (long tasks %v ms); idle page's worst frame gap %.0f ms",
		len(long.Generated), float64(len(long.Generated))/long.DecodeSecs, long.MaxGap, long.Long, idleGap)
	checkDefaultModel(t, ctx, eval, web, modelBytes)
	t.Logf("drawing a view in the page (ms): %s", strings.Join(showMs, ", "))
	t.Logf("whole test %.1f s", time.Since(start).Seconds())
}

func compareTrace(t *testing.T, got *pageTrace, tokens any, want *webapp.TraceJSON) {
	t.Helper()
	if len(got.Tokens) != len(want.Tokens) {
		t.Fatalf("page trace has %d tokens, native %d", len(got.Tokens), len(want.Tokens))
	}
	for i, tk := range want.Tokens {
		if got.Tokens[i].ID != tk.ID || got.Tokens[i].Text != tk.Text {
			t.Errorf("token %d: page %d %q, native %d %q", i, got.Tokens[i].ID, got.Tokens[i].Text, tk.ID, tk.Text)
		}
	}
	if len(got.Layers) != len(want.Layers) || len(got.KV) == 0 || len(want.KV) == 0 {
		t.Fatalf("page trace has %d layers and %d KV steps, native %d and %d", len(got.Layers), len(got.KV), len(want.Layers), len(want.KV))
	}
	// The page evaluates the prompt in chunks sized to its time budget, so its steps may split the
	// prompt differently; they must cover the same positions and end with the same cache.
	pos := 0
	for i, st := range got.KV {
		if st.Pos != pos || st.N <= 0 || st.KV.Tokens != pos+st.N {
			t.Errorf("page KV step %d: pos %d, %d tokens, cache %d (expected pos %d)", i, st.Pos, st.N, st.KV.Tokens, pos)
		}
		pos += st.N
	}
	last, wlast := got.KV[len(got.KV)-1].KV, want.KV[len(want.KV)-1].KV
	if last.Tokens != wlast.Tokens || !slices.Equal(last.BytesPerLayer, wlast.BytesPerLayer) {
		t.Errorf("page KV cache at the end: %d tokens %v bytes, native %d %v", last.Tokens, last.BytesPerLayer, wlast.Tokens, wlast.BytesPerLayer)
	}
	worst := 0.0
	for l := range want.Layers {
		if len(got.Layers[l].Heads) != len(want.Layers[l].Heads) {
			t.Fatalf("layer %d: %d heads, native %d", l, len(got.Layers[l].Heads), len(want.Layers[l].Heads))
		}
		for h, m := range want.Layers[l].Heads {
			for q, row := range m {
				if len(got.Layers[l].Heads[h][q]) != len(row) {
					t.Fatalf("L%d H%d row %d: %d keys, native %d", l, h, q, len(got.Layers[l].Heads[h][q]), len(row))
				}
				for k, p := range row {
					worst = math.Max(worst, math.Abs(got.Layers[l].Heads[h][q][k]-float64(p)))
				}
			}
		}
	}
	if worst > 1e-5 {
		t.Errorf("page and native attention differ by up to %g (want ≤ 1e-5)", worst)
	}
	t.Logf("page vs native attention: largest difference %g", worst)
}

func pngBytes(t *testing.T, dataURL string) []byte {
	t.Helper()
	b64, ok := strings.CutPrefix(dataURL, "data:image/png;base64,")
	if !ok {
		t.Fatalf("not a PNG data URL: %.40q", dataURL)
	}
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decodeDataURL(t *testing.T, dataURL string) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(pngBytes(t, dataURL)))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// checkDrawn fails when a view's picture is blank: it must have many colours, and the attention
// views must show colours from the heatmap's colour map (viridis: more green/blue than red).
func checkDrawn(t *testing.T, view string, img image.Image) {
	t.Helper()
	b := img.Bounds()
	if b.Dx() < 200 || b.Dy() < 40 {
		t.Errorf("%s view: picture is only %v", view, b.Size())
		return
	}
	colours := map[[3]uint32]int{}
	viridis := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			colours[[3]uint32{r >> 8, g >> 8, bl >> 8}]++
			if r>>8 < 80 && g>>8 > 20 && bl>>8 > 60 { // the dark purple to teal end of viridis
				viridis++
			}
		}
	}
	minColours := 20
	if view == "positions" {
		minColours = 2
	}
	if len(colours) < minColours {
		t.Errorf("%s view: only %d colours: blank?", view, len(colours))
	}
	if (view == "model" || view == "head" || view == "generation") && viridis < 200 {
		t.Errorf("%s view: only %d pixels in heatmap colours", view, viridis)
	}
}

// headless starts Debian's chromium (chrome) headless with the flags that work on this kind of
// machine, and extra ones, in a fresh profile, and returns its context; the browser's errors are
// logged when the test fails, and it stops when the test ends.
func headless(t *testing.T, chrome string, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	opts := append([]chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chrome),
		chromedp.Flag("headless", "new"),
		chromedp.NoSandbox,
		chromedp.Flag("use-angle", "swiftshader"),
		chromedp.Flag("enable-unsafe-swiftshader", true),
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}, extra...)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	var mu sync.Mutex
	var logs []string
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithErrorf(func(f string, a ...any) {
		mu.Lock()
		logs = append(logs, fmt.Sprintf(f, a...))
		mu.Unlock()
	}))
	t.Cleanup(func() {
		mu.Lock()
		if t.Failed() && len(logs) > 0 {
			t.Logf("browser errors:\n%s", strings.Join(logs, "\n"))
		}
		mu.Unlock()
		cancel()
		cancelA()
	})
	return ctx
}

// evaluator returns a function that evaluates a JavaScript expression in the page of ctx (a
// promise is awaited) within timeout and decodes its JSON value into out, failing the test on
// an error; what names the step in the failure.
func evaluator(t *testing.T, ctx context.Context, timeout time.Duration) func(what, expr string, out any) {
	return func(what, expr string, out any) {
		t.Helper()
		ectx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		raw, err := chromedp.Run(ectx, chromedp.Evaluate[[]byte](expr, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s: %v (%.200s)", what, err, raw)
		}
	}
}
