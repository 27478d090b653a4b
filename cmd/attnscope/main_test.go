package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/attnscope/attnscope/internal/shareddata"
)

func cli(t *testing.T, args ...string) (string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := runMain(args, &out, &errb)
	return out.String() + errb.String(), code
}

func cliJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	var out, errb bytes.Buffer
	if code := runMain(args, &out, &errb); code != 0 {
		t.Fatalf("attnscope %s: exit %d: %s", strings.Join(args, " "), code, errb.String())
	}
	if err := json.Unmarshal(out.Bytes(), v); err != nil {
		t.Fatalf("attnscope %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
}

// TestEveryModel runs the CLI contract on every model file in the shared test data.
func TestEveryModel(t *testing.T) {
	dir := filepath.Dir(shareddata.Model(t, "stories260K.gguf"))
	files, _ := filepath.Glob(filepath.Join(dir, "*.gguf"))
	if len(files) < 10 {
		t.Fatalf("only %d model files in %s", len(files), dir)
	}
	prompt := "Once upon a time 안녕"
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			var info struct {
				Arch      string `json:"arch"`
				NLayer    int    `json:"n_layer"`
				NHead     int    `json:"n_head"`
				Causal    *bool  `json:"causal"`
				Supported bool   `json:"supported"`
				Tensors   int    `json:"tensors"`
			}
			cliJSON(t, &info, "inspect", "--model", f, "--json")
			if info.Arch == "" {
				t.Fatal("inspect: no architecture")
			}
			var tok struct {
				IDs    []int32  `json:"ids"`
				Pieces []string `json:"pieces"`
			}
			cliJSON(t, &tok, "tokenize", "--model", f, "--prompt", prompt, "--json")
			if len(tok.IDs) == 0 || len(tok.IDs) != len(tok.Pieces) {
				t.Fatalf("tokenize: %d ids, %d pieces", len(tok.IDs), len(tok.Pieces))
			}
			if info.Tensors == 0 {
				if out, code := cli(t, "run", "--model", f, "--prompt", prompt); code == 0 || !strings.Contains(out, "vocabulary") {
					t.Errorf("run on a vocabulary-only file: exit %d: %s", code, out)
				}
				return
			}
			if !info.Supported {
				t.Fatal("inspect says the model cannot run")
			}
			var tr struct {
				Tokens []int32 `json:"tokens"`
				Layers []struct {
					Heads [][][]float64 `json:"heads"`
				} `json:"layers"`
			}
			cliJSON(t, &tr, "trace", "--model", f, "--prompt", prompt, "--json")
			n := len(tr.Tokens)
			if len(tr.Layers) != info.NLayer || n == 0 {
				t.Fatalf("trace: %d layers, %d tokens", len(tr.Layers), n)
			}
			for l, layer := range tr.Layers {
				if len(layer.Heads) != info.NHead {
					t.Fatalf("trace layer %d: %d heads", l, len(layer.Heads))
				}
				for h, m := range layer.Heads {
					if len(m) != n {
						t.Fatalf("trace layer %d head %d: %d rows", l, h, len(m))
					}
					for q, row := range m {
						var sum float64
						for k, p := range row {
							sum += p
							if *info.Causal && k > q && p != 0 {
								t.Fatalf("layer %d head %d: query %d attends to later key %d", l, h, q, k)
							}
						}
						if len(row) != n || sum < 0.999 || sum > 1.001 {
							t.Fatalf("layer %d head %d row %d: %d keys summing to %v", l, h, q, len(row), sum)
						}
					}
				}
			}
			if *info.Causal {
				var run struct {
					Prompt    []int32 `json:"prompt_tokens"`
					Generated []int32 `json:"generated"`
					Text      *string `json:"text"`
					Logits    []struct {
						Pos int          `json:"pos"`
						Top [][2]float64 `json:"top"`
					} `json:"logits"`
				}
				cliJSON(t, &run, "run", "--model", f, "--prompt", prompt, "--max-tokens", "3", "--temperature", "0", "--topk-logits", "5", "--json")
				if len(run.Generated) == 0 || run.Text == nil || len(run.Logits) != len(run.Prompt) || len(run.Logits[0].Top) != 5 {
					t.Fatalf("run: %+v", run)
				}
				if out, code := cli(t, "embed", "--model", f, "--prompt", prompt); code == 0 || !strings.Contains(out, "not an encoder") {
					t.Errorf("embed on a causal model: exit %d: %s", code, out)
				}
			} else {
				var emb struct {
					Tokens []int32     `json:"tokens"`
					Hidden [][]float64 `json:"hidden_states"`
					Pooled []float64   `json:"pooled"`
				}
				cliJSON(t, &emb, "embed", "--model", f, "--prompt", prompt, "--json")
				if len(emb.Hidden) != len(emb.Tokens) || len(emb.Pooled) == 0 {
					t.Fatalf("embed: %d tokens, %d states, pooled %d", len(emb.Tokens), len(emb.Hidden), len(emb.Pooled))
				}
				if out, code := cli(t, "run", "--model", f, "--prompt", prompt); code == 0 || !strings.Contains(out, "encoder") {
					t.Errorf("run on an encoder: exit %d: %s", code, out)
				}
			}
		})
	}
}

