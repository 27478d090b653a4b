package synth

import (
	"context"
	"fmt"

	"github.com/attnscope/attnscope/engine/gguf"
	"github.com/attnscope/attnscope/engine/quant"
)

// fill says how a tensor's values are made.
type fill int

const (
	random fill = iota // N(0, 0.02), see the package documentation
	ones               // norm weights
	zeros              // biases
)

// tensorSpec is one tensor of the file. dims are in ggml order: dims[0] is the row length.
type tensorSpec struct {
	name string
	typ  quant.Type
	dims []uint64
	fill fill
}

func (t *tensorSpec) cols() int { return int(t.dims[0]) }

func (t *tensorSpec) rows() int {
	if len(t.dims) == 1 {
		return 1
	}
	return int(t.dims[1])
}

func (t *tensorSpec) elements() int64 { return int64(t.cols()) * int64(t.rows()) }

func (t *tensorSpec) bytes() int64 {
	return t.elements() / int64(t.typ.BlockSize()) * int64(t.typ.BlockBytes())
}

// tensors lists the file's tensors in the order they are written, with llama.cpp's names and
// shapes:
//
//	llama: token_embd (Dim, Vocab), output_norm (Dim), output (Dim, Vocab), then per layer
//	       attn_norm, attn_q (Dim, Dim), attn_k and attn_v (Dim, KVHeads·HeadDim),
//	       attn_output (Dim, Dim), ffn_norm, ffn_gate and ffn_up (Dim, FFN), ffn_down (FFN, Dim)
//	gpt2:  token_embd (Dim, Vocab), position_embd (Dim, Ctx), then per layer attn_norm(.bias),
//	       attn_qkv (Dim, 3·Dim) + bias, attn_output (Dim, Dim) + bias, ffn_norm(.bias),
//	       ffn_up (Dim, FFN) + bias, ffn_down (FFN, Dim) + bias; then output_norm(.bias) and
//	       output (Dim, Vocab)
//
// Matrices take o.Type, vectors F32. o must have passed checkShape.
func (o *Options) tensors() []tensorSpec {
	d, f, v := uint64(o.Dim), uint64(o.FFN), uint64(o.Vocab)
	kv := uint64(o.kvHeads() * (o.Dim / o.Heads))
	var ts []tensorSpec
	mat := func(name string, cols, rows uint64) {
		ts = append(ts, tensorSpec{name + ".weight", o.Type, []uint64{cols, rows}, random})
	}
	vec := func(name string, n uint64, fl fill) {
		ts = append(ts, tensorSpec{name, quant.F32, []uint64{n}, fl})
	}
	norm := func(name string, bias bool) {
		vec(name+".weight", d, ones)
		if bias {
			vec(name+".bias", d, zeros)
		}
	}
	switch o.Arch {
	case "llama":
		mat("token_embd", d, v)
		norm("output_norm", false)
		mat("output", d, v)
		for l := range o.Layers {
			p := fmt.Sprintf("blk.%d.", l)
			norm(p+"attn_norm", false)
			mat(p+"attn_q", d, d)
			mat(p+"attn_k", d, kv)
			mat(p+"attn_v", d, kv)
			mat(p+"attn_output", d, d)
			norm(p+"ffn_norm", false)
			mat(p+"ffn_gate", d, f)
			mat(p+"ffn_up", d, f)
			mat(p+"ffn_down", f, d)
		}
	case "gpt2":
		mat("token_embd", d, v)
		mat("position_embd", d, uint64(o.Ctx))
		if o.Type != quant.F16 {
			ts[len(ts)-1].typ = quant.F32 // as llama.cpp's quantizer leaves it
		}
		for l := range o.Layers {
			p := fmt.Sprintf("blk.%d.", l)
			norm(p+"attn_norm", true)
			mat(p+"attn_qkv", d, d+2*kv)
			vec(p+"attn_qkv.bias", d+2*kv, zeros)
			mat(p+"attn_output", d, d)
			vec(p+"attn_output.bias", d, zeros)
			norm(p+"ffn_norm", true)
			mat(p+"ffn_up", d, f)
			vec(p+"ffn_up.bias", f, zeros)
			mat(p+"ffn_down", f, d)
			vec(p+"ffn_down.bias", d, zeros)
		}
		norm("output_norm", true)
		mat("output", d, v)
	}
	return ts
}

// Size is what Estimate computes before anything is generated.
type Size struct {
	Params      int64 // weights, norms and biases
	Tensors     int
	TensorBytes int64 // the tensors' data, without padding
	FileBytes   int64 // the exact size of the file Generate writes
}

// Estimate validates o and computes the size of the model it describes without generating
// weights (it builds the vocabulary, which takes milliseconds). It fails as Validate does,
// including with ErrTooLarge when the file would exceed the size limit.
func Estimate(o Options) (Size, error) { return o.estimate() }

func (o *Options) estimate() (Size, error) {
	_, s, err := o.prepare(nil)
	return s, err
}

// prepare validates o, computes its Size and returns a Builder holding its metadata and, when
// ctx is not nil, its tensors (random matrices are generated, watching ctx, while the Builder is
// written).
func (o *Options) prepare(ctx context.Context) (*gguf.Builder, Size, error) {
	if err := o.checkShape(); err != nil {
		return nil, Size{}, err
	}
	var s Size
	ts := o.tensors()
	s.Tensors = len(ts)
	for i := range ts {
		s.Params += ts[i].elements()
		s.TensorBytes += ts[i].bytes()
	}
	limit := o.MaxBytes
	if limit == 0 {
		limit = DefaultMaxBytes
	}
	// Refuse on the tensors alone before building a vocabulary that may be large.
	if s.TensorBytes > limit {
		return nil, s, o.tooLarge(s.TensorBytes, s.Params, limit)
	}
	b, err := o.metadata()
	if err != nil {
		return nil, s, err
	}
	if s.FileBytes, err = fileSize(b, ts); err != nil {
		return nil, s, err
	}
	if s.FileBytes > limit {
		return nil, s, o.tooLarge(s.FileBytes, s.Params, limit)
	}
	if ctx != nil {
		if err := o.addTensors(ctx, b, ts); err != nil {
			return nil, s, err
		}
	}
	return b, s, nil
}

func (o *Options) tooLarge(size, params int64, limit int64) error {
	return &optionError{ErrTooLarge, fmt.Sprintf("the file would take %s (%d parameters at about %.3g bytes each as %s), "+
		"over the limit of %s; running it needs about that much memory too",
		HumanBytes(size), params, bytesPerWeight(o.Type), o.Type, HumanBytes(limit))}
}

// HumanBytes formats n as "12.3 MiB".
func HumanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	x, i := float64(n), 0
	for x >= unit && i < 6 {
		x /= unit
		i++
	}
	return fmt.Sprintf("%.1f %ciB", x, "KMGTPE"[i-1])
}
