package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"

	"github.com/attnscope/attnscope/engine/infer"
	"github.com/attnscope/attnscope/engine/tokenizer"
)

type logitRow struct {
	Pos int      `json:"pos"`
	Top [][2]any `json:"top"`
}

func cmdRun(args []string, stdout io.Writer) error {
	fs := newFlags("run")
	var mf modelFlags
	mf.register(fs, true)
	maxTokens := fs.Int("max-tokens", 64, "most tokens to generate")
	temp := fs.Float64("temperature", 0.8, "sampling temperature (0: greedy)")
	topK := fs.Int("top-k", 40, "sample among the K most likely tokens (0: all)")
	topP := fs.Float64("top-p", 0.95, "sample among the smallest set of tokens whose probability reaches P (1: all)")
	seed := fs.Uint64("seed", 42, "random seed")
	topLogits := fs.Int("topk-logits", 0, "with --json: report the K largest logits of every prompt position")
	var af attnFlags
	af.register(fs, "none")
	if err := parse(fs, args); err != nil {
		return err
	}
	opts := infer.Options{Context: mf.ctx}
	if err := af.options(&opts); err != nil {
		return err
	}
	if err := mf.check(fs, true); err != nil {
		return err
	}
	opts.KVType = mf.kv
	if *topLogits < 0 {
		return fmt.Errorf("--topk-logits must not be negative")
	}
	l, err := mf.open()
	if err != nil {
		return err
	}
	defer l.Close()
	s := l.NewSession(opts)
	limitMemory(l, s)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	g := infer.GenerateOptions{MaxTokens: *maxTokens, AllLogits: *topLogits > 0,
		Sampler: infer.SamplerOptions{Temperature: float32(*temp), TopK: *topK, TopP: float32(*topP), Seed: *seed}}
	var emit func(int32, []byte) bool
	if !mf.json {
		fmt.Fprint(stdout, mf.prompt)
		emit = func(_ int32, piece []byte) bool {
			stdout.Write(piece)
			return true
		}
	}
	res, err := s.Generate(ctx, mf.prompt, g, emit)
	if err != nil {
		return err
	}
	if !mf.json {
		fmt.Fprintln(stdout)
		tps := 0.0
		if res.DecodeSecs > 0 {
			tps = float64(len(res.Generated)) / res.DecodeSecs
		}
		fmt.Fprintf(diag, "[%d prompt tokens in %.3fs, %d generated at %.1f tok/s]\n",
			len(res.Prompt), res.PrefillSecs, len(res.Generated), tps)
		return nil
	}
	out := struct {
		Prompt    []int32    `json:"prompt_tokens"`
		Generated []int32    `json:"generated"`
		Text      string     `json:"text"`
		Logits    []logitRow `json:"logits,omitempty"`
		Attention *attnOut   `json:"attention,omitempty"` // with --capture: over prompt and generated tokens
	}{Prompt: res.Prompt, Generated: res.Generated, Text: tokenizer.PieceString(res.Text)}
	if opts.Capture {
		a := attentionJSON(s.Trace, s.Cache.Len())
		out.Attention = &a
	}
	if out.Generated == nil {
		out.Generated = []int32{}
	}
	if *topLogits > 0 {
		nv := l.Model.Config().NVocab
		for p := range res.Prompt {
			out.Logits = append(out.Logits, logitRow{Pos: p, Top: topOf(res.PromptLogits[p*nv:(p+1)*nv], *topLogits)})
		}
	}
	return writeJSON(stdout, out)
}

// topOf returns the k largest logits as [id, logit] pairs, descending, ties to the lower id.
func topOf(row []float32, k int) [][2]any {
	idx := make([]int, len(row))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return row[idx[a]] > row[idx[b]] })
	if k > len(idx) {
		k = len(idx)
	}
	out := make([][2]any, k)
	for i := 0; i < k; i++ {
		out[i] = [2]any{idx[i], f32(row[idx[i]])}
	}
	return out
}
