package synth

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/attnscope/attnscope/engine/gguf"
	"github.com/attnscope/attnscope/engine/quant"
)

// fileTypes are llama.cpp's general.file_type values (enum llama_ftype) for the types written.
var fileTypes = map[quant.Type]uint32{quant.F32: 0, quant.F16: 1, quant.Q4_0: 2, quant.Q8_0: 7}

// quantizationVersion is ggml's GGML_QNT_VERSION, stored in quantized files.
const quantizationVersion = 2

// Epsilon of the norms (llama's RMSNorm, gpt2's LayerNorm), as llama2.c and GPT-2 use.
const normEps float32 = 1e-5

// metadata returns a Builder holding o's metadata in llama.cpp's key order. o must have passed
// checkShape.
func (o *Options) metadata() (*gguf.Builder, error) {
	b := gguf.NewBuilder()
	var err error
	kv := func(key string, v any) {
		if err == nil {
			err = b.AddKV(key, gguf.ValueOf(v))
		}
	}
	u32 := func(n int) uint32 { return uint32(n) }
	a := o.Arch + "."
	kv("general.architecture", o.Arch)
	kv("general.name", o.name())
	kv(a+"context_length", u32(o.Ctx))
	kv(a+"embedding_length", u32(o.Dim))
	kv(a+"block_count", u32(o.Layers))
	kv(a+"feed_forward_length", u32(o.FFN))
	if o.Arch == "llama" {
		kv(a+"rope.dimension_count", u32(o.Dim/o.Heads))
	}
	kv(a+"attention.head_count", u32(o.Heads))
	if o.Arch == "llama" {
		kv(a+"attention.head_count_kv", u32(o.kvHeads()))
		kv(a+"attention.layer_norm_rms_epsilon", normEps)
	} else {
		kv(a+"attention.layer_norm_epsilon", normEps)
	}
	kv("general.file_type", fileTypes[o.Type])

	var v *vocab
	if o.Arch == "llama" {
		v = llamaVocab(o.Vocab)
		kv("tokenizer.ggml.model", "llama")
	} else {
		v = gpt2Vocab(o.Vocab)
		kv("tokenizer.ggml.model", "gpt2")
		kv("tokenizer.ggml.pre", "gpt-2")
	}
	if len(v.tokens) != o.Vocab {
		return nil, fmt.Errorf("synth: built %d tokens for a vocabulary of %d", len(v.tokens), o.Vocab) // a bug
	}
	kv("tokenizer.ggml.tokens", v.tokens)
	if v.scores != nil {
		kv("tokenizer.ggml.scores", v.scores)
	}
	kv("tokenizer.ggml.token_type", v.types)
	if v.merges != nil {
		kv("tokenizer.ggml.merges", v.merges)
	}
	kv("tokenizer.ggml.bos_token_id", v.bos)
	kv("tokenizer.ggml.eos_token_id", v.eos)
	if v.unk >= 0 {
		kv("tokenizer.ggml.unknown_token_id", uint32(v.unk))
	}
	if o.Arch == "llama" {
		kv("tokenizer.ggml.add_bos_token", true)
		kv("tokenizer.ggml.add_eos_token", false)
	}
	if o.Type.BlockSize() > 1 {
		kv("general.quantization_version", uint32(quantizationVersion))
	}
	if err != nil {
		return nil, err
	}
	return b, nil
}

// addTensors adds ts to b; random matrices are generated while b is written.
func (o *Options) addTensors(ctx context.Context, b *gguf.Builder, ts []tensorSpec) error {
	var err error
	for i := range ts {
		t := &ts[i]
		switch t.fill {
		case random:
			err = b.AddTensorFrom(t.name, t.typ, t.dims, newSource(ctx, t, o.Seed))
		case ones:
			err = b.AddTensor(t.name, t.typ, t.dims, constBytes(t.cols(), 1))
		case zeros:
			err = b.AddTensor(t.name, t.typ, t.dims, constBytes(t.cols(), 0))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// fileSize is the size of the file b (metadata only) makes once ts are added: the metadata as
// b writes it, the tensor infos, padding to the alignment, and each tensor padded.
func fileSize(b *gguf.Builder, ts []tensorSpec) (int64, error) {
	var c counter
	if _, err := b.WriteTo(&c); err != nil {
		return 0, err
	}
	n := c.n
	for i := range ts {
		n += 8 + int64(len(ts[i].name)) + 4 + 8*int64(len(ts[i].dims)) + 4 + 8
	}
	align := int64(b.Alignment())
	up := func(x int64) int64 { return (x + align - 1) / align * align }
	n = up(n)
	for i := range ts {
		n += up(ts[i].bytes())
	}
	return n, nil
}

type counter struct{ n int64 }

func (c *counter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// Generate writes the model o describes to w as a GGUF file. See GenerateContext.
func Generate(w io.Writer, o Options) error {
	_, err := GenerateContext(context.Background(), w, o)
	return err
}

// GenerateContext validates o (as Validate) and writes its model to w, returning its Size
// (FileBytes is what was written). It stops with ctx's error when ctx is done. Nothing is
// written when o is refused; after a write error w holds a partial file (WriteFile never leaves
// one behind).
func GenerateContext(ctx context.Context, w io.Writer, o Options) (Size, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	b, s, err := o.prepare(ctx)
	if err != nil {
		return s, err
	}
	n, err := b.WriteTo(w)
	if err == nil && n != s.FileBytes {
		err = fmt.Errorf("synth: wrote %d bytes, expected %d", n, s.FileBytes) // a bug
	}
	return s, err
}

// WriteFile generates o's model into the file path, atomically: it writes a temporary file in
// the same directory, syncs it and renames it over path, so path is either left as it was or
// replaced by the complete model, whatever fails and however ctx ends (an interrupt handled by
// cancelling ctx). The temporary file is removed on every error.
func WriteFile(ctx context.Context, path string, o Options) (Size, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if path == "" {
		return Size{}, bad("no output file")
	}
	b, s, err := o.prepare(ctx)
	if err != nil {
		return s, err
	}
	n, err := b.WriteFile(ctx, path)
	if err == nil && n != s.FileBytes {
		err = fmt.Errorf("wrote %d bytes, expected %d", n, s.FileBytes) // a bug
	}
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return s, fmt.Errorf("synth: %s: stopped, nothing written: %w", path, err)
		}
		return s, fmt.Errorf("synth: writing %s: %w", path, err)
	}
	return s, nil
}
