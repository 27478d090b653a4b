// Package llama implements the llama architecture as llama.cpp runs it: RMSNorm, rotary position
// embeddings on adjacent pairs, grouped-query attention (head_count_kv), a SwiGLU feed-forward
// and an untied or tied LM head. Importing it registers the architecture "llama".
//
// Imports: engine/model, engine/backend, engine/kernels, engine/gguf.
package llama

import (
	"fmt"

	"github.com/attnscope/attnscope/engine/backend"
	"github.com/attnscope/attnscope/engine/gguf"
	"github.com/attnscope/attnscope/engine/kernels"
	"github.com/attnscope/attnscope/engine/model"
)

func init() { model.Register("llama", load) }

type block struct {
	attnNorm, ffnNorm []float32
	wq, wk, wv, wo    backend.Weight
	gate, up, down    backend.Weight
}

// Model is a loaded llama model.
type Model struct {
	model.Base
	tokEmbd backend.Weight
	blocks  []block
	outNorm []float32
	output  backend.Weight
	rope    kernels.RoPE
	dev     dev // state on a backend.Device (device.go)
}

func load(f *gguf.File, cfg *model.Config, be backend.Backend) (model.Model, error) {
	cfg.Positional = "rope"
	if cfg.RopeDims < 2 || cfg.RopeDims > cfg.HeadDim || cfg.RopeDims%2 != 0 {
		return nil, fmt.Errorf("%w: rope.dimension_count %d for head size %d", model.ErrBadModel, cfg.RopeDims, cfg.HeadDim)
	}
	nv, err := model.VocabSize(f)
	if err != nil {
		return nil, err
	}
	cfg.NVocab = nv
	E, kvDim := cfg.NEmbd, cfg.NKVHead*cfg.HeadDim
	w := &model.Weights{F: f, B: be}
	m := &Model{Base: model.Base{Cfg: cfg, BE: be}}
	m.tokEmbd = w.Matrix("token_embd.weight", cfg.NVocab, E, false)
	m.outNorm = w.Vector("output_norm.weight", E, false)
	m.output = w.Matrix("output.weight", cfg.NVocab, E, true)
	if m.output == nil {
		m.output = m.tokEmbd // tied embeddings
	}
	m.blocks = make([]block, cfg.NLayer)
	for l := range m.blocks {
		p := fmt.Sprintf("blk.%d.", l)
		b := &m.blocks[l]
		b.attnNorm = w.Vector(p+"attn_norm.weight", E, false)
		b.wq = w.Matrix(p+"attn_q.weight", E, E, false)
		b.wk = w.Matrix(p+"attn_k.weight", kvDim, E, false)
		b.wv = w.Matrix(p+"attn_v.weight", kvDim, E, false)
		b.wo = w.Matrix(p+"attn_output.weight", E, E, false)
		b.ffnNorm = w.Vector(p+"ffn_norm.weight", E, false)
		b.gate = w.Matrix(p+"ffn_gate.weight", cfg.NFF, E, false)
		b.up = w.Matrix(p+"ffn_up.weight", cfg.NFF, E, false)
		b.down = w.Matrix(p+"ffn_down.weight", E, cfg.NFF, false)
	}
	if err := w.Err(); err != nil {
		return nil, err
	}
	m.Bytes = w.Bytes
	m.rope = kernels.RoPE{Dims: cfg.RopeDims, Base: cfg.RopeBase, Scale: cfg.RopeScale}
	return m, nil
}

// HasLMHead implements model.Model.
func (m *Model) HasLMHead() bool { return true }

// Eval implements model.Model.
func (m *Model) Eval(b *model.Batch) error {
	if d, ok := m.BE.(backend.Device); ok {
		return m.evalDevice(d, b)
	}
	cfg := m.Cfg
	if err := model.CheckBatch(cfg, b); err != nil {
		return err
	}
	n, E, hd := len(b.Tokens), cfg.NEmbd, cfg.HeadDim
	kvDim := cfg.NKVHead * hd
	pos0 := b.Cache.Len()
	ar := model.GetArena()
	defer model.PutArena(ar)
	x := model.Output(b.Hidden, n*E) // (n, E) residual stream, returned as Hidden
	h := ar.Floats(n * E)            // (n, E) normalized input
	q := ar.Floats(n * E)            // (n, nHead, headDim)
	k := ar.Floats(n * kvDim)        // (n, nKVHead, headDim)
	v := ar.Floats(n * kvDim)
	att := ar.Floats(n * E)
	gate := ar.Floats(n * cfg.NFF)
	up := ar.Floats(n * cfg.NFF)
	rot := ar.Floats(n * cfg.RopeDims) // (n, RopeDims/2, 2) cos and sin of each token's angles
	m.rope.Table(rot, pos0, n)
	for i, t := range b.Tokens {
		m.BE.Row(x[i*E:(i+1)*E], m.tokEmbd, int(t))
	}
	for l := range m.blocks {
		bl := &m.blocks[l]
		for i := 0; i < n; i++ {
			kernels.RMSNorm(h[i*E:(i+1)*E], x[i*E:(i+1)*E], bl.attnNorm, cfg.NormEps)
		}
		backend.MatMulShared(m.BE, q, k, v, bl.wq, bl.wk, bl.wv, h, n)
		for i := 0; i < n; i++ {
			cs := rot[i*cfg.RopeDims : (i+1)*cfg.RopeDims]
			for hh := 0; hh < cfg.NHead; hh++ {
				m.rope.Rotate(q[(i*cfg.NHead+hh)*hd:(i*cfg.NHead+hh+1)*hd], cs)
			}
			for hh := 0; hh < cfg.NKVHead; hh++ {
				m.rope.Rotate(k[(i*cfg.NKVHead+hh)*hd:(i*cfg.NKVHead+hh+1)*hd], cs)
			}
		}
		if err := b.Cache.Append(l, k, v); err != nil {
			return err
		}
		model.SelfAttention(cfg, l, att, q, b.Cache, pos0, n, b, model.ParallelOf(m.BE))
		m.BE.MatMul(h, bl.wo, att, n)
		kernels.Add(x, h)
		for i := 0; i < n; i++ {
			kernels.RMSNorm(h[i*E:(i+1)*E], x[i*E:(i+1)*E], bl.ffnNorm, cfg.NormEps)
		}
		backend.MatMulShared(m.BE, gate, up, nil, bl.gate, bl.up, nil, h, n)
		kernels.SwiGLU(gate, up)
		m.BE.MatMul(h, bl.down, gate, n)
		kernels.Add(x, h)
	}
	for i := 0; i < n; i++ {
		kernels.RMSNorm(x[i*E:(i+1)*E], x[i*E:(i+1)*E], m.outNorm, cfg.NormEps)
	}
	model.LMHead(b, m.BE, m.output, x, n, cfg)
	return nil
}
