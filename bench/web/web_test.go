package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/attnscope/attnscope/engine/gguf"
	"github.com/attnscope/attnscope/engine/quant"
	"github.com/attnscope/attnscope/engine/synth"
	"github.com/attnscope/attnscope/engine/tokenizer"
)

func tinyModel(t *testing.T) string {
	t.Helper()
	var buf bytes.Buffer
	o := synth.Options{Arch: "llama", Dim: 64, Layers: 1, Heads: 4, KVHeads: 2, FFN: 128, Vocab: 600, Ctx: 256, Type: quant.Q4_0, Seed: 5}
	if err := synth.Generate(&buf, o); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "tiny.gguf")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestPromptText(t *testing.T) {
	path := tinyModel(t)
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tok, err := tokenizer.FromGGUF(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{16, 128} {
		text, err := promptText(path, n)
		if err != nil {
			t.Fatal(err)
		}
		ids, err := tok.Encode(text, true)
		if err != nil || len(ids) != n {
			t.Errorf("n=%d: %q makes %d tokens (%v)", n, text, len(ids), err)
		}
	}
	if _, err := promptText(filepath.Join(t.TempDir(), "missing.gguf"), 8); err == nil {
		t.Error("a missing model gave no error")
	}
}

func TestTable(t *testing.T) {
	c := &config{promptTokens: 128, genTokens: 64}
	rows := []row{
		{Model: "m.gguf", Runtime: "chromium", Engine: "attnscope/simd", PP: 300, TG: 90, SIMD: "simd128"},
		{Model: "m.gguf", Runtime: "chromium", Engine: "attnscope/plain", PP: 100, TG: 45, SIMD: "none"},
		{Model: "m.gguf", Runtime: "chromium", Engine: "wllama", PP: 150, TG: 30, SIMD: "llama.cpp"},
		{Model: "m.gguf", Runtime: "node", Engine: "attnscope/simd", Err: "node: exit status 1: out of memory\nmore"},
	}
	var out bytes.Buffer
	printTable(&out, c, rows)
	var lines []string
	for _, l := range strings.Split(out.String(), "\n") {
		lines = append(lines, strings.Join(strings.Fields(l), " "))
	}
	got := strings.Join(lines, "\n")
	for _, want := range []string{"pp128_tok_s", "tg64_tok_s", "300.0", "FAILED: node: exit status 1: out of memory",
		"attnscope/simd / attnscope/plain 3.00x 2.00x", "attnscope/simd / wllama 2.00x 3.00x",
		"attnscope/plain / wllama 0.67x 1.50x"} {
		if !strings.Contains(got, want) {
			t.Errorf("table lacks %q:\n%s", want, got)
		}
	}
}

func TestCheck(t *testing.T) {
	path := tinyModel(t)
	for name, c := range map[string]config{
		"no models":    {node: true, builds: buildFlags{{"simd", path}}, promptTokens: 1, genTokens: 1, runs: 1},
		"no runtime":   {models: []string{path}, promptTokens: 1, genTokens: 1, runs: 1},
		"no build":     {models: []string{path}, node: true, promptTokens: 1, genTokens: 1, runs: 1},
		"missing file": {models: []string{path + ".x"}, wllama: t.TempDir(), promptTokens: 1, genTokens: 1, runs: 1},
		"zero runs":    {models: []string{path}, wllama: t.TempDir(), promptTokens: 1, genTokens: 1},
	} {
		if err := c.check(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	var b buildFlags
	if err := b.Set("simd"); err == nil {
		t.Error("--wasm without a file accepted")
	}
}

func TestParseResult(t *testing.T) {
	if _, err := parseResult(`{"pp_tok_s":0,"tg_tok_s":1}`); err == nil {
		t.Error("a zero speed accepted")
	}
	if _, err := parseResult(`oops`); err == nil {
		t.Error("non-JSON accepted")
	}
	if r, err := parseResult(`{"pp_tok_s":2,"tg_tok_s":1,"simd":"x"}`); err != nil || r.PP != 2 || r.SIMD != "x" {
		t.Errorf("%+v %v", r, err)
	}
}
