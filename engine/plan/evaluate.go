package plan

import "fmt"

// headBytes is the factors of one head's key (or value) in the cache, and their formula.
func headBytes(kv KVType, headDim int64) (formula string, factors []int64) {
	switch kv {
	case KVF32:
		return "head_dim × 4", []int64{headDim, 4}
	case KVQ8_0:
		return "⌈head_dim / 32⌉ × 34", []int64{(headDim + 31) / 32, 34}
	}
	return "head_dim × 2", []int64{headDim, 2}
}

// core is the part of a plan that depends on the KV heads and the attention implementation.
type core struct {
	kvToken, kvSeq        Term
	act, attn, work, per  Term
	actTerms, attnTerms   []Term
	maxBatch              int64
	reason, formulaMaxBat string
}

// evaluate computes the KV, workspace and max_batch terms of in.
func evaluate(in Input, gpu int64) (*core, error) {
	m := in.Model
	var c calc
	n := in.Seq
	L, d, h, kvh, hd := int64(m.Layers), int64(m.Embd), int64(m.Heads), int64(m.KVHeads), int64(m.HeadDim)
	out := &core{}

	hf, hb := headBytes(in.KVType, hd)
	out.kvToken = c.product("kv_bytes_per_token", "2 × n_layer × n_kv_head × "+hf, append([]int64{2, L, kvh}, hb...)...)
	out.kvSeq = c.product("kv_bytes_per_sequence", "kv_bytes_per_token × seq", out.kvToken.Value, n)

	// One hidden buffer: a gated block's up product finishes the activation in place.
	ffn := c.product("act_ffn_hidden", "seq × n_ff × 4", n, int64(m.FFN), 4)
	out.actTerms = []Term{
		c.product("act_residual", "seq × n_embd × 4", n, d, 4),
		c.product("act_normed", "seq × n_embd × 4", n, d, 4),
		c.product("act_q", "seq × n_head × head_dim × 4", n, h, hd, 4),
		c.product("act_kv_new", "2 × seq × n_kv_head × head_dim × 4", 2, n, kvh, hd, 4),
		ffn,
		c.product("act_logits", "n_vocab × 4", int64(m.Vocab), 4),
	}
	out.act = c.sum("activation_bytes_per_sequence", out.actTerms...)

	attnOut := c.product("attn_output", "seq × n_head × head_dim × 4", n, h, hd, 4)
	if in.Attention == Naive {
		out.attnTerms = []Term{c.product("attn_scores", "n_head × seq × seq × 4", h, n, n, 4), attnOut}
	} else {
		out.attnTerms = []Term{attnOut,
			c.product("attn_row_stats", "n_head × seq × 2 × 4", h, n, 2, 4),
			c.product("attn_tile", "n_head × tile_q × tile_k × 4", h, in.TileQ, in.TileK, 4)}
	}
	out.attn = c.sum("attention_bytes_per_sequence", out.attnTerms...)
	out.work = c.sum("workspace_bytes_per_sequence", out.act, out.attn)
	out.per = c.sum("bytes_per_sequence", out.kvSeq, out.work)
	if c.err != nil {
		return nil, c.err
	}

	w, per := m.Weights.Value, out.per.Value
	head := "max_batch = floor((gpu_bytes − weights_bytes) / (kv_bytes_per_sequence + workspace_bytes_per_sequence))"
	switch {
	case w > gpu:
		out.reason = fmt.Sprintf("the weights alone (%d bytes, %s) exceed the usable GPU memory (%d bytes, %s)", w, FormatBytes(w), gpu, FormatBytes(gpu))
		out.formulaMaxBat = fmt.Sprintf("%s\n    = 0: weights_bytes %d > gpu_bytes %d", head, w, gpu)
	default:
		free := gpu - w
		out.maxBatch = free / per
		out.formulaMaxBat = fmt.Sprintf("%s\n    = floor((%d − %d) / (%d + %d))\n    = floor(%d / %d)\n    = %d",
			head, gpu, w, out.kvSeq.Value, out.work.Value, free, per, out.maxBatch)
		if out.maxBatch == 0 {
			out.reason = fmt.Sprintf("one sequence needs %d bytes (%s) but only %d bytes (%s) remain after the weights", per, FormatBytes(per), free, FormatBytes(free))
		}
	}
	return out, nil
}

func warnings(in Input) []string {
	m := in.Model
	var w []string
	if in.Seq > int64(m.Ctx) && m.Ctx > 0 {
		s := fmt.Sprintf("sequence of %d tokens is longer than the model's context of %d: positions past it were never trained", in.Seq, m.Ctx)
		if m.Arch == "gpt2" || m.Arch == "bert" {
			s = fmt.Sprintf("sequence of %d tokens is longer than the model's context of %d: its learned position table has no rows past it, so the model cannot run it as is", in.Seq, m.Ctx)
		}
		w = append(w, s+" (the plan counts memory all the same)")
	}
	if in.KVType == KVQ8_0 && m.HeadDim%32 != 0 {
		w = append(w, fmt.Sprintf("head size %d is not a multiple of q8_0's block of 32: each head's keys and values are padded to %d values", m.HeadDim, (m.HeadDim+31)/32*32))
	}
	if !m.Causal {
		w = append(w, "encoder (non-causal) model: it keeps no KV cache between calls; the KV terms count one pass's keys and values for every layer, an upper bound")
	}
	return w
}
