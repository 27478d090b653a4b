// Package gpt2 implements the GPT-2 architecture as llama.cpp runs it: learned absolute position
// embeddings, pre-LayerNorm blocks, a fused QKV projection with bias, a GELU feed-forward and the
// LM head. Importing it registers the architecture "gpt2".
//
// Imports: engine/model, engine/backend, engine/kernels, engine/gguf.
package gpt2

import (
	"fmt"

	"github.com/attnscope/attnscope/engine/backend"
	"github.com/attnscope/attnscope/engine/gguf"
	"github.com/attnscope/attnscope/engine/kernels"
	"github.com/attnscope/attnscope/engine/model"
)

func init() { model.Register("gpt2", load) }

type block struct {
	attnNorm, ffnNorm model.Norm
	qkv, out          model.Linear
	up, down          model.Linear
}

// Model is a loaded GPT-2 model.
type Model struct {
	model.Base
	tokEmbd backend.Weight
	posEmbd []float32 // (nCtx, E)
	blocks  []block
	outNorm model.Norm
	output  backend.Weight
}

func load(f *gguf.File, cfg *model.Config, be backend.Backend) (model.Model, error) {
	cfg.Positional = "learned"
	if cfg.NKVHead != cfg.NHead {
		return nil, fmt.Errorf("%w: gpt2 with %d KV heads for %d heads", model.ErrBadModel, cfg.NKVHead, cfg.NHead)
	}
	nv, err := model.VocabSize(f)
	if err != nil {
		return nil, err
	}
	cfg.NVocab = nv
	E := cfg.NEmbd
	w := &model.Weights{F: f, B: be}
	m := &Model{Base: model.Base{Cfg: cfg, BE: be}}
	m.tokEmbd = w.Matrix("token_embd.weight", cfg.NVocab, E, false)
	m.posEmbd = w.Floats("position_embd.weight", []int{E, cfg.NCtx}, false)
	m.outNorm = w.Norm("output_norm", E, true)
	m.output = w.Matrix("output.weight", cfg.NVocab, E, true)
	if m.output == nil {
		m.output = m.tokEmbd
	}
	m.blocks = make([]block, cfg.NLayer)
	for l := range m.blocks {
		p := fmt.Sprintf("blk.%d.", l)
		b := &m.blocks[l]
		b.attnNorm = w.Norm(p+"attn_norm", E, true)
		b.qkv = w.Linear(p+"attn_qkv", 3*E, E, true)
		b.out = w.Linear(p+"attn_output", E, E, true)
		b.ffnNorm = w.Norm(p+"ffn_norm", E, true)
		b.up = w.Linear(p+"ffn_up", cfg.NFF, E, true)
		b.down = w.Linear(p+"ffn_down", E, cfg.NFF, true)
	}
	if err := w.Err(); err != nil {
		return nil, err
	}
	m.Bytes = w.Bytes
	return m, nil
}

// HasLMHead implements model.Model.
func (m *Model) HasLMHead() bool { return true }

// PositionEmbeddings returns the learned table, (nCtx, nEmbd) flattened.
func (m *Model) PositionEmbeddings() []float32 { return m.posEmbd }

// Eval implements model.Model.
func (m *Model) Eval(b *model.Batch) error {
	cfg := m.Cfg
	if err := model.CheckBatch(cfg, b); err != nil {
		return err
	}
	n, E := len(b.Tokens), cfg.NEmbd
	pos0 := b.Cache.Len()
	ar := model.GetArena()
	defer model.PutArena(ar)
	x := model.Output(b.Hidden, n*E) // (n, E) residual stream, returned as Hidden
	h := ar.Floats(n * E)            // (n, E)
	qkv := ar.Floats(n * 3 * E)      // (n, 3E): q, k, v
	q := ar.Floats(n * E)
	k := ar.Floats(n * E)
	v := ar.Floats(n * E)
	att := ar.Floats(n * E)
	ff := ar.Floats(n * cfg.NFF)
	for i, t := range b.Tokens {
		xi := x[i*E : (i+1)*E]
		m.BE.Row(xi, m.tokEmbd, int(t))
		kernels.Add(xi, m.posEmbd[(pos0+i)*E:(pos0+i+1)*E])
	}
	for l := range m.blocks {
		bl := &m.blocks[l]
		for i := 0; i < n; i++ {
			kernels.LayerNorm(h[i*E:(i+1)*E], x[i*E:(i+1)*E], bl.attnNorm.W, bl.attnNorm.B, cfg.NormEps)
		}
		bl.qkv.Apply(m.BE, qkv, h, n)
		for i := 0; i < n; i++ {
			r := qkv[i*3*E : (i+1)*3*E]
			copy(q[i*E:(i+1)*E], r[:E])
			copy(k[i*E:(i+1)*E], r[E:2*E])
			copy(v[i*E:(i+1)*E], r[2*E:])
		}
		if err := b.Cache.Append(l, k, v); err != nil {
			return err
		}
		model.SelfAttention(cfg, l, att, q, b.Cache, pos0, n, b, model.ParallelOf(m.BE))
		bl.out.Apply(m.BE, h, att, n)
		kernels.Add(x, h)
		for i := 0; i < n; i++ {
			kernels.LayerNorm(h[i*E:(i+1)*E], x[i*E:(i+1)*E], bl.ffnNorm.W, bl.ffnNorm.B, cfg.NormEps)
		}
		bl.up.Apply(m.BE, ff, h, n)
		kernels.GELU(ff)
		bl.down.Apply(m.BE, h, ff, n)
		kernels.Add(x, h)
	}
	for i := 0; i < n; i++ {
		kernels.LayerNorm(x[i*E:(i+1)*E], x[i*E:(i+1)*E], m.outNorm.W, m.outNorm.B, cfg.NormEps)
	}
	model.LMHead(b, m.BE, m.output, x, n, cfg)
	return nil
}
