package main

import (
	"fmt"
	"io"

	"github.com/attnscope/attnscope/engine/infer"
	"github.com/attnscope/attnscope/engine/model"
	"github.com/attnscope/attnscope/engine/trace"
)

type traceLayer struct {
	Heads [][][]f32 `json:"heads"` // (head, query, key)
}

type traceOut struct {
	Tokens     []int32          `json:"tokens"`
	Pieces     []trace.Token    `json:"token_info"`
	Model      trace.Model      `json:"model"`
	Positional trace.Positional `json:"positional"`
	Layers     []traceLayer     `json:"layers"`
	KV         []trace.Step     `json:"steps"`
}

func cmdTrace(args []string, stdout io.Writer) error {
	fs := newFlags("trace")
	var mf modelFlags
	mf.register(fs, true)
	l, err := mf.parseOpen(fs, args, true)
	if err != nil {
		return err
	}
	defer l.Close()
	s := l.NewSession(infer.Options{Context: mf.ctx, Capture: true})
	ids, _, err := s.Prefill(mf.prompt, false)
	if err != nil {
		return err
	}
	t := s.Trace
	if !mf.json {
		return printTraceSummary(stdout, t, l.Model.Config())
	}
	out := traceOut{Tokens: ids, Pieces: t.Tokens, Model: t.Model, Positional: t.Positional, KV: t.Steps}
	n := len(ids)
	for li := range t.Attn {
		var layer traceLayer
		for h := range t.Attn[li] {
			dense := t.Dense(li, h, n)
			m := make([][]f32, n)
			for q := range dense {
				m[q] = f32s(dense[q])
			}
			layer.Heads = append(layer.Heads, m)
		}
		out.Layers = append(out.Layers, layer)
	}
	return writeJSON(stdout, out)
}

// printTraceSummary shows, per layer and head, where each query looks most.
func printTraceSummary(w io.Writer, t *trace.Trace, cfg *model.Config) error {
	fmt.Fprintf(w, "%d tokens:", len(t.Tokens))
	for i, tk := range t.Tokens {
		fmt.Fprintf(w, " %d:%q", i, tk.Text)
	}
	fmt.Fprintln(w)
	for l := range t.Attn {
		for h := range t.Attn[l] {
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
		fmt.Fprintf(w, "KV cache: %d tokens, %s over %d layers (%s per token)\n", st.KV.Tokens, humanBytes(total), cfg.NLayer, humanBytes(cfg.KVBytesPerToken()))
	}
	return nil
}
