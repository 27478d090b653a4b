package train

import (
	"math"
	"math/rand/v2"
	"testing"
)

func tinyConfig(arch string) Config {
	return Config{Arch: arch, Vocab: 11, Dim: 8, Layers: 2, Heads: 2, FFN: 12, Ctx: 8}
}

func randomSamples(r *rand.Rand, vocab, count, length int) []Sample {
	var ss []Sample
	for range count {
		s := Sample{Tokens: make([]int32, length), Target: make([]bool, length-1)}
		for i := range s.Tokens {
			s.Tokens[i] = int32(r.IntN(vocab))
		}
		for i := range s.Target {
			s.Target[i] = i == 0 || r.IntN(3) > 0
		}
		ss = append(ss, s)
	}
	return ss
}

// TestGradients compares the backward pass of every parameter tensor (so of every layer:
// embeddings, learned positions or RoPE, LayerNorm or RMSNorm, the attention projections and
// causal softmax, GELU or SwiGLU feed-forward, the LM head and cross-entropy) with central
// finite differences in float64.
func TestGradients(t *testing.T) {
	for _, arch := range []string{"gpt2", "llama"} {
		t.Run(arch, func(t *testing.T) {
			p, err := NewParams[float64](tinyConfig(arch))
			if err != nil {
				t.Fatal(err)
			}
			p.Init(3)
			r := rand.New(rand.NewPCG(1, 2))
			for i := range p.Flat { // move norms and biases off 1 and 0 so that their gradients matter
				p.Flat[i] += 0.05 * r.NormFloat64()
			}
			samples := randomSamples(r, p.Cfg.Vocab, 2, 7)
			g, _ := NewParams[float64](p.Cfg)
			if _, err := p.LossGrad(g, samples); err != nil {
				t.Fatal(err)
			}
			const h = 1e-5
			worst := 0.0
			for ti, tn := range p.Tensors {
				maxAbs, maxRel := 0.0, 0.0
				for j := range tn.Data {
					old := tn.Data[j]
					tn.Data[j] = old + h
					lp, _ := p.LossGrad(nil, samples)
					tn.Data[j] = old - h
					lm, _ := p.LossGrad(nil, samples)
					tn.Data[j] = old
					num := (lp - lm) / (2 * h)
					ana := g.Tensors[ti].Data[j]
					d := math.Abs(num - ana)
					maxAbs = max(maxAbs, d)
					maxRel = max(maxRel, d/max(math.Abs(num)+math.Abs(ana), 1e-6))
				}
				worst = max(worst, maxRel)
				t.Logf("%-24s max abs %.2e  max rel %.2e", tn.Name, maxAbs, maxRel)
				if maxAbs > 1e-8 && maxRel > 1e-4 {
					t.Errorf("%s: gradient differs from finite differences: rel %.3g abs %.3g", tn.Name, maxRel, maxAbs)
				}
			}
			t.Logf("%s: worst relative error %.2e over %d parameters", arch, worst, p.Count())
		})
	}
}
