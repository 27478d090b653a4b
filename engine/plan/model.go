package plan

import (
	"fmt"
	"strings"

	"github.com/attnscope/attnscope/engine/gguf"
	"github.com/attnscope/attnscope/engine/model"
	"github.com/attnscope/attnscope/engine/presets"
	"github.com/attnscope/attnscope/engine/quant"
)

// Model is the part of a model the plan needs: its shape and the bytes of its weights.
type Model struct {
	Name       string `json:"name"`
	Source     string `json:"source"` // "file" or "preset"
	Arch       string `json:"arch"`
	Layers     int    `json:"n_layer"`
	Embd       int    `json:"n_embd"`
	Heads      int    `json:"n_head"`
	KVHeads    int    `json:"n_kv_head"`
	HeadDim    int    `json:"head_dim"`
	FFN        int    `json:"n_ff"`
	Vocab      int    `json:"n_vocab"`
	Ctx        int    `json:"n_ctx"`
	Causal     bool   `json:"causal"`
	Params     int64  `json:"params"`
	WeightType string `json:"weight_type"`
	// Weights is the weights_bytes term: how the bytes were counted.
	Weights Term `json:"weights"`
}

// WeightTypes are the weight types FromPreset accepts.
var WeightTypes = []string{"f32", "f16", "bf16", "q8_0", "q4_0"}

// ParseWeightType reads a weight type name (f32, f16, bf16, q8_0, q4_0; any case).
func ParseWeightType(s string) (quant.Type, error) {
	switch strings.ToLower(s) {
	case "f32":
		return quant.F32, nil
	case "f16":
		return quant.F16, nil
	case "bf16":
		return quant.BF16, nil
	case "q8_0":
		return quant.Q8_0, nil
	case "q4_0":
		return quant.Q4_0, nil
	}
	return 0, fmt.Errorf("unknown weight type %q (types: %s)", s, strings.Join(WeightTypes, ", "))
}

// FromGGUF reads a model's shape from its metadata and its weight bytes from its tensors: the
// weights_bytes of the plan are the exact sum of the tensors' data sizes.
func FromGGUF(f *gguf.File) (Model, error) {
	cfg, err := model.ReadConfig(f)
	if err != nil {
		return Model{}, err
	}
	m := Model{Name: cfg.Name, Source: "file", Arch: cfg.Arch, Layers: cfg.NLayer, Embd: cfg.NEmbd,
		Heads: cfg.NHead, KVHeads: cfg.NKVHead, HeadDim: cfg.HeadDim, FFN: cfg.NFF, Ctx: cfg.NCtx,
		Causal: cfg.Causal, WeightType: cfg.FileType}
	if m.Name == "" {
		m.Name = cfg.Arch
	}
	if t, ok := f.Tensor("token_embd.weight"); ok && len(t.Dims) == 2 && t.Dims[1] < 1<<31 {
		m.Vocab = int(t.Dims[1])
	} else if toks, ok := f.Strings("tokenizer.ggml.tokens"); ok {
		m.Vocab = len(toks)
	}
	var c calc
	for _, t := range f.Tensors {
		m.Weights.Value = c.add("weights_bytes", m.Weights.Value, t.Size)
		n := t.Elements()
		if n > 1<<62 {
			return Model{}, fmt.Errorf("plan: tensor %q: %d elements", t.Name, n)
		}
		m.Params = c.add("parameters", m.Params, int64(n))
	}
	if c.err != nil {
		return Model{}, c.err
	}
	m.Weights.Name = "weights_bytes"
	m.Weights.Formula = fmt.Sprintf("Σ data bytes of the file's %d tensors (%d parameters as stored)", len(f.Tensors), m.Params)
	m.Weights.Substituted = fmt.Sprint(m.Weights.Value)
	return m, nil
}

// tensor is count weight tensors of a preset of the same shape: rows × cols elements each, rows
// of cols elements.
type tensor struct {
	name              string
	rows, cols, count int64
	vector            bool // a norm or a bias: kept in F32
}

