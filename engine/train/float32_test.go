package train

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestFloat32Gradients checks the float32 path (the inference kernels forward, the vector
// kernels backward) against the float64 gradients the finite-difference test validates.
func TestFloat32Gradients(t *testing.T) {
	for _, arch := range []string{"gpt2", "llama"} {
		t.Run(arch, func(t *testing.T) {
			cfg := Config{Arch: arch, Vocab: 40, Dim: 32, Layers: 2, Heads: 4, FFN: 48, Ctx: 24}
			p32, err := NewParams[float32](cfg)
			if err != nil {
				t.Fatal(err)
			}
			p32.Init(4)
			r := rand.New(rand.NewPCG(3, 4))
			for i := range p32.Flat {
				p32.Flat[i] += float32(0.05 * r.NormFloat64())
			}
			p64 := Convert[float64](p32)
			samples := randomSamples(r, cfg.Vocab, 3, 20)
			g32, _ := NewParams[float32](cfg)
			g64, _ := NewParams[float64](cfg)
			l32, err := p32.LossGrad(g32, samples)
			if err != nil {
				t.Fatal(err)
			}
			l64, _ := p64.LossGrad(g64, samples)
			var num, den float64
			for i, v := range g64.Flat {
				d := float64(g32.Flat[i]) - v
				num += d * d
				den += v * v
			}
			rel := math.Sqrt(num / den)
			t.Logf("%s: loss %.6f vs %.6f; gradient relative error %.2e", arch, l32, l64, rel)
			if math.Abs(l32-l64) > 1e-3 || rel > 1e-3 {
				t.Errorf("float32 and float64 disagree: loss %.6f vs %.6f, gradient rel %.3g", l32, l64, rel)
			}
		})
	}
}
