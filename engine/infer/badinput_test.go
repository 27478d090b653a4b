package infer_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/attnscope/attnscope/engine/gguf"
	"github.com/attnscope/attnscope/engine/infer"
	"github.com/attnscope/attnscope/engine/model"
	"github.com/attnscope/attnscope/engine/quant"
	"github.com/attnscope/attnscope/internal/shareddata"
)

// mutate loads a shared model, changes it with edit and returns the result of loading the copy.
func mutate(t *testing.T, file string, edit func(b *gguf.Builder)) (*infer.Loaded, error) {
	t.Helper()
	f, err := gguf.Open(shareddata.Model(t, file))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := gguf.FromFile(f)
	if err != nil {
		t.Fatal(err)
	}
	edit(b)
	var buf bytes.Buffer
	if _, err := b.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return infer.Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()), nil)
}

func setString(t *testing.T, b *gguf.Builder, key, v string) {
	if err := b.SetKV(key, gguf.Value{Type: gguf.TypeString, V: v}); err != nil {
		t.Fatal(err)
	}
}

func setU32(t *testing.T, b *gguf.Builder, key string, v uint32) {
	if err := b.SetKV(key, gguf.Value{Type: gguf.TypeUint32, V: v}); err != nil {
		t.Fatal(err)
	}
}

func TestBadModels(t *testing.T) {
	cases := []struct {
		name string
		edit func(t *testing.T, b *gguf.Builder)
		is   error
		msg  []string // every fragment must appear in the error
	}{
		{"unknown architecture", func(t *testing.T, b *gguf.Builder) {
			setString(t, b, "general.architecture", "mamba")
		}, model.ErrUnsupportedArch, []string{"mamba", "llama", "gpt2", "bert"}},
		{"missing tensor", func(t *testing.T, b *gguf.Builder) {
			b.RemoveTensor("blk.3.attn_q.weight")
		}, model.ErrBadModel, []string{"blk.3.attn_q.weight", "missing"}},
		{"wrong shape", func(t *testing.T, b *gguf.Builder) {
			if err := b.SetTensor("blk.1.attn_k.weight", quant.F32, []uint64{64, 16}, make([]byte, 64*16*4)); err != nil {
				t.Fatal(err)
			}
		}, model.ErrBadModel, []string{"blk.1.attn_k.weight", "[64 16]", "[64 32]"}},
		{"unsupported tensor type", func(t *testing.T, b *gguf.Builder) {
			if err := b.SetTensor("blk.0.attn_q.weight", quant.IQ2_XXS, []uint64{256, 64}, make([]byte, 64*quant.IQ2_XXS.BlockBytes())); err != nil {
				t.Fatal(err)
			}
		}, nil, []string{"blk.0.attn_q.weight", "IQ2_XXS", "not supported", "Q8_0", "Q4_K"}},
		{"heads do not divide the width", func(t *testing.T, b *gguf.Builder) {
			setU32(t, b, "llama.attention.head_count", 7)
		}, model.ErrBadModel, []string{"64", "7 heads"}},
		{"KV heads do not divide the heads", func(t *testing.T, b *gguf.Builder) {
			setU32(t, b, "llama.attention.head_count_kv", 3)
		}, model.ErrBadModel, []string{"3 KV heads"}},
		{"missing hyperparameter", func(t *testing.T, b *gguf.Builder) {
			b.RemoveKV("llama.block_count")
		}, model.ErrBadModel, []string{"llama.block_count", "missing"}},
		{"unknown tokenizer model", func(t *testing.T, b *gguf.Builder) {
			if err := b.SetKV("tokenizer.ggml.model", gguf.Value{Type: gguf.TypeString, V: "klingon"}); err != nil {
				t.Fatal(err)
			}
		}, nil, []string{"tokenizer", "klingon"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l, err := mutate(t, "stories260K.gguf", func(b *gguf.Builder) { c.edit(t, b) })
			if err == nil {
				l.Close()
				t.Fatal("loaded without an error")
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Errorf("error %q does not wrap %v", err, c.is)
			}
			for _, m := range c.msg {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not mention %q", err, m)
				}
			}
		})
	}
}

func TestVocabularyOnlyFile(t *testing.T) {
	_, err := infer.Open(shareddata.Model(t, "ggml-vocab-gpt-2.gguf"), nil)
	if err == nil || !strings.Contains(err.Error(), "only a vocabulary") {
		t.Fatalf("vocabulary-only file: %v", err)
	}
}

func TestBadPrompts(t *testing.T) {
	l, err := infer.Open(shareddata.Model(t, "stories260K.gguf"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()
	g := infer.GenerateOptions{MaxTokens: 4}
	if _, err := l.NewSession(infer.Options{}).Generate(ctx, "", g, nil); !errors.Is(err, infer.ErrEmptyPrompt) {
		t.Errorf("empty prompt: %v", err)
	}
	long := strings.Repeat("Once upon a time ", 20)
	_, err = l.NewSession(infer.Options{Context: 32}).Generate(ctx, long, g, nil)
	if !errors.Is(err, infer.ErrTooLong) || !strings.Contains(err.Error(), "32") {
		t.Errorf("prompt longer than the context: %v", err)
	}
	huge := strings.Repeat("a", infer.MaxPromptBytes+1)
	if _, err := l.NewSession(infer.Options{}).Generate(ctx, huge, g, nil); !errors.Is(err, infer.ErrTooLong) {
		t.Errorf("huge prompt: %v", err)
	}
	// Invalid UTF-8 is tokenized (byte fallback), never a panic.
	res, err := l.NewSession(infer.Options{Capture: true}).Generate(ctx, "caf\xc3 \xff\xfe end", g, nil)
	if err != nil {
		t.Fatalf("invalid UTF-8: %v", err)
	}
	if len(res.Prompt) < 4 || len(res.Generated) != 4 {
		t.Errorf("invalid UTF-8: prompt %v generated %v", res.Prompt, res.Generated)
	}
	// Generation stops at the end of the context instead of overrunning it.
	s := l.NewSession(infer.Options{Context: 8})
	res, err = s.Generate(ctx, "Once upon a time", infer.GenerateOptions{MaxTokens: 100}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(res.Prompt) + len(res.Generated); got > 9 || s.Cache.Len() > 8 {
		t.Errorf("context 8: %d prompt + %d generated tokens, cache %d", len(res.Prompt), len(res.Generated), s.Cache.Len())
	}
	// A token id outside the vocabulary is refused by the model.
	if _, err := s.Step(100000); err == nil {
		t.Error("out-of-vocabulary token accepted")
	}
	// Sampler options that make no sense.
	bad := infer.GenerateOptions{MaxTokens: 1, Sampler: infer.SamplerOptions{Temperature: 1, TopK: -1}}
	if _, err := l.NewSession(infer.Options{}).Generate(ctx, "Once", bad, nil); err == nil {
		t.Error("negative top-k accepted")
	}
	// An encoder cannot generate.
	b, err := infer.Open(shareddata.Model(t, "tiny-bert-synthetic.gguf"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := b.NewSession(infer.Options{}).Generate(ctx, "hello", g, nil); !errors.Is(err, infer.ErrNoLMHead) {
		t.Errorf("generate with an encoder: %v", err)
	}
}
