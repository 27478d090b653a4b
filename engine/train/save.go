package train

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/attnscope/attnscope/engine/gguf"
	"github.com/attnscope/attnscope/engine/quant"
)

// fileType is llama.cpp's general.file_type (llama_ftype) of the types written.
var fileType = map[quant.Type]uint32{quant.F32: 0, quant.Q8_0: 7}

// Builder returns a GGUF Builder holding p's metadata (the keys and types llama.cpp's
// converters write for the architecture), the byte-level vocabulary and p's tensors, matrices
// stored as typ (F32 or Q8_0; position_embd and vectors stay F32, as llama.cpp's quantizer
// leaves them). extra metadata (string values) is added under the given keys.
func (p *Params[T]) Builder(typ quant.Type, name string, extra map[string]string) (*gguf.Builder, error) {
	c := &p.Cfg
	if _, ok := fileType[typ]; !ok {
		return nil, fmt.Errorf("train: cannot write type %s (types: F32, Q8_0)", typ)
	}
	if typ == quant.Q8_0 && (c.Dim%32 != 0 || c.FFN%32 != 0) {
		return nil, fmt.Errorf("%w: Q8_0 needs dim and ffn to be multiples of 32 (dim %d, ffn %d)", ErrBadConfig, c.Dim, c.FFN)
	}
	if c.Vocab != VocabSize {
		return nil, fmt.Errorf("%w: the written vocabulary has %d tokens, the model %d", ErrBadConfig, VocabSize, c.Vocab)
	}
	b := gguf.NewBuilder()
	var err error
	kv := func(key string, v any) {
		if err == nil {
			err = b.AddKV(key, gguf.ValueOf(v))
		}
	}
	u := func(n int) uint32 { return uint32(n) }
	a := c.Arch + "."
	kv("general.architecture", c.Arch)
	kv("general.name", name)
	for _, k := range sortedKeys(extra) {
		kv(k, extra[k])
	}
	kv(a+"context_length", u(c.Ctx))
	kv(a+"embedding_length", u(c.Dim))
	kv(a+"block_count", u(c.Layers))
	kv(a+"feed_forward_length", u(c.FFN))
	if c.Arch == "llama" {
		kv(a+"rope.dimension_count", u(c.HeadDim()))
		kv(a+"rope.freq_base", float32(c.ropeBase()))
	}
	kv(a+"attention.head_count", u(c.Heads))
	if c.Arch == "llama" {
		kv(a+"attention.head_count_kv", u(c.Heads))
		kv(a+"attention.layer_norm_rms_epsilon", float32(c.eps()))
	} else {
		kv(a+"attention.layer_norm_epsilon", float32(c.eps()))
	}
	kv("general.file_type", fileType[typ])
	toks, types := vocabTokens()
	kv("tokenizer.ggml.model", "gpt2")
	kv("tokenizer.ggml.pre", "gpt-2")
	kv("tokenizer.ggml.tokens", toks)
	kv("tokenizer.ggml.token_type", types)
	kv("tokenizer.ggml.merges", []string{})
	kv("tokenizer.ggml.bos_token_id", uint32(EOT))
	kv("tokenizer.ggml.eos_token_id", uint32(EOT))
	kv("tokenizer.ggml.add_bos_token", true)
	kv("tokenizer.ggml.add_eos_token", false)
	if typ != quant.F32 {
		kv("general.quantization_version", uint32(2))
	}
	if err != nil {
		return nil, err
	}
	add := func(name string, rows, cols int, data []T) {
		if err != nil {
			return
		}
		t := typ
		if rows == 1 || strings.HasPrefix(name, "position_embd") {
			t = quant.F32
		}
		dims := []uint64{uint64(cols)}
		if rows > 1 {
			dims = append(dims, uint64(rows))
		}
		var raw []byte
		raw, err = encodeTensor(t, data)
		if err == nil {
			err = b.AddTensor(name, t, dims, raw)
		}
	}
	E := c.Dim
	for _, tn := range p.Tensors {
		if c.Arch == "llama" && strings.HasSuffix(tn.Name, "attn_qkv.weight") {
			pre := strings.TrimSuffix(tn.Name, "attn_qkv.weight")
			add(pre+"attn_q.weight", E, E, tn.Data[:E*E])
			add(pre+"attn_k.weight", E, E, tn.Data[E*E:2*E*E])
			add(pre+"attn_v.weight", E, E, tn.Data[2*E*E:])
			continue
		}
		add(tn.Name, tn.Rows, tn.Cols, tn.Data)
	}
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	return b, nil
}

func sortedKeys(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	for i := 1; i < len(ks); i++ {
		for j := i; j > 0 && ks[j] < ks[j-1]; j-- {
			ks[j], ks[j-1] = ks[j-1], ks[j]
		}
	}
	return ks
}

// encodeTensor stores data as t (F32 little-endian or Q8_0 blocks).
func encodeTensor[T Float](t quant.Type, data []T) ([]byte, error) {
	f := make([]float32, len(data))
	for i, v := range data {
		f[i] = float32(v)
	}
	if t == quant.F32 {
		raw := make([]byte, 4*len(f))
		for i, v := range f {
			binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
		}
		return raw, nil
	}
	raw := make([]byte, len(f)/t.BlockSize()*t.BlockBytes())
	return raw, quant.Quantize(t, raw, f)
}

// WriteTo writes p as a GGUF file to w (see Builder).
func (p *Params[T]) WriteTo(w io.Writer, typ quant.Type, name string, extra map[string]string) (int64, error) {
	b, err := p.Builder(typ, name, extra)
	if err != nil {
		return 0, err
	}
	return b.WriteTo(w)
}

// Save writes p to path atomically: a temporary file in the same directory, synced, then renamed
// over path, so that path holds either what it held before or the whole model, however the
// write ends (ctx cancelled by an interrupt included). The temporary file is removed on errors.
func (p *Params[T]) Save(ctx context.Context, path string, typ quant.Type, name string, extra map[string]string) error {
	if path == "" {
		return errors.New("train: no output file")
	}
	b, err := p.Builder(typ, name, extra)
	if err != nil {
		return err
	}
	if _, err := b.WriteFile(ctx, path); err != nil {
		return fmt.Errorf("train: writing %s: %w", path, err)
	}
	return nil
}
