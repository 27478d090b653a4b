package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/attnscope/attnscope/engine/infer"
	"github.com/attnscope/attnscope/engine/quant"
	"github.com/attnscope/attnscope/engine/synth"
)

// tinyModel writes a small llama model (width 64, 2 layers, context 64) and returns its path.
func tinyModel(t *testing.T) string {
	t.Helper()
	var buf bytes.Buffer
	o := synth.Options{Arch: "llama", Dim: 64, Layers: 2, Heads: 4, KVHeads: 2, FFN: 128, Vocab: 600, Ctx: 64, Type: quant.Q8_0, Seed: 3}
	if err := synth.Generate(&buf, o); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "tiny.gguf")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCLI(t *testing.T) {
	path := tinyModel(t)
	var out bytes.Buffer
	if err := cli([]string{"--model", path, "--prompt-tokens", "16", "--gen-tokens", "4", "--runs", "1"}, &out); err != nil {
		t.Fatal(err)
	}
	var r result
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	if !(r.PPTokS > 0) || !(r.TGTokS > 0) || r.Model != "tiny.gguf" || r.PromptTokens != 16 || r.GenTokens != 4 ||
		r.Runs != 1 || r.Threads != 1 || r.SIMD == "" || r.Platform == "" {
		t.Errorf("result %+v", r)
	}
	for _, key := range []string{`"pp_tok_s"`, `"tg_tok_s"`, `"peak_rss_bytes"`, `"simd"`} {
		if !strings.Contains(out.String(), key) {
			t.Errorf("JSON lacks %s (the fields of attnscope bench --json): %s", key, out.String())
		}
	}
}

func TestBadInput(t *testing.T) {
	path := tinyModel(t)
	if err := cli(nil, new(bytes.Buffer)); err == nil || !strings.Contains(err.Error(), "usage") {
		t.Errorf("no model: %v", err)
	}
	if err := cli([]string{"--model", filepath.Join(t.TempDir(), "missing.gguf")}, new(bytes.Buffer)); err == nil {
		t.Error("a missing file gave no error")
	}
	_, err := benchBytes([]byte("not a model"), "notes.gguf", settings{promptTokens: 8, genTokens: 2, runs: 1})
	if err == nil || !strings.Contains(err.Error(), "notes.gguf") {
		t.Errorf("not GGUF: %v", err)
	}
	data, _ := os.ReadFile(path)
	_, err = benchBytes(data, "tiny.gguf", settings{promptTokens: 60, genTokens: 10, runs: 1})
	if !errors.Is(err, infer.ErrTooLong) {
		t.Errorf("70 tokens in a context of 64: %v", err)
	}
	if _, err = benchBytes(data, "tiny.gguf", settings{promptTokens: 8, genTokens: 2}); err == nil {
		t.Error("zero runs accepted")
	}
}
