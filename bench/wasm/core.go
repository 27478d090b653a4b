package main

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/attnscope/attnscope/engine/infer"
	"github.com/attnscope/attnscope/engine/kernels"
	"github.com/attnscope/attnscope/engine/model"
)

// result is what the program prints: the fields of `attnscope bench --json` (peak_rss_bytes is
// 0: a wasm program cannot read it) and where it ran.
type result struct {
	PPTokS       float64 `json:"pp_tok_s"` // prompt processing, tokens/s (median of the runs)
	TGTokS       float64 `json:"tg_tok_s"` // generation, tokens/s (median of the runs)
	Threads      int     `json:"threads"`
	PeakRSSBytes int64   `json:"peak_rss_bytes"`
	Model        string  `json:"model"`
	PromptTokens int     `json:"prompt_tokens"`
	GenTokens    int     `json:"gen_tokens"`
	Runs         int     `json:"runs"`
	Compute      string  `json:"compute"`
	SIMD         string  `json:"simd"`     // the vector instructions the kernels use
	Platform     string  `json:"platform"` // GOOS/GOARCH and, for js, "node" or "browser"
}

// settings are the benchmark's parameters.
type settings struct {
	promptTokens, genTokens, runs int
	noWarmup                      bool // skip the warm-up run (slow runtimes)
}

func (s settings) check() error {
	if s.promptTokens < 1 || s.genTokens < 0 || s.runs < 1 {
		return fmt.Errorf("prompt tokens (%d) and runs (%d) must be at least 1, generated tokens (%d) not negative",
			s.promptTokens, s.runs, s.genTokens)
	}
	return nil
}

// benchText is tokenized and repeated to make the prompt (the text `attnscope bench` uses).
const benchText = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her friends. One day, she found a shiny red ball under a big tree. "

// measure runs the benchmark on a loaded model: one warm-up run, then s.runs measured ones.
func measure(l *infer.Loaded, s settings) (result, error) {
	if err := s.check(); err != nil {
		return result{}, err
	}
	m := l.Model
	cfg := m.Config()
	if !m.HasLMHead() {
		return result{}, fmt.Errorf("%w: the benchmark measures generation", infer.ErrNoLMHead)
	}
	if need := s.promptTokens + s.genTokens; need > cfg.NCtx {
		return result{}, fmt.Errorf("%w: %d prompt tokens + %d generated = %d, context %d tokens",
			infer.ErrTooLong, s.promptTokens, s.genTokens, need, cfg.NCtx)
	}
	prompt, err := promptIDs(l, s.promptTokens)
	if err != nil {
		return result{}, err
	}
	var pp, tg []float64
	first := 0 // run 0 warms up
	if s.noWarmup {
		first = 1
	}
	for r := first; r <= s.runs; r++ {
		p, g, err := run(m, cfg.NCtx, prompt, s.genTokens)
		if err != nil {
			return result{}, err
		}
		if r > 0 {
			pp, tg = append(pp, p), append(tg, g)
		}
	}
	return result{PPTokS: median(pp), TGTokS: median(tg), Threads: 1, PromptTokens: s.promptTokens,
		GenTokens: s.genTokens, Runs: s.runs, Compute: "f32", SIMD: kernels.SIMD()}, nil
}

// promptIDs returns n token ids: the tokenizer's special prefix (BOS) and benchText repeated.
func promptIDs(l *infer.Loaded, n int) ([]int32, error) {
	text := benchText
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
		text += benchText
	}
}

// run evaluates the prompt in one batch on an empty cache, then generates gen tokens greedily
// one by one, and returns both rates in tokens/s.
func run(m model.Model, nCtx int, prompt []int32, gen int) (pp, tg float64, err error) {
	cache := model.NewCache(m.Config(), nCtx)
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

func median(x []float64) float64 {
	s := slices.Clone(x)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
