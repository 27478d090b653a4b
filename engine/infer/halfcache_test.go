package infer_test

import (
	"math"
	"testing"

	"github.com/attnscope/attnscope/engine/backend/cpu"
	"github.com/attnscope/attnscope/engine/infer"
	"github.com/attnscope/attnscope/engine/kvcache"
	"github.com/attnscope/attnscope/internal/shareddata"
)

// halfTol bounds what an F16 KV cache changes in the logits of the reference models (llama.cpp
// measured up to 0.024 on stories260K and 0.007 on tiny-gpt2 between its F16 and F32 caches).
const halfTol = 0.05

// An F16 KV cache gives the references' logits within halfTol: the prompt's (keys and values
// widened for the prompt's attention) against llama.cpp's F32-cache logits, and each token of
// llama.cpp's greedy continuation decoded one at a time (the binary16 values read directly)
// against the same tokens decoded with a float32 cache. The cache holds half the bytes.
func TestHalfCacheReference(t *testing.T) {
	for _, c := range []struct{ ref, file string }{
		{"stories260K.json", "stories260K.gguf"},
		{"tiny-gpt2-synthetic.json", "tiny-gpt2-synthetic.gguf"},
	} {
		t.Run(c.file, func(t *testing.T) {
			ref := shareddata.LoadReference(t, c.ref)
			v := ref.Variant(c.file, false)
			if v == nil {
				t.Fatalf("%s has no run of %s", c.ref, c.file)
			}
			l, err := infer.Open(shareddata.Model(t, c.file), cpu.NewWithOptions(cpu.Options{Compute: cpu.ComputeF32}))
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			nv := l.Model.Config().NVocab
			var maxPrompt, maxDecode float64
			for _, r := range v.Results {
				half := l.NewSession(infer.Options{KVType: kvcache.F16})
				full := l.NewSession(infer.Options{})
				_, hb, err := half.Prefill(r.Prompt, true)
				if err != nil {
					t.Fatal(err)
				}
				hLogits := append([]float32(nil), hb.Logits...)
				if _, _, err := full.Prefill(r.Prompt, false); err != nil {
					t.Fatal(err)
				}
				for _, p := range r.Logits.Positions {
					for _, pair := range p.Top {
						d := math.Abs(float64(hLogits[p.Pos*nv+int(pair[0])]) - pair[1])
						maxPrompt = math.Max(maxPrompt, d)
						if d > halfTol {
							t.Errorf("%q pos %d id %d: logit %v with an F16 cache, llama.cpp %v", r.Prompt, p.Pos, int(pair[0]), hLogits[p.Pos*nv+int(pair[0])], pair[1])
						}
					}
				}
				for i, id := range r.Greedy.IDs {
					hl, err := half.Step(id)
					if err != nil {
						t.Fatal(err)
					}
					hl = append([]float32(nil), hl...)
					fl, err := full.Step(id)
					if err != nil {
						t.Fatal(err)
					}
					for j := range fl {
						d := math.Abs(float64(hl[j] - fl[j]))
						maxDecode = math.Max(maxDecode, d)
						if d > halfTol {
							t.Fatalf("%q: token %d of the continuation, logit %d: %v with an F16 cache, %v with float32", r.Prompt, i, j, hl[j], fl[j])
						}
					}
				}
				if 2*half.Cache.Bytes(0) != full.Cache.Bytes(0) || half.Cache.Len() != full.Cache.Len() {
					t.Errorf("cache bytes %d (F16) against %d", half.Cache.Bytes(0), full.Cache.Bytes(0))
				}
			}
			t.Logf("F16 KV cache: max |Δlogit| %.3g on the prompts (against llama.cpp's F32 cache), %.3g decoding (against ours)", maxPrompt, maxDecode)
		})
	}
}
