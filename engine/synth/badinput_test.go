package synth

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/attnscope/attnscope/engine/quant"
)

func TestBadOptions(t *testing.T) {
	cases := []struct {
		name   string
		change func(o *Options)
		want   string // part of the message
		target error
	}{
		{"arch", func(o *Options) { o.Arch = "bert" }, `unknown architecture "bert"`, ErrBadOptions},
		{"no arch", func(o *Options) { o.Arch = "" }, `unknown architecture ""`, ErrBadOptions},
		{"type", func(o *Options) { o.Type = quant.Q4_K }, "type Q4_K is not one synth writes", ErrBadOptions},
		{"unknown type", func(o *Options) { o.Type = quant.Type(99) }, "type type(99) is not one synth writes", ErrBadOptions},
		{"zero dim", func(o *Options) { o.Dim = 0 }, "dim is 0; it must be positive", ErrBadOptions},
		{"negative layers", func(o *Options) { o.Layers = -1 }, "layers is -1", ErrBadOptions},
		{"zero heads", func(o *Options) { o.Heads = 0 }, "heads is 0", ErrBadOptions},
		{"negative kv heads", func(o *Options) { o.KVHeads = -2 }, "kv-heads is -2", ErrBadOptions},
		{"zero ffn", func(o *Options) { o.FFN = 0 }, "ffn is 0", ErrBadOptions},
		{"zero vocab", func(o *Options) { o.Vocab = 0 }, "vocab is 0", ErrBadOptions},
		{"zero ctx", func(o *Options) { o.Ctx = 0 }, "ctx is 0", ErrBadOptions},
		{"huge dim", func(o *Options) { o.Dim = 1 << 30 }, "dim 1073741824 is over the limit", ErrBadOptions},
		{"huge layers", func(o *Options) { o.Layers = 5000 }, "layers 5000 is over the limit of 1024", ErrBadOptions},
		{"huge ctx", func(o *Options) { o.Ctx = 1 << 25 }, "ctx 33554432 is over the limit", ErrBadOptions},
		{"heads not dividing dim", func(o *Options) { o.Heads = 5 }, "5 heads do not divide dim 64", ErrBadOptions},
		{"kv heads not dividing heads", func(o *Options) { o.KVHeads = 3 }, "3 KV heads do not divide 4 heads", ErrBadOptions},
		{"more kv heads than heads", func(o *Options) { o.KVHeads = 8 }, "8 KV heads do not divide 4 heads", ErrBadOptions},
		{"gpt2 with kv heads", func(o *Options) { o.Arch = "gpt2"; o.KVHeads = 2 }, "gpt2 has one key/value head per query head", ErrBadOptions},
		{"q8_0 rows", func(o *Options) { o.Type = quant.Q8_0; o.Dim = 48; o.Heads = 4 }, "blocks of 32 values, but dim 48 is not a multiple of 32", ErrBadOptions},
		{"q4_0 ffn rows", func(o *Options) { o.Type = quant.Q4_0; o.FFN = 100 }, "ffn 100 is not a multiple of 32", ErrBadOptions},
		{"small llama vocab", func(o *Options) { o.Vocab = 100 }, "vocab 100 is too small: a llama vocabulary needs at least 259 tokens", ErrBadOptions},
		{"small gpt2 vocab", func(o *Options) { o.Arch = "gpt2"; o.KVHeads = 0; o.Vocab = 256 }, "needs at least 257 tokens", ErrBadOptions},
		{"negative limit", func(o *Options) { o.MaxBytes = -1 }, "size limit -1 is negative", ErrBadOptions},
		{"over the limit", func(o *Options) { o.MaxBytes = 100_000 }, "over the limit of 97.7 KiB", ErrTooLarge},
		{"absurd", func(o *Options) { o.Dim, o.FFN, o.Layers, o.Heads, o.KVHeads = 1<<18, 1<<18, 1024, 1, 1 },
			"the file would take 1.8 PiB (492582060949504 parameters at about 4 bytes each as F32), over the limit of 64.0 GiB", ErrTooLarge},
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "out.gguf")
	os.WriteFile(path, []byte("previous content"), 0o644)
	for _, c := range cases {
		o := small("llama", quant.F32, 1)
		c.change(&o)
		err := o.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, c.target) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
			continue
		}
		var buf bytes.Buffer
		if err := Generate(&buf, o); err == nil || buf.Len() != 0 {
			t.Errorf("%s: Generate wrote %d bytes, error %v", c.name, buf.Len(), err)
		}
		if _, err := WriteFile(context.Background(), path, o); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: WriteFile: %v", c.name, err)
		}
		checkOnly(t, dir, path, "previous content")
	}
}

// checkOnly checks that dir holds only path, with the given content.
func checkOnly(t *testing.T, dir, path, content string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 || ents[0].Name() != filepath.Base(path) {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Fatalf("%s holds %v", dir, names)
	}
	if b, _ := os.ReadFile(path); content != "" && string(b) != content {
		t.Fatalf("%s was changed (%d bytes)", path, len(b))
	}
}

func TestWriteFileReplacesAtomically(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.gguf")
	os.WriteFile(path, []byte("old"), 0o644)
	o := small("gpt2", quant.Q8_0, 3)
	s, err := WriteFile(context.Background(), path, o)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if !bytes.Equal(b, generate(t, o)) || int64(len(b)) != s.FileBytes {
		t.Errorf("the file (%d bytes) is not the generated model (%d bytes)", len(b), s.FileBytes)
	}
	checkOnly(t, dir, path, "")

	// Cancelled: the previous file stays and nothing else is left.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	o.Seed = 4
	if _, err := WriteFile(ctx, path, o); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	checkOnly(t, dir, path, string(b))

	// A write error (a directory where the temporary file would go) leaves nothing behind.
	if _, err := WriteFile(context.Background(), filepath.Join(dir, "missing", "m.gguf"), o); err == nil {
		t.Error("writing into a missing directory succeeded")
	}
	if _, err := WriteFile(context.Background(), dir, o); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("writing over a directory: %v", err)
	}
	if _, err := WriteFile(context.Background(), "", o); err == nil || !strings.Contains(err.Error(), "no output file") {
		t.Errorf("no path: %v", err)
	}
	checkOnly(t, dir, path, string(b))
}

// TestCancelMidway cancels while tensors are being written.
func TestCancelMidway(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.gguf")
	ctx, cancel := context.WithCancel(context.Background())
	o := small("llama", quant.F32, 1)
	o.Vocab, o.Dim, o.Heads, o.KVHeads = 4000, 256, 4, 4
	w := &cancelAfter{n: 1 << 20, cancel: cancel}
	if _, err := GenerateContext(ctx, w, o); !errors.Is(err, context.Canceled) {
		t.Errorf("GenerateContext: %v", err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	go func() { cancel() }()
	if _, err := WriteFile(ctx, path, o); err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("WriteFile: %v", err)
	} else if err != nil {
		if ents, _ := os.ReadDir(dir); len(ents) != 0 {
			t.Errorf("left %d files", len(ents))
		}
	}
}

type cancelAfter struct {
	n      int
	cancel func()
}

func (c *cancelAfter) Write(p []byte) (int, error) {
	c.n -= len(p)
	if c.n < 0 {
		c.cancel()
	}
	return len(p), nil
}
