package infer

import (
	"math"
	"testing"
)

func TestArgmaxTiesToLowerID(t *testing.T) {
	if got := Argmax([]float32{1, 3, 2, 3}); got != 1 {
		t.Fatalf("Argmax = %d, want 1", got)
	}
}

func TestSamplerGreedyAndLimits(t *testing.T) {
	logits := []float32{0.5, 2, 1.9, -1, 0}
	if got := NewSampler(SamplerOptions{}).Sample(logits); got != 1 {
		t.Errorf("temperature 0: %d", got)
	}
	for seed := uint64(0); seed < 50; seed++ {
		if got := NewSampler(SamplerOptions{Temperature: 5, TopK: 1, Seed: seed}).Sample(logits); got != 1 {
			t.Fatalf("top-k 1 picked %d", got)
		}
		if got := NewSampler(SamplerOptions{Temperature: 1, TopP: 0.01, Seed: seed}).Sample(logits); got != 1 {
			t.Fatalf("top-p 0.01 picked %d", got)
		}
		got := NewSampler(SamplerOptions{Temperature: 1, TopK: 2, Seed: seed}).Sample(logits)
		if got != 1 && got != 2 {
			t.Fatalf("top-k 2 picked %d", got)
		}
	}
}

func TestSamplerSeedsAndDistribution(t *testing.T) {
	logits := []float32{0, math.Float32frombits(0x3f317218), 0} // 0, ln 2, 0: probabilities 1/4, 1/2, 1/4
	a := NewSampler(SamplerOptions{Temperature: 1, Seed: 7})
	b := NewSampler(SamplerOptions{Temperature: 1, Seed: 7})
	counts := make([]int, 3)
	const n = 20000
	for i := 0; i < n; i++ {
		x, y := a.Sample(logits), b.Sample(logits)
		if x != y {
			t.Fatal("the same seed gave different tokens")
		}
		counts[x]++
	}
	want := []float64{0.25, 0.5, 0.25}
	for i, c := range counts {
		if got := float64(c) / n; math.Abs(got-want[i]) > 0.02 {
			t.Errorf("token %d drawn %.3f of the time, want %.2f", i, got, want[i])
		}
	}
	c := NewSampler(SamplerOptions{Temperature: 1, Seed: 8})
	same := 0
	a = NewSampler(SamplerOptions{Temperature: 1, Seed: 7})
	for i := 0; i < 200; i++ {
		if a.Sample(logits) == c.Sample(logits) {
			same++
		}
	}
	if same == 200 {
		t.Error("different seeds gave identical streams")
	}
}

func TestSamplerValidate(t *testing.T) {
	for _, o := range []SamplerOptions{{TopK: -1}, {TopP: -0.5}, {Temperature: float32(math.NaN())}, {Temperature: float32(math.Inf(1))}} {
		if o.Validate() == nil {
			t.Errorf("%+v accepted", o)
		}
	}
}
