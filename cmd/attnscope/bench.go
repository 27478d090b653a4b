package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"

	"github.com/attnscope/attnscope/engine/backend/cuda"
	"github.com/attnscope/attnscope/engine/infer"
	"github.com/attnscope/attnscope/engine/kernels"
	"github.com/attnscope/attnscope/engine/kvcache"
	"github.com/attnscope/attnscope/internal/benchrun"
)

func init() {
	register(command{"bench", "measure prompt processing and generation speed (tokens/s) and peak memory", cmdBench})
}

// benchResult is what `attnscope bench --json` prints.
type benchResult struct {
	PPTokS       float64 `json:"pp_tok_s"` // prompt processing, tokens/s (median of the runs)
	TGTokS       float64 `json:"tg_tok_s"` // generation, tokens/s (median of the runs)
	Threads      int     `json:"threads"`
	PeakRSSBytes int64   `json:"peak_rss_bytes"` // the process's peak resident memory (0 where unknown)
	Model        string  `json:"model"`
	PromptTokens int     `json:"prompt_tokens"`
	GenTokens    int     `json:"gen_tokens"`
	Runs         int     `json:"runs"`
	Compute      string  `json:"compute"`
	SIMD         string  `json:"simd"`             // the vector instructions the kernels use
	Backend      string  `json:"backend"`          // where the model ran: cpu or cuda
	Device       string  `json:"device,omitempty"` // the GPU's name on cuda
	KVType       string  `json:"kv_type"`          // how the KV cache stored keys and values: f32 or f16
	// With --bandwidth (CPU only): the bytes of weights a generated token reads, this machine's
	// read bandwidth on the same threads (median of the faster of a 128 MiB F32 and a 128 MiB
	// Q8_0 product after each run), the generation rate that bandwidth allows, and tg as a
	// fraction of it.
	WeightBytes int64   `json:"weight_bytes_per_token,omitempty"`
	StreamGBs   float64 `json:"stream_gb_s,omitempty"`
	BoundTokS   float64 `json:"tg_bound_tok_s,omitempty"`
	OfBound     float64 `json:"tg_of_bound,omitempty"`
}

