package presets

import "testing"

func TestPresets(t *testing.T) {
	for _, n := range Names() {
		s, err := Get(n)
		if err != nil {
			t.Fatal(err)
		}
		if s.Dim%s.Heads != 0 || s.Heads%s.KVHeads != 0 {
			t.Errorf("%s: heads do not divide", n)
		}
	}
	// Known sizes: stories15M has about 15M weights (24.4M with its untied 32000×288 output),
	// Llama 2 7B about 6.74 billion.
	if p, _ := Get("llama2-7b"); p.Params() < 6.7e9 || p.Params() > 6.8e9 {
		t.Errorf("llama2-7b: %d parameters", p.Params())
	}
	if p, _ := Get("tinyllama-1.1b"); p.Params() < 1.09e9 || p.Params() > 1.11e9 {
		t.Errorf("tinyllama-1.1b: %d parameters", p.Params())
	}
	if _, err := Get("nope"); err == nil {
		t.Error("unknown preset accepted")
	}
}