// TestRunMatchesReference checks run --json against llama.cpp's greedy output and logits.
func TestRunMatchesReference(t *testing.T) {
	ref := shareddata.LoadReference(t, "stories260K.json")
	r := ref.Variant("stories260K.gguf", false).Results[0]
	var run struct {
		Prompt    []int32 `json:"prompt_tokens"`
		Generated []int32 `json:"generated"`
		Text      string  `json:"text"`
		Logits    []struct {
			Pos int          `json:"pos"`
			Top [][2]float64 `json:"top"`
		} `json:"logits"`
	}
	cliJSON(t, &run, "run", "--model", shareddata.Model(t, "stories260K.gguf"), "--prompt", r.Prompt,
		"--max-tokens", "32", "--temperature", "0", "--topk-logits", "10", "--json")
	if !equal(run.Prompt, r.Default.IDs) || !equal(run.Generated, r.Greedy.IDs) || run.Text != r.Greedy.Text {
		t.Fatalf("run: %v %v %q\nllama.cpp: %v %v %q", run.Prompt, run.Generated, run.Text, r.Default.IDs, r.Greedy.IDs, r.Greedy.Text)
	}
	for i, p := range r.Logits.Positions {
		for j, pair := range p.Top {
			got := run.Logits[i].Top[j]
			if got[0] != pair[0] || got[1]-pair[1] > 1e-3 || pair[1]-got[1] > 1e-3 {
				t.Fatalf("pos %d rank %d: %v, llama.cpp %v", p.Pos, j, got, pair)
			}
		}
	}
	var tok struct {
		IDs    []int32  `json:"ids"`
		Pieces []string `json:"pieces"`
	}
	k := ref.Variant("stories260K.gguf", false).Results[2]
	cliJSON(t, &tok, "tokenize", "--model", shareddata.Model(t, "stories260K.gguf"), "--prompt", k.Prompt, "--json")
	if !equal(tok.IDs, k.Default.IDs) || tok.Pieces[1] != " " && !strings.HasPrefix(tok.Pieces[2], "<0x") {
		t.Fatalf("tokenize %q: %v %q", k.Prompt, tok.IDs, tok.Pieces)
	}
}

