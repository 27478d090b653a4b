package main

import (
	"fmt"
	"net"
	"net/http"
	"path/filepath"
)

// server serves the pages, the wasm builds, wasm_exec.js, the models and the wllama package
// on 127.0.0.1, every response cross-origin isolated and uncached.
type server struct {
	url string
	srv *http.Server
}

func newServer(c *config) (*server, error) {
	mux := http.NewServeMux()
	page := func(body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, body)
		}
	}
	file := func(path string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, path) }
	}
	mux.HandleFunc("GET /ours.html", page(oursPage))
	mux.HandleFunc("GET /wllama.html", page(wllamaPage))
	mux.HandleFunc("GET /wasm_exec.js", file(filepath.Join(c.wasmExec, "wasm_exec.js")))
	for _, b := range c.builds {
		mux.HandleFunc("GET /wasm/"+b.name+".wasm", file(b.path))
	}
	for _, m := range c.models {
		mux.HandleFunc("GET /models/"+filepath.Base(m), file(m))
	}
	if c.wllama != "" {
		mux.Handle("GET /wllama/", http.StripPrefix("/wllama/", http.FileServer(http.Dir(c.wllama))))
	}
	isolated := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Embedder-Policy", "require-corp")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		mux.ServeHTTP(w, r)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &server{url: "http://" + ln.Addr().String(), srv: &http.Server{Handler: isolated}}
	go s.srv.Serve(ln)
	return s, nil
}

func (s *server) close() { s.srv.Close() }

// oursPage runs one build of bench/wasm: runOurs(wasmURL, modelURL, name, promptTokens,
// genTokens, runs, noWarmup) resolves to the program's JSON text.
const oursPage = `<!doctype html>
<meta charset="utf-8">
<title>attnscope wasm bench</title>
<script src="/wasm_exec.js"></script>
<script>
async function runOurs(wasmURL, modelURL, name, promptTokens, genTokens, runs, noWarmup) {
  const resp = await fetch(modelURL);
  if (!resp.ok) throw new Error(modelURL + ": HTTP " + resp.status);
  const model = new Uint8Array(await resp.arrayBuffer());
  globalThis.attnscopeBench = {model, name, promptTokens, genTokens, runs, noWarmup};
  const go = new Go();
  const {instance} = await WebAssembly.instantiateStreaming(fetch(wasmURL), go.importObject);
  await go.run(instance);
  const b = globalThis.attnscopeBench;
  if (b.error) throw new Error(b.error);
  if (!b.result) throw new Error("the program ended without a result");
  return b.result;
}
</script>
`

// wllamaPage runs llama.cpp's wasm: runWllama(modelURL, text, bans, promptTokens, genTokens, runs,
// noWarmup) resolves to JSON text with the same fields. The text must tokenize to promptTokens
// tokens (BOS included); bans are token ids never to generate (see promptAndBans); each run is
// a fresh completion with the prompt cache off, checked against the counts llama.cpp reports.
// The rates are the ones llama.cpp's server reports (timings.prompt_per_second and
// predicted_per_second), medians over the runs.
const wllamaPage = `<!doctype html>
<meta charset="utf-8">
<title>wllama bench</title>
<script type="module">
import { Wllama } from "/wllama/esm/index.js";
const median = (x) => { const s = [...x].sort((a, b) => a - b); const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2; };
window.runWllama = async (modelURL, text, bans, promptTokens, genTokens, runs, noWarmup) => {
  const w = new Wllama({"default": "/wllama/esm/wasm/wllama.wasm"}, {suppressNativeLog: true});
  await w.loadModelFromUrl(modelURL, {n_threads: 1, n_ctx: promptTokens + genTokens + 16,
    n_batch: promptTokens, n_ubatch: promptTokens, useCache: false});
  const pp = [], tg = [];
  for (let r = noWarmup ? 1 : 0; r <= runs; r++) {
    const res = await w.createCompletion({prompt: text, max_tokens: genTokens, temperature: 0,
      ignore_eos: true, cache_prompt: false, seed: 1, logit_bias: bans.map((id) => [id, false])});
    const t = res.timings;
    if (!t) throw new Error("wllama returned no timings");
    if (t.prompt_n !== promptTokens) throw new Error("wllama evaluated " + t.prompt_n +
      " prompt tokens (" + t.cache_n + " cached), not " + promptTokens);
    if (t.predicted_n !== genTokens) throw new Error("wllama generated " + t.predicted_n + " tokens, not " + genTokens);
    if (r > 0) { pp.push(t.prompt_per_second); tg.push(t.predicted_per_second); }
  }
  const out = {pp_tok_s: median(pp), tg_tok_s: median(tg), threads: w.getNumThreads(),
    simd: "llama.cpp" + (w.isMultithread() ? " (threads)" : "")};
  await w.exit();
  return JSON.stringify(out);
};
window.wllamaReady = true;
</script>
`