// presetTensors lists a preset's tensors the way the GGUF converters name and shape them; the
// per-layer tensors appear once with count = layers.
func presetTensors(s presets.Shape) []tensor {
	d, f, v, l := int64(s.Dim), int64(s.FFN), int64(s.Vocab), int64(s.Layers)
	kv := int64(s.KVHeads * s.HeadDim())
	var ts []tensor
	add := func(name string, rows, cols, count int64) { ts = append(ts, tensor{name, rows, cols, count, false}) }
	vec := func(name string, n, count int64) { ts = append(ts, tensor{name, 1, n, count, true}) }
	add("token_embd", v, d, 1)
	if s.Arch == "gpt2" {
		add("position_embd", int64(s.Ctx), d, 1)
		vec("attn_norm", d, 2*l) // weight and bias
		add("attn_qkv", d+2*kv, d, l)
		vec("attn_qkv_bias", d+2*kv, l)
		add("attn_output", d, d, l)
		vec("attn_output_bias", d, l)
		vec("ffn_norm", d, 2*l)
		add("ffn_up", f, d, l)
		vec("ffn_up_bias", f, l)
		add("ffn_down", d, f, l)
		vec("ffn_down_bias", d, l)
		vec("output_norm", d, 2)
	} else {
		vec("attn_norm", d, l)
		add("attn_q", d, d, l)
		add("attn_k", kv, d, l)
		add("attn_v", kv, d, l)
		add("attn_output", d, d, l)
		vec("ffn_norm", d, l)
		add("ffn_gate", f, d, l)
		add("ffn_up", f, d, l)
		add("ffn_down", d, f, l)
		vec("output_norm", d, 1)
	}
	add("output", v, d, 1)
	return ts
}

// FromPreset builds a preset's Model with its weights stored as wtype: every matrix in wtype
// (bytes per weight including block scales: Q8_0 34 per 32, Q4_0 18 per 32), every vector (norms,
// biases) in F32, as GGUF files keep them.
func FromPreset(s presets.Shape, wtype quant.Type) (Model, error) {
	if s.Dim < 1 || s.Heads < 1 || s.KVHeads < 1 || s.Layers < 1 || s.FFN < 1 || s.Vocab < 1 || s.Ctx < 1 || s.Dim%s.Heads != 0 {
		return Model{}, fmt.Errorf("preset %q: bad shape %+v", s.Name, s)
	}
	bs, bb := int64(wtype.BlockSize()), int64(wtype.BlockBytes())
	if bs == 0 {
		return Model{}, fmt.Errorf("preset %q: unknown weight type %v", s.Name, wtype)
	}
	m := Model{Name: s.Name, Source: "preset", Arch: s.Arch, Layers: s.Layers, Embd: s.Dim,
		Heads: s.Heads, KVHeads: s.KVHeads, HeadDim: s.HeadDim(), FFN: s.FFN, Vocab: s.Vocab, Ctx: s.Ctx,
		Causal: true, WeightType: wtype.String()}
	var c calc
	var matrix, vector int64
	for _, t := range presetTensors(s) {
		n := c.mul("parameters", t.rows, t.cols, t.count)
		if t.vector {
			vector = c.add("parameters", vector, n)
			continue
		}
		if t.cols%bs != 0 {
			return Model{}, fmt.Errorf("preset %q: tensor %s has rows of %d weights, not a multiple of %s's block of %d", s.Name, t.name, t.cols, wtype, bs)
		}
		matrix = c.add("parameters", matrix, n)
	}
	m.Params = c.add("parameters", matrix, vector)
	mb := c.mul("weights_bytes", matrix/bs, bb)
	vb := c.mul("weights_bytes", vector, 4)
	m.Weights = Term{Name: "weights_bytes", Value: c.add("weights_bytes", mb, vb)}
	if bs == 1 {
		m.Weights.Formula = fmt.Sprintf("matrix_weights × %d + vector_weights × 4", bb)
		m.Weights.Substituted = fmt.Sprintf("%d × %d + %d × 4", matrix, bb, vector)
	} else {
		m.Weights.Formula = fmt.Sprintf("matrix_weights / %d × %d + vector_weights × 4", bs, bb)
		m.Weights.Substituted = fmt.Sprintf("%d / %d × %d + %d × 4", matrix, bs, bb, vector)
	}
	if c.err != nil {
		return Model{}, c.err
	}
	return m, nil
}
