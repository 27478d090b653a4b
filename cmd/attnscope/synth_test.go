package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var synthSmall = []string{"synth", "--dim", "64", "--layers", "2", "--heads", "4", "--kv-heads", "2", "--ffn", "128", "--vocab", "700", "--ctx", "64"}

func TestSynthCommand(t *testing.T) {
	dir := t.TempDir()
	for _, arch := range []string{"llama", "gpt2"} {
		for _, typ := range []string{"f32", "q4_0"} {
			path := filepath.Join(dir, arch+typ+".gguf")
			args := func(out string) []string {
				a := append(append([]string{}, synthSmall...), "--arch", arch, "--type", typ, "--seed", "9", "-o", out)
				if arch == "gpt2" {
					a = append(a, "--kv-heads", "4")
				}
				return a
			}
			out, code := cli(t, args(path)...)
			if code != 0 || !strings.HasPrefix(out, path+": "+arch+" "+strings.ToUpper(typ)) || !strings.Contains(out, " parameters ") ||
				!strings.Contains(out, "written in") || strings.Count(out, "\n") != 1 {
				t.Fatalf("exit %d: %s", code, out)
			}
			var info struct {
				Arch    string `json:"arch"`
				NVocab  int    `json:"n_vocab"`
				NKVHead int    `json:"n_kv_head"`
			}
			cliJSON(t, &info, "inspect", "--model", path, "--json")
			if info.Arch != arch || info.NVocab != 700 {
				t.Errorf("inspect: %+v", info)
			}
			var run struct {
				Generated []int32 `json:"generated"`
			}
			cliJSON(t, &run, "run", "--model", path, "--prompt", "Once upon a time", "--max-tokens", "3", "--temperature", "0", "--json")
			if len(run.Generated) == 0 {
				t.Errorf("%s %s: nothing generated", arch, typ)
			}
			// The same seed gives the same file.
			again := filepath.Join(dir, "again.gguf")
			if out, code := cli(t, args(again)...); code != 0 {
				t.Fatal(out)
			}
			a, _ := os.ReadFile(path)
			b, _ := os.ReadFile(again)
			if !bytes.Equal(a, b) {
				t.Errorf("%s %s: the same seed gave different files", arch, typ)
			}
		}
	}
}

func TestSynthPresetDryRun(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s15m.gguf")
	out, code := cli(t, "synth", "--preset", "s15m", "--type", "q8_0", "--dry-run", "-o", path)
	if code != 0 || !strings.Contains(out, "llama Q8_0, dim 288, 6 layers, 6 heads (6 KV), ffn 768, vocab 32000, ctx 256") ||
		!strings.Contains(out, "24407712 parameters (24.4M)") || !strings.Contains(out, "26618368 bytes") {
		t.Errorf("exit %d: %s", code, out)
	}
	if _, err := os.Stat(path); err == nil {
		t.Error("a dry run wrote the file")
	}
	// Flags given override the preset.
	out, code = cli(t, "synth", "--preset", "s110m", "--layers", "1", "--vocab", "1000", "--ctx", "16384", "--dry-run")
	if code != 0 || !strings.Contains(out, "dim 768, 1 layers, 12 heads (12 KV), ffn 2048, vocab 1000, ctx 16384") {
		t.Errorf("exit %d: %s", code, out)
	}
}

func TestSynthErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.gguf")
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"synth", "--preset", "s15m"}, 2, "-o FILE is required"},
		{[]string{"synth", "--dim", "64", "-o", path}, 1, "--layers, --heads, --ffn, --vocab, --ctx required without --preset"},
		{[]string{"synth", "--preset", "s1b", "-o", path}, 1, `unknown preset "s1b"`},
		{[]string{"synth", "--preset", "s15m", "--type", "q5_k", "-o", path}, 1, `unknown type "q5_k" (types: f32, f16, q8_0, q4_0)`},
		{[]string{"synth", "--preset", "s15m", "--arch", "bert", "-o", path}, 1, `unknown architecture "bert"`},
		{[]string{"synth", "--preset", "s15m", "--heads", "7", "-o", path}, 1, "7 heads do not divide dim 288"},
		{[]string{"synth", "--preset", "s15m", "--kv-heads", "4", "-o", path}, 1, "4 KV heads do not divide 6 heads"},
		{[]string{"synth", "--preset", "s15m", "--dim", "300", "--heads", "6", "--type", "q8_0", "-o", path}, 1, "dim 300 is not a multiple of 32"},
		{[]string{"synth", "--preset", "s15m", "--layers", "0", "-o", path}, 1, "layers is 0; it must be positive"},
		{[]string{"synth", "--preset", "s15m", "--vocab", "-5", "-o", path}, 1, "vocab is -5; it must be positive"},
		{[]string{"synth", "--preset", "s15m", "--vocab", "10", "-o", path}, 1, "vocab 10 is too small"},
		{[]string{"synth", "--preset", "llama2-7b", "--layers", "96", "--type", "f32", "-o", path}, 1,
			"the file would take 73.4 GiB (19690950656 parameters at about 4 bytes each as F32), over the limit of 64.0 GiB"},
		{[]string{"synth", "--preset", "s15m", "--max-gib", "0.01", "-o", path}, 1, "over the limit of 10.2 MiB; running it needs about that much memory too (--max-gib raises the limit)"},
		{[]string{"synth", "--preset", "s15m", "--max-gib", "-1", "-o", path}, 1, "--max-gib -1 must be a positive number"},
		{[]string{"synth", "--preset", "s15m", "extra"}, 2, `unexpected argument "extra"`},
	}
	for _, c := range cases {
		out, code := cli(t, c.args...)
		if code != c.code || !strings.Contains(out, c.want) || strings.Contains(out, "synth: synth:") {
			t.Errorf("%s: exit %d: %s\nwant exit %d and %q", strings.Join(c.args, " "), code, out, c.code, c.want)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("%d files left behind", len(ents))
	}
}