// --kv-type f16 keeps the KV cache in binary16: the trace's KV steps hold half the bytes of a
// float32 cache's for the same tokens, and generation runs on it.
func TestKVTypeFlag(t *testing.T) {
	model := shareddata.Model(t, "stories260K.gguf")
	prompt := "Once upon a time, there was a little girl named Lily."
	var traces [2]struct {
		Steps []struct {
			KV struct {
				Tokens int     `json:"tokens"`
				Bytes  []int64 `json:"bytes_per_layer"`
			} `json:"kv"`
		} `json:"steps"`
	}
	for i, kv := range []string{"f32", "f16"} {
		cliJSON(t, &traces[i], "trace", "--model", model, "--prompt", prompt, "--kv-type", kv, "--json")
	}
	f32, f16 := traces[0].Steps, traces[1].Steps
	if len(f32) == 0 || len(f16) != len(f32) {
		t.Fatalf("steps: %d with f32, %d with f16", len(f32), len(f16))
	}
	a, b := f32[len(f32)-1].KV, f16[len(f16)-1].KV
	if a.Tokens == 0 || a.Tokens != b.Tokens || len(a.Bytes) == 0 || len(a.Bytes) != len(b.Bytes) {
		t.Fatalf("KV steps differ in shape: %+v against %+v", a, b)
	}
	for l := range a.Bytes {
		if a.Bytes[l] == 0 || b.Bytes[l]*2 != a.Bytes[l] {
			t.Errorf("layer %d: %d bytes with f16, %d with f32", l, b.Bytes[l], a.Bytes[l])
		}
	}
	var run struct {
		Generated []int32 `json:"generated"`
	}
	cliJSON(t, &run, "run", "--model", model, "--prompt", prompt, "--max-tokens", "8", "--temperature", "0", "--kv-type", "f16", "--json")
	if len(run.Generated) == 0 {
		t.Error("run --kv-type f16 generated nothing")
	}
}

func equal(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestCLIErrors(t *testing.T) {
	dir := t.TempDir()
	notGGUF := filepath.Join(dir, "notes.txt")
	os.WriteFile(notGGUF, []byte("this is not a model"), 0o644)
	truncated := filepath.Join(dir, "truncated.gguf")
	if src, err := os.ReadFile(shareddata.Model(t, "stories260K.gguf")); err == nil {
		os.WriteFile(truncated, src[:len(src)/2], 0o644)
	}
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{nil, 2, "Usage"},
		{[]string{"frobnicate"}, 2, "unknown command"},
		{[]string{"run", "--prompt", "x"}, 2, "--model is required"},
		{[]string{"run", "--model", filepath.Join(dir, "absent.gguf"), "--prompt", "x"}, 1, "no such file"},
		{[]string{"inspect", "--model", notGGUF}, 1, "not a GGUF file"},
		{[]string{"run", "--model", truncated, "--prompt", "x"}, 1, "truncated"},
		{[]string{"run", "--model", shareddata.Model(t, "stories260K.gguf"), "--prompt", ""}, 1, "empty"},
		{[]string{"run", "--model", shareddata.Model(t, "stories260K.gguf"), "--prompt", strings.Repeat("word ", 300), "--ctx", "64"}, 1, "longer than the model's context"},
		{[]string{"run", "--model", shareddata.Model(t, "stories260K.gguf"), "--prompt", "x", "--top-k", "-3"}, 1, "top-k"},
		{[]string{"run", "--model", shareddata.Model(t, "stories260K.gguf"), "--prompt", "x", "--backend", "tpu"}, 1, "unknown backend"},
		{[]string{"run", "--model", shareddata.Model(t, "stories260K.gguf"), "--prompt", "x", "--gpu-attention", "f8"}, 1, "f32 or f16"},
		{[]string{"run", "--model", shareddata.Model(t, "stories260K.gguf"), "--prompt", "x", "--backend", "cpu", "--gpu-attention", "f16"}, 1, "only on the GPU"},
		{[]string{"trace", "--model", shareddata.Model(t, "stories260K.gguf"), "--prompt", "x", "--kv-type", "q8_0"}, 1, "want f32 or f16"},
	} {
		out, code := cli(t, c.args...)
		if code != c.code || !strings.Contains(out, c.msg) {
			t.Errorf("attnscope %q: exit %d (want %d), output %q lacks %q", c.args, code, c.code, out, c.msg)
		}
	}
}
