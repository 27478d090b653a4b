package main

import (
	"fmt"

	"github.com/attnscope/attnscope/engine/backend/cpu"
	"github.com/attnscope/attnscope/engine/infer"
	"github.com/attnscope/attnscope/engine/kernels"
	"github.com/attnscope/attnscope/engine/kvcache"
	"github.com/attnscope/attnscope/internal/benchrun"
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
	noWarmup                      bool        // skip the warm-up run (slow runtimes)
	compute                       cpu.Compute // how products with quantized weights are computed
}

func (s settings) check() error {
	if s.promptTokens < 1 || s.genTokens < 0 || s.runs < 1 {
		return fmt.Errorf("prompt tokens (%d) and runs (%d) must be at least 1, generated tokens (%d) not negative",
			s.promptTokens, s.runs, s.genTokens)
	}
	return nil
}

// benchText is tokenized and repeated to make the prompt (the text `attnscope bench` uses).
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
	prompt, err := benchrun.Prompt(l, s.promptTokens)
	if err != nil {
		return result{}, err
	}
	var pp, tg []float64
	first := 0 // run 0 warms up
	if s.noWarmup {
		first = 1
	}
	for r := first; r <= s.runs; r++ {
		p, g, err := benchrun.Run(m, cfg.NCtx, kvcache.F32, prompt, s.genTokens)
		if err != nil {
			return result{}, err
		}
		if r > 0 {
			pp, tg = append(pp, p), append(tg, g)
		}
	}
	return result{PPTokS: benchrun.Median(pp), TGTokS: benchrun.Median(tg), Threads: 1, PromptTokens: s.promptTokens,
		GenTokens: s.genTokens, Runs: s.runs, Compute: s.compute.String(), SIMD: kernels.SIMD()}, nil
}
