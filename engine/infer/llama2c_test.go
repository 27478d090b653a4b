package infer_test

import (
	"context"
	"math"
	"testing"

	"github.com/attnscope/attnscope/engine/infer"
	"github.com/attnscope/attnscope/internal/shareddata"
)

// TestLlama2cReference checks stories260K against an independent implementation, llama2.c's
// run.c, on the same weights: prompt ids, 32 greedy ids (run.c stops only on BOS) and the top-10
// logits of every prompt position.
func TestLlama2cReference(t *testing.T) {
	var ref struct {
		Results []struct {
			Prompt    string  `json:"prompt"`
			PromptIDs []int32 `json:"prompt_ids"`
			GreedyIDs []int32 `json:"greedy_ids"`
			Logits    []struct {
				Pos int          `json:"pos"`
				Top [][2]float64 `json:"top"`
			} `json:"logits_top10"`
		} `json:"results"`
	}
	shareddata.LoadJSON(t, "reference/stories260K.llama2c.json", &ref)
	l, err := infer.Open(shareddata.Model(t, "stories260K.gguf"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var worst float64
	for _, r := range ref.Results {
		s := l.NewSession(infer.Options{})
		// run.c does not stop on EOS; it stops on BOS, which the greedy ids do not contain.
		res, err := s.Generate(context.Background(), r.Prompt, infer.GenerateOptions{MaxTokens: len(r.GreedyIDs), AllLogits: true}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !equalIDs(res.Prompt, r.PromptIDs) {
			t.Errorf("%q: prompt ids %v, run.c %v", r.Prompt, res.Prompt, r.PromptIDs)
		}
		if !equalIDs(res.Generated, r.GreedyIDs) {
			t.Errorf("%q: greedy ids\n ours  %v\n run.c %v", r.Prompt, res.Generated, r.GreedyIDs)
		}
		nv := l.Model.Config().NVocab
		for _, p := range r.Logits {
			for _, pair := range p.Top {
				d := math.Abs(float64(res.PromptLogits[p.Pos*nv+int(pair[0])]) - pair[1])
				worst = math.Max(worst, d)
				if d > logitTol {
					t.Errorf("%q pos %d id %d: |Δlogit| %.3g vs run.c", r.Prompt, p.Pos, int(pair[0]), d)
				}
			}
		}
	}
	t.Logf("stories260K vs llama2.c run.c: max |Δlogit| over top-10 of every prompt position %.3g", worst)
}
