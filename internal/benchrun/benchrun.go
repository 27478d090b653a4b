// Package benchrun is the prompt-processing and generation measurement that `attnscope bench`
// and the wasm benchmark program share, so that native and browser numbers mean the same thing.
package benchrun

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/attnscope/attnscope/engine/infer"
	"github.com/attnscope/attnscope/engine/kvcache"
	"github.com/attnscope/attnscope/engine/model"
)

// Text is repeated to make benchmark prompts.
const Text = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her friends. One day, she found a shiny red ball under a big tree. "

// Prompt returns n token ids: the tokenizer's special prefix (BOS) and Text repeated.
func Prompt(l *infer.Loaded, n int) ([]int32, error) {
	text := Text
	for {
		ids, err := l.Tok.Encode(text, true)
		if err != nil {
			return nil, fmt.Errorf("tokenizing the benchmark prompt: %w", err)
		}
		if len(ids) >= n {
			return ids[:n], nil
		}
		if len(text) > 1<<20 {
			return nil, errors.New("the tokenizer makes too few tokens of the benchmark text")
		}
		text += Text
	}
}

// Run evaluates the prompt in one batch on an empty cache of nCtx positions storing values of
// type kv, then generates gen tokens greedily one by one, and returns both rates in tokens/s.
func Run(m model.Model, nCtx int, kv kvcache.Type, prompt []int32, gen int) (pp, tg float64, err error) {
	cache := model.NewCacheOf(m.Config(), nCtx, kv)
	b := &model.Batch{Tokens: prompt, Cache: cache}
	start := time.Now()
	if err := m.Eval(b); err != nil {
		return 0, 0, err
	}
	pp = float64(len(prompt)) / time.Since(start).Seconds()
	if gen == 0 {
		return pp, 0, nil
	}
	next := []int32{infer.Argmax(b.Logits)}
	step := &model.Batch{Tokens: next, Cache: cache}
	start = time.Now()
	for i := 0; i < gen; i++ {
		if err := m.Eval(step); err != nil {
			return 0, 0, err
		}
		next[0] = infer.Argmax(step.Logits)
	}
	tg = float64(gen) / time.Since(start).Seconds()
	return pp, tg, nil
}

// Median of x (0 when empty).
func Median(x []float64) float64 {
	if len(x) == 0 {
		return 0
	}
	s := slices.Clone(x)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
