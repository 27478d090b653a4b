// Package bert implements the BERT encoder as llama.cpp runs it: token, token-type and learned
// position embeddings with a LayerNorm, bidirectional attention, post-LayerNorm blocks with a GELU
// feed-forward, and mean or CLS pooling. Importing it registers the architecture "bert".
//
// Imports: engine/model, engine/backend, engine/kernels, engine/gguf.
package bert

import (
	"fmt"

	"github.com/attnscope/attnscope/engine/backend"
	"github.com/attnscope/attnscope/engine/gguf"
	"github.com/attnscope/attnscope/engine/kernels"
	"github.com/attnscope/attnscope/engine/model"
)

func init() { model.Register("bert", load) }

type block struct {
	q, k, v, out         model.Linear
	attnOutNorm, outNorm model.Norm
	up, down             model.Linear
}

// Model is a loaded BERT encoder.
type Model struct {
	model.Base
	tokEmbd   backend.Weight
	typeEmbd  []float32 // (nTypes, E)
	nTypes    int
	posEmbd   []float32 // (nCtx, E)
	embedNorm model.Norm
	blocks    []block
}

func load(f *gguf.File, cfg *model.Config, be backend.Backend) (model.Model, error) {
	cfg.Positional = "learned"
	if cfg.NKVHead != cfg.NHead {
		return nil, fmt.Errorf("%w: bert with %d KV heads for %d heads", model.ErrBadModel, cfg.NKVHead, cfg.NHead)
	}
	nv, err := model.VocabSize(f)
	if err != nil {
		return nil, err
	}
	cfg.NVocab = nv
	if cfg.Pooling != model.PoolNone && cfg.Pooling != model.PoolMean && cfg.Pooling != model.PoolCLS && cfg.Pooling != model.PoolLast {
		return nil, fmt.Errorf("%w: pooling type %d is not supported (none, mean, cls, last)", model.ErrBadModel, int(cfg.Pooling))
	}
	E := cfg.NEmbd
	w := &model.Weights{F: f, B: be}
	m := &Model{Base: model.Base{Cfg: cfg, BE: be}}
	m.tokEmbd = w.Matrix("token_embd.weight", cfg.NVocab, E, false)
	m.nTypes = 0
	if tt, ok := f.Tensor("token_types.weight"); ok && len(tt.Dims) == 2 && tt.Dims[1] <= 1024 {
		m.nTypes = int(tt.Dims[1])
		m.typeEmbd = w.Floats("token_types.weight", []int{E, m.nTypes}, false)
	}
	m.posEmbd = w.Floats("position_embd.weight", []int{E, cfg.NCtx}, false)
	m.embedNorm = w.Norm("token_embd_norm", E, true)
	m.blocks = make([]block, cfg.NLayer)
	for l := range m.blocks {
		p := fmt.Sprintf("blk.%d.", l)
		b := &m.blocks[l]
		b.q = w.Linear(p+"attn_q", E, E, true)
		b.k = w.Linear(p+"attn_k", E, E, true)
		b.v = w.Linear(p+"attn_v", E, E, true)
		b.out = w.Linear(p+"attn_output", E, E, true)
		b.attnOutNorm = w.Norm(p+"attn_output_norm", E, true)
		b.up = w.Linear(p+"ffn_up", cfg.NFF, E, true)
		b.down = w.Linear(p+"ffn_down", E, cfg.NFF, true)
		b.outNorm = w.Norm(p+"layer_output_norm", E, true)
	}
	if err := w.Err(); err != nil {
		return nil, err
	}
	m.Bytes = w.Bytes
	return m, nil
}

// HasLMHead implements model.Model: an encoder has none.
func (m *Model) HasLMHead() bool { return false }

// PositionEmbeddings returns the learned table, (nCtx, nEmbd) flattened.
func (m *Model) PositionEmbeddings() []float32 { return m.posEmbd }

// Eval implements model.Model. An encoder sees the whole sequence at once: the cache must be
// empty, and every query attends to every token of the batch.
func (m *Model) Eval(b *model.Batch) error {
	cfg := m.Cfg
	if err := model.CheckBatch(cfg, b); err != nil {
		return err
	}
	if b.Cache.Len() != 0 {
		return fmt.Errorf("bert: an encoder evaluates the whole sequence in one batch (the cache already holds %d tokens)", b.Cache.Len())
	}
	n, E := len(b.Tokens), cfg.NEmbd
	x := make([]float32, n*E)
	h := make([]float32, n*E)
	q := make([]float32, n*E)
	k := make([]float32, n*E)
	v := make([]float32, n*E)
	att := make([]float32, n*E)
	ff := make([]float32, n*cfg.NFF)
	for i, t := range b.Tokens {
		xi := x[i*E : (i+1)*E]
		m.BE.Row(xi, m.tokEmbd, int(t))
		if m.typeEmbd != nil {
			ty := 0
			if b.Types != nil {
				ty = int(b.Types[i])
			}
			if ty < 0 || ty >= m.nTypes {
				return fmt.Errorf("bert: token type %d is outside 0..%d", ty, m.nTypes-1)
			}
			kernels.Add(xi, m.typeEmbd[ty*E:(ty+1)*E])
		}
		kernels.Add(xi, m.posEmbd[i*E:(i+1)*E])
		kernels.LayerNorm(xi, xi, m.embedNorm.W, m.embedNorm.B, cfg.NormEps)
	}
	for l := range m.blocks {
		bl := &m.blocks[l]
		model.ApplyThree(m.BE, bl.q, bl.k, bl.v, q, k, v, x, n)
		if err := b.Cache.Append(l, k, v); err != nil {
			return err
		}
		model.SelfAttention(cfg, l, att, q, b.Cache, 0, n, b, model.ParallelOf(m.BE))
		bl.out.Apply(m.BE, h, att, n)
		kernels.Add(x, h)
		for i := 0; i < n; i++ {
			kernels.LayerNorm(x[i*E:(i+1)*E], x[i*E:(i+1)*E], bl.attnOutNorm.W, bl.attnOutNorm.B, cfg.NormEps)
		}
		bl.up.Apply(m.BE, ff, x, n)
		kernels.GELU(ff)
		bl.down.Apply(m.BE, h, ff, n)
		kernels.Add(x, h)
		for i := 0; i < n; i++ {
			kernels.LayerNorm(x[i*E:(i+1)*E], x[i*E:(i+1)*E], bl.outNorm.W, bl.outNorm.B, cfg.NormEps)
		}
	}
	b.Hidden = x
	b.Logits = nil
	return nil
}
