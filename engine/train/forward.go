package train

import (
	"fmt"
	"math"
)

// Sample is one training sequence: the model reads Tokens[:len-1] and is scored on predicting
// Tokens[i+1] at each position i where Target[i] is true (len(Target) = len(Tokens)-1).
type Sample struct {
	Tokens []int32
	Target []bool
}

// layerActs are one block's saved activations for one sequence.
type layerActs[T Float] struct {
	xin, xhat1, rstd1, h1 []T // (n, E), (n, E), (n), (n, E)
	qkv, probs, att, x1   []T // (n, 3E) after RoPE, (H, n, n), (n, E), (n, E)
	xhat2, rstd2, h2      []T
	g, u, a               []T // (n, F): gate (llama), up (pre-activation), activation
}

// acts are the saved activations of one sequence.
type acts[T Float] struct {
	n      int
	tokens []int32
	layers []layerActs[T]
	xf     []T // (n, E) residual stream after the last block
	xhatf  []T
	rstdf  []T
	hf     []T // (n, E) final norm output
	logits []T // (n, Vocab)
}

// checkTokens reports tokens outside the vocabulary or too many positions.
func (p *Params[T]) checkTokens(tokens []int32) error {
	if len(tokens) == 0 || len(tokens) > p.Cfg.Ctx {
		return fmt.Errorf("train: %d tokens for a context of %d", len(tokens), p.Cfg.Ctx)
	}
	for _, t := range tokens {
		if t < 0 || int(t) >= p.Cfg.Vocab {
			return fmt.Errorf("train: token %d outside the vocabulary of %d", t, p.Cfg.Vocab)
		}
	}
	return nil
}

// Forward returns the logits (n, Vocab) of tokens at positions 0…n-1.
func (p *Params[T]) Forward(tokens []int32) ([]T, error) {
	if err := p.checkTokens(tokens); err != nil {
		return nil, err
	}
	return p.forward(tokens, p.rope()).logits, nil
}

func (p *Params[T]) rope() *ropeTable {
	if p.Cfg.Arch != "llama" {
		return nil
	}
	return newRopeTable(p.Cfg.Ctx, p.Cfg.HeadDim(), p.Cfg.ropeBase())
}

func (p *Params[T]) forward(tokens []int32, rt *ropeTable) *acts[T] {
	c := &p.Cfg
	n, E, F, H, V := len(tokens), c.Dim, c.FFN, c.Heads, c.Vocab
	hd := E / H
	gpt2 := c.Arch == "gpt2"
	eps := c.eps()
	a := &acts[T]{n: n, tokens: tokens, layers: make([]layerActs[T], c.Layers)}
	x := make([]T, n*E)
	for i, t := range tokens {
		copy(x[i*E:(i+1)*E], p.tok[int(t)*E:(int(t)+1)*E])
		if gpt2 {
			axpy(x[i*E:(i+1)*E], 1, p.pos[i*E:(i+1)*E])
		}
	}
	for l := range p.blocks {
		b := &p.blocks[l]
		la := &a.layers[l]
		la.xin = x
		la.xhat1, la.rstd1, la.h1 = make([]T, n*E), make([]T, n), make([]T, n*E)
		normForward(la.h1, la.xhat1, la.rstd1, x, b.norm1W, b.norm1B, n, E, eps, gpt2)
		la.qkv = make([]T, n*3*E)
		linear(la.qkv, la.h1, b.qkv, b.qkvB, n, E, 3*E)
		if rt != nil {
			for i := 0; i < n; i++ {
				for h := 0; h < 2*H; h++ { // query heads, then key heads
					rotate(rt, la.qkv[i*3*E+h*hd:i*3*E+(h+1)*hd], i, false)
				}
			}
		}
		la.probs, la.att = make([]T, H*n*n), make([]T, n*E)
		attnForward(la.att, la.probs, la.qkv, n, E, H)
		la.x1 = make([]T, n*E)
		linear(la.x1, la.att, b.wo, b.woB, n, E, E)
		axpy(la.x1, 1, x)
		la.xhat2, la.rstd2, la.h2 = make([]T, n*E), make([]T, n), make([]T, n*E)
		normForward(la.h2, la.xhat2, la.rstd2, la.x1, b.norm2W, b.norm2B, n, E, eps, gpt2)
		la.u, la.a = make([]T, n*F), make([]T, n*F)
		linear(la.u, la.h2, b.up, b.upB, n, E, F)
		if gpt2 {
			geluForward(la.a, la.u)
		} else {
			la.g = make([]T, n*F)
			linear(la.g, la.h2, b.gate, nil, n, E, F)
			swigluForward(la.a, la.g, la.u)
		}
		x = make([]T, n*E)
		linear(x, la.a, b.down, b.downB, n, F, E)
		axpy(x, 1, la.x1)
	}
	a.xf = x
	a.xhatf, a.rstdf, a.hf = make([]T, n*E), make([]T, n), make([]T, n*E)
	normForward(a.hf, a.xhatf, a.rstdf, x, p.normW, p.normB, n, E, eps, gpt2)
	a.logits = make([]T, n*V)
	linear(a.logits, a.hf, p.out, nil, n, E, V)
	return a
}