// benchText is tokenized and repeated to make the prompt.
func cmdBench(args []string, stdout io.Writer) error {
	fs := newFlags("bench")
	var mf modelFlags
	mf.register(fs, false)
	promptTokens := fs.Int("prompt-tokens", 128, "prompt length in tokens (processed in one batch)")
	genTokens := fs.Int("gen-tokens", 64, "tokens generated one at a time (greedy) after the prompt")
	runs := fs.Int("runs", 5, "measured runs after one warm-up run; the medians are reported")
	bandwidth := fs.Bool("bandwidth", false, "also measure the read bandwidth (the faster of a 128 MiB F32 and a 128 MiB Q8_0 matrix-vector product after each run, CPU only) and report generation against the bound it sets")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := mf.check(fs, false); err != nil {
		return err
	}
	if *promptTokens < 1 || *genTokens < 0 || *runs < 1 {
		return fmt.Errorf("--prompt-tokens and --runs must be at least 1, --gen-tokens not negative")
	}
	if mf.threads == 0 {
		mf.threads = runtime.GOMAXPROCS(0)
	}
	l, err := mf.open()
	if err != nil {
		if strings.Contains(err.Error(), "tokenizer") {
			return fmt.Errorf("bench needs the model's tokenizer to build its prompt: %w", err)
		}
		return err
	}
	defer l.Close()
	m := l.Model
	cfg := m.Config()
	if !m.HasLMHead() {
		return fmt.Errorf("%s: %w: bench measures generation", mf.model, infer.ErrNoLMHead)
	}
	nCtx := cfg.NCtx
	if mf.ctx > 0 && mf.ctx < nCtx {
		nCtx = mf.ctx
	}
	if need := *promptTokens + *genTokens; need > nCtx {
		return fmt.Errorf("%w: %d prompt tokens + %d generated = %d, context %d tokens", infer.ErrTooLong, *promptTokens, *genTokens, need, nCtx)
	}
	prompt, err := benchrun.Prompt(l, *promptTokens)
	if err != nil {
		return err
	}
	if *bandwidth && m.Backend().Name() != "cpu" {
		return fmt.Errorf("--bandwidth measures the CPU's memory; the model runs on %s (use --backend cpu)", m.Backend().Name())
	}
	if *bandwidth && *genTokens == 0 {
		return errors.New("--bandwidth needs generated tokens (--gen-tokens)")
	}

	var pp, tg []float64
	for r := 0; r <= *runs; r++ { // run 0 warms up
		p, g, err := benchrun.Run(m, nCtx, mf.kv, prompt, *genTokens)
		if err != nil {
			return err
		}
		if r > 0 {
			pp, tg = append(pp, p), append(tg, g)
		}
	}
	res := benchResult{PPTokS: benchrun.Median(pp), TGTokS: benchrun.Median(tg), Threads: mf.threads, PeakRSSBytes: peakRSS(),
		Model: mf.model, PromptTokens: *promptTokens, GenTokens: *genTokens, Runs: *runs, Compute: mf.compute, SIMD: kernels.SIMD(), Backend: m.Backend().Name(), KVType: mf.kv.String()}
	if *bandwidth {
		if err := benchBandwidth(&res, l, nCtx, mf.kv, prompt, *runs); err != nil {
			return err
		}
	}
	if g, ok := m.Backend().(*cuda.Backend); ok {
		res.Device = g.Info().Name
	}
	if mf.json {
		return writeJSON(stdout, res)
	}
	fmt.Fprintf(stdout, "%s: pp%d %.1f tok/s, tg%d %.1f tok/s, %d threads, compute %s, simd %s, KV cache %s, peak RSS %.1f MiB (median of %d runs)\n",
		mf.model, *promptTokens, res.PPTokS, *genTokens, res.TGTokS, res.Threads, res.Compute, res.SIMD, res.KVType, float64(res.PeakRSSBytes)/(1<<20), *runs)
	if *bandwidth {
		fmt.Fprintf(stdout, "bandwidth: a token reads %.1f MB of weights; reads stream at %.2f GB/s, which allows %.1f tok/s; tg %.1f tok/s is %.0f%% of that\n",
			float64(res.WeightBytes)/1e6, res.StreamGBs, res.BoundTokS, res.TGTokS, 100*res.OfBound)
	}
	return nil
}

// benchBandwidth measures generation against the read bandwidth for --bandwidth: runs more
// runs, each followed by benchrun.Stream's products, side by side so that both see the same
// machine, and sets res's bandwidth fields from their medians (and res.TGTokS from these
// runs). The matrices are made after res.PeakRSSBytes was read.
func benchBandwidth(res *benchResult, l *infer.Loaded, nCtx int, kv kvcache.Type, prompt []int32, runs int) error {
	m := l.Model
	s, err := benchrun.NewStream(m.Backend())
	if err != nil {
		return err
	}
	s.GBs() // the matrices' pages, touched once
	var tg, gbs []float64
	for r := 0; r < runs; r++ {
		_, g, err := benchrun.Run(m, nCtx, kv, prompt, res.GenTokens)
		if err != nil {
			return err
		}
		tg, gbs = append(tg, g), append(gbs, s.GBs())
	}
	res.TGTokS, res.StreamGBs = benchrun.Median(tg), benchrun.Median(gbs)
	res.WeightBytes = benchrun.WeightBytes(l.File)
	res.BoundTokS = res.StreamGBs * 1e9 / float64(res.WeightBytes)
	res.OfBound = res.TGTokS / res.BoundTokS
	return nil
}

// peakRSS is the process's peak resident set size from /proc/self/status (VmHWM), or 0 where
// that file does not exist.
func peakRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			fields := strings.Fields(rest)
			if len(fields) >= 1 {
				kb, err := strconv.ParseInt(fields[0], 10, 64)
				if err == nil {
					return kb << 10
				}
			}
		}
	}
	return 0
}
