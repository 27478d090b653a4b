package train

import (
	"math/rand/v2"
	"testing"
)

// TestSmoke trains a tiny model on reverse for a few dozen steps and checks the loss falls.
func TestSmoke(t *testing.T) {
	for _, arch := range []string{"gpt2", "llama"} {
		t.Run(arch, func(t *testing.T) {
			task, err := NewTask("reverse", 4, nil)
			if err != nil {
				t.Fatal(err)
			}
			cfg := Config{Arch: arch, Vocab: VocabSize, Dim: 32, Layers: 1, Heads: 2, FFN: 64, Ctx: task.MinCtx()}
			p, err := NewParams[float32](cfg)
			if err != nil {
				t.Fatal(err)
			}
			p.Init(1)
			const steps = 40
			tr := NewTrainer(p, AdamW{WeightDecay: 0.01, Clip: 1}, Schedule{LR: 1e-2, MinLR: 1e-3, Warmup: 5, Steps: steps})
			r := rand.New(rand.NewPCG(1, 1))
			held := task.Batch(rand.New(rand.NewPCG(9, 9)), 64, cfg.Ctx)
			before, _ := tr.Loss(held)
			var first, last float64
			for i := range steps {
				st, err := tr.Step(task.Batch(r, 16, cfg.Ctx))
				if err != nil {
					t.Fatal(err)
				}
				if i == 0 {
					first = st.Loss
				}
				last = st.Loss
			}
			after, _ := tr.Loss(held)
			t.Logf("%s: batch loss %.3f → %.3f; held-out loss %.3f → %.3f", arch, first, last, before, after)
			if after > 0.6*before {
				t.Errorf("held-out loss fell only from %.3f to %.3f", before, after)
			}
		})
	}
}
