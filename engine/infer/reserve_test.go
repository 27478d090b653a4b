package infer_test

import (
	"context"
	"slices"
	"testing"

	"github.com/attnscope/attnscope/engine/infer"
	"github.com/attnscope/attnscope/engine/kvcache"
	"github.com/attnscope/attnscope/engine/model"
)

// Generate reserves the prompt and the tokens to generate once: the KV storage of every step is
// that size exactly, and the cache holds what a cache grown by appends alone holds.
func TestGenerateReservesOnce(t *testing.T) {
	l := openStories(t)
	text := longText(t, l, infer.Chunk+90) // a chunked prefill, which a growing cache doubles for
	const maxTokens = 12
	s := l.NewSession(infer.Options{})
	res, err := s.Generate(context.Background(), text, infer.GenerateOptions{MaxTokens: maxTokens}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Generated) != maxTokens || res.StoppedAtEOS {
		t.Skipf("generation stopped after %d tokens", len(res.Generated))
	}
	cfg := l.Model.Config()
	held := len(res.Prompt) + maxTokens - 1 // the last token sampled is not evaluated
	want := int64(held) * int64(s.Cache.KVDim()) * 4 * 2
	if len(s.Trace.Steps) != maxTokens {
		t.Fatalf("%d steps, want %d", len(s.Trace.Steps), maxTokens)
	}
	for i, st := range s.Trace.Steps {
		for layer, c := range st.KV.CapacityPerLayer {
			if c != want {
				t.Fatalf("step %d layer %d: %d bytes of storage, want %d (prompt %d + %d tokens)", i, layer, c, want, len(res.Prompt), maxTokens-1)
			}
		}
	}

	// The growing path: the same tokens through a bare cache, in the session's chunks.
	ids := append(slices.Clone(res.Prompt), res.Generated[:maxTokens-1]...)
	grown := model.NewCache(cfg, 0)
	for i := 0; i < len(ids); {
		n := 1
		if i < len(res.Prompt) {
			n = min(infer.Chunk, len(res.Prompt)-i)
		}
		if err := l.Model.Eval(&model.Batch{Tokens: ids[i : i+n], Cache: grown}); err != nil {
			t.Fatal(err)
		}
		i += n
	}
	if grown.Len() != held || s.Cache.Len() != held {
		t.Fatalf("grown cache %d positions, session %d, want %d", grown.Len(), s.Cache.Len(), held)
	}
	heldKV := func(c *kvcache.Cache, layer int) ([]float32, []float32) {
		k, v := make([]float32, held*c.KVDim()), make([]float32, held*c.KVDim())
		c.Positions(layer, 0, held, k, v)
		return k, v
	}
	for layer := 0; layer < cfg.NLayer; layer++ {
		gk, gv := heldKV(grown, layer)
		sk, sv := heldKV(s.Cache, layer)
		if !slices.Equal(gk, sk) || !slices.Equal(gv, sv) {
			t.Errorf("layer %d: the reserved cache holds other K or V than the grown one", layer)
		}
		if grown.Reserved(layer) <= want {
			t.Errorf("layer %d: the grown cache took %d bytes, the reserved one %d", layer, grown.Reserved(layer), want)
		}
	}
}

// A prefill reserves exactly its prompt; decode steps past it grow the cache as before.
func TestPrefillReservesPrompt(t *testing.T) {
	l := openStories(t)
	s := l.NewSession(infer.Options{})
	ids, _, err := s.Prefill(longText(t, l, infer.Chunk+30), false)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.Cache.Reserved(0), int64(len(ids))*int64(s.Cache.KVDim())*8; got != want {
		t.Errorf("after a prefill of %d tokens: %d bytes reserved, want %d", len(ids), got, want)
	}
	if _, err := s.Step(ids[1]); err != nil {
		t.Fatal(err)
	}
	if s.Cache.Len() != len(ids)+1 || s.Cache.Reserved(0) <= int64(len(ids))*int64(s.Cache.KVDim())*8 {
		t.Errorf("a step past the reservation: %d positions, %d bytes", s.Cache.Len(), s.Cache.Reserved(0))
	}
}
