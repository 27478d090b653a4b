package main

import (
	"fmt"
	"io"

	"github.com/attnscope/attnscope/engine/infer"
	"github.com/attnscope/attnscope/engine/model"
	"github.com/attnscope/attnscope/engine/trace"
)

type traceOut struct {
	Tokens     []int32          `json:"tokens"`
	Pieces     []trace.Token    `json:"token_info"`
	Model      trace.Model      `json:"model"`
	Positional trace.Positional `json:"positional"`
	attnOut                     // capture, rows, window, global, layers
	KV         []trace.Step     `json:"steps"`
}

func cmdTrace(args []string, stdout io.Writer) error {
	fs := newFlags("trace")
	var mf modelFlags
	mf.register(fs, true)
	var af attnFlags
	af.register(fs, infer.CaptureAuto)
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
	l, err := mf.open()
	if err != nil {
		return err
	}
	defer l.Close()
	s := l.NewSession(opts)
	limitMemory(l, s)
	ids, _, err := s.Prefill(mf.prompt, false)
	if err != nil {
		return err
	}
	t := s.Trace
	if !mf.json {
		return printTraceSummary(stdout, t, l.Model.Config())
	}
	out := traceOut{Tokens: ids, Pieces: t.Tokens, Model: t.Model, Positional: t.Positional, KV: t.Steps,
		attnOut: attentionJSON(t, len(ids))}
	return writeJSON(stdout, out)
}

// printTraceSummary shows, per layer and head, where each query looks most.
func printTraceSummary(w io.Writer, t *trace.Trace, cfg *model.Config) error {
	fmt.Fprintf(w, "%d tokens:", len(t.Tokens))
	for i, tk := range t.Tokens {
		fmt.Fprintf(w, " %d:%q", i, tk.Text)
	}
	fmt.Fprintln(w)
	if t.Capture == trace.CapturePooled {
		printPooledSummary(w, t)
	}
	for l := range t.Attn {
		for h := range t.Attn[l] {
			if len(t.Attn[l][h]) == 0 {
				continue
			}
			fmt.Fprintf(w, "layer %d head %d  strongest key per query:", l, h)
			for q, row := range t.Attn[l][h] {
				best := 0
				for k, p := range row {
					if p > row[best] {
						best = k
					}
				}
				fmt.Fprintf(w, " %d→%d(%.2f)", q, best, row[best])
			}
			fmt.Fprintln(w)
		}
	}
	if len(t.Steps) > 0 {
		st := t.Steps[len(t.Steps)-1]
		var total int64
		for _, b := range st.KV.BytesPerLayer {
			total += b
		}
		perToken := int64(0)
		if st.KV.Tokens > 0 {
			perToken = total / int64(st.KV.Tokens)
		}
		fmt.Fprintf(w, "KV cache: %d tokens, %s over %d layers (%s per token)\n", st.KV.Tokens, humanBytes(total), cfg.NLayer, humanBytes(perToken))
	}
	return nil
}

// printPooledSummary shows, per layer and head, the pooled map's shape and where attention
// gathers most (the cell with the largest mean), and the strongest key of each kept row.
func printPooledSummary(w io.Writer, t *trace.Trace) {
	fmt.Fprintf(w, "attention pooled (mean and max per cell)")
	if len(t.Rows) > 0 {
		fmt.Fprintf(w, ", whole rows of queries %v", t.Rows)
	}
	fmt.Fprintln(w)
	for l := range t.Pooled {
		for h, p := range t.Pooled[l] {
			br, bc := 0, 0
			for r := 0; r < p.Cells; r++ {
				for c := 0; c < p.Cells; c++ {
					if p.Mean(r, c) > p.Mean(br, bc) {
						br, bc = r, c
					}
				}
			}
			fmt.Fprintf(w, "layer %d head %d  %d×%d cells of %d tokens, largest mean %.3g at queries %d… keys %d…",
				l, h, p.Cells, p.Cells, p.Cell, p.Mean(br, bc), br*p.Cell, bc*p.Cell)
			for i, q := range t.Rows {
				if i < len(t.RowAttn[l][h]) {
					row := t.RowAttn[l][h][i]
					best := 0
					for k, v := range row {
						if v > row[best] {
							best = k
						}
					}
					fmt.Fprintf(w, "  %d→%d(%.2f)", q, best, row[best])
				}
			}
			fmt.Fprintln(w)
		}
	}
}