// lossGrad runs one sample forward and backward. Each scored position adds
// −log softmax(logits)[next] · weight to the returned loss and its gradient to g. It returns the
// unweighted loss sum and the number of scored positions.
func (p *Params[T]) lossGrad(g *Params[T], s Sample, weight float64, rt *ropeTable) (float64, int) {
	c := &p.Cfg
	in := s.Tokens[:len(s.Tokens)-1]
	a := p.forward(in, rt)
	n, E, F, H, V := a.n, c.Dim, c.FFN, c.Heads, c.Vocab
	hd := E / H
	gpt2 := c.Arch == "gpt2"
	dlogits := make([]T, n*V)
	var loss float64
	count := 0
	for i := 0; i < n; i++ {
		if !s.Target[i] {
			continue
		}
		count++
		row := a.logits[i*V : (i+1)*V]
		mx := math.Inf(-1)
		for _, v := range row {
			mx = max(mx, float64(v))
		}
		var sum float64
		for _, v := range row {
			sum += math.Exp(float64(v) - mx)
		}
		next := int(s.Tokens[i+1])
		loss += mx + math.Log(sum) - float64(row[next])
		if g == nil {
			continue
		}
		d := dlogits[i*V : (i+1)*V]
		for j, v := range row {
			d[j] = T(math.Exp(float64(v)-mx) / sum * weight)
		}
		d[next] -= T(weight)
	}
	if g == nil || count == 0 {
		return loss, count
	}
	dh := make([]T, n*E)
	linearBack(dh, g.out, nil, dlogits, a.hf, p.out, n, E, V)
	dx := make([]T, n*E)
	normBack(dx, g.normW, g.normB, dh, a.xhatf, a.rstdf, p.normW, n, E, gpt2)
	da := make([]T, n*F)
	du := make([]T, n*F)
	dg := make([]T, n*F)
	datt := make([]T, n*E)
	dqkv := make([]T, n*3*E)
	for l := len(p.blocks) - 1; l >= 0; l-- {
		b, gb, la := &p.blocks[l], &g.blocks[l], &a.layers[l]
		// Feed-forward branch: x = x1 + down(act(h2)).
		clear(da)
		linearBack(da, gb.down, gb.downB, dx, la.a, b.down, n, F, E)
		clear(dh)
		if gpt2 {
			geluBack(du, da, la.u)
		} else {
			swigluBack(dg, du, da, la.g, la.u)
			linearBack(dh, gb.gate, nil, dg, la.h2, b.gate, n, E, F)
		}
		linearBack(dh, gb.up, gb.upB, du, la.h2, b.up, n, E, F)
		normBack(dx, gb.norm2W, gb.norm2B, dh, la.xhat2, la.rstd2, b.norm2W, n, E, gpt2)
		// Attention branch: x1 = xin + wo(attn(qkv(h1))).
		clear(datt)
		linearBack(datt, gb.wo, gb.woB, dx, la.att, b.wo, n, E, E)
		clear(dqkv)
		attnBack(dqkv, datt, la.probs, la.qkv, n, E, H)
		if rt != nil {
			for i := 0; i < n; i++ {
				for h := 0; h < 2*H; h++ {
					rotate(rt, dqkv[i*3*E+h*hd:i*3*E+(h+1)*hd], i, true)
				}
			}
		}
		clear(dh)
		linearBack(dh, gb.qkv, gb.qkvB, dqkv, la.h1, b.qkv, n, E, 3*E)
		normBack(dx, gb.norm1W, gb.norm1B, dh, la.xhat1, la.rstd1, b.norm1W, n, E, gpt2)
	}
	for i, t := range in {
		axpy(g.tok[int(t)*E:(int(t)+1)*E], 1, dx[i*E:(i+1)*E])
		if gpt2 {
			axpy(g.pos[i*E:(i+1)*E], 1, dx[i*E:(i+1)*E])
		}
	}
	return loss, count
}

// LossGrad returns the mean cross-entropy over the scored positions of samples and, when g is
// not nil, adds its gradient to g (a zeroed Params of the same shape). It runs on one goroutine.
func (p *Params[T]) LossGrad(g *Params[T], samples []Sample) (float64, error) {
	total := 0
	for _, s := range samples {
		if err := p.checkSample(s); err != nil {
			return 0, err
		}
		for _, t := range s.Target {
			if t {
				total++
			}
		}
	}
	if total == 0 {
		return 0, fmt.Errorf("train: no scored positions in %d samples", len(samples))
	}
	rt := p.rope()
	var loss float64
	for _, s := range samples {
		l, _ := p.lossGrad(g, s, 1/float64(total), rt)
		loss += l
	}
	return loss / float64(total), nil
}

func (p *Params[T]) checkSample(s Sample) error {
	if len(s.Tokens) < 2 || len(s.Target) != len(s.Tokens)-1 {
		return fmt.Errorf("train: a sample of %d tokens has %d targets (want tokens-1, at least 1)", len(s.Tokens), len(s.Target))
	}
	if err := p.checkTokens(s.Tokens[:len(s.Tokens)-1]); err != nil {
		return err
	}
	if t := s.Tokens[len(s.Tokens)-1]; t < 0 || int(t) >= p.Cfg.Vocab {
		return fmt.Errorf("train: token %d outside the vocabulary of %d", t, p.Cfg.Vocab)
	}
	return nil
}
