package main

import (
	"flag"
	"fmt"
	"strconv"
	"strings"

	"github.com/attnscope/attnscope/engine/infer"
	"github.com/attnscope/attnscope/engine/trace"
)

// maxGlobal bounds the global positions a command line may name.
const maxGlobal = 1024

// attnFlags are the attention flags of trace and run: what is captured and the mask.
type attnFlags struct {
	capture, rows, global string
	window, cells         int
}

func (a *attnFlags) register(fs *flag.FlagSet, capture string) {
	fs.StringVar(&a.capture, "capture", capture, "attention to record: auto (exact rows for short inputs, pooled beyond), exact, pooled or none")
	fs.StringVar(&a.rows, "rows", "", "with pooled capture: query `positions` whose whole rows are kept, e.g. 5,17")
	fs.IntVar(&a.cells, "cells", 0, "with pooled capture: the most cells of a pooled map along an axis (0: as many as fit the budget, at most 512)")
	fs.IntVar(&a.window, "window", 0, "sliding-window attention: each token sees its last `W` tokens (0: all)")
	fs.StringVar(&a.global, "global", "", "with --window: `positions` of global tokens, which see and are seen by every token, e.g. 0,1")
}

// options fills o's capture and mask from the flags.
func (a *attnFlags) options(o *infer.Options) error {
	switch a.capture {
	case infer.CaptureAuto, trace.CaptureExact, trace.CapturePooled, trace.CaptureNone:
	default:
		return fmt.Errorf("--capture %q: use auto, exact, pooled or none", a.capture)
	}
	rows, err := positions("rows", a.rows, infer.MaxRows)
	if err != nil {
		return err
	}
	if len(rows) > 0 && a.capture != trace.CapturePooled && a.capture != infer.CaptureAuto {
		return fmt.Errorf("--rows needs --capture pooled or auto (exact capture keeps every row)")
	}
	global, err := positions("global", a.global, maxGlobal)
	if err != nil {
		return err
	}
	if a.window < 0 || a.cells < 0 {
		return fmt.Errorf("--window and --cells must not be negative")
	}
	o.Mode, o.Rows, o.Window, o.Global, o.PoolCells = a.capture, rows, a.window, global, a.cells
	o.Capture = a.capture != trace.CaptureNone
	return nil
}

// positions parses a comma-separated list of at most limit ascending token positions.
func positions(flagName, s string, limit int) ([]int, error) {
	if s == "" {
		return nil, nil
	}
	parts := strings.Split(s, ",")
	if len(parts) > limit {
		return nil, fmt.Errorf("--%s: %d positions, at most %d", flagName, len(parts), limit)
	}
	out := make([]int, 0, len(parts))
	for _, p := range parts {
		v, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || v < 0 {
			return nil, fmt.Errorf("--%s: %q is not a token position (0, 1, 2, …)", flagName, p)
		}
		if len(out) > 0 && v <= out[len(out)-1] {
			return nil, fmt.Errorf("--%s: positions must ascend (%d after %d)", flagName, v, out[len(out)-1])
		}
		out = append(out, v)
	}
	return out, nil
}

// attnLayer is one layer's attention in JSON: exact maps, or pooled maps and chosen rows.
type attnLayer struct {
	Heads  [][][]f32    `json:"heads"`            // (head, query, key): exact capture, else empty
	Pooled []pooledJSON `json:"pooled,omitempty"` // one per head: pooled capture
	Rows   [][][]f32    `json:"rows,omitempty"`   // (head, row, key): the rows of the top-level "rows"
}

// pooledJSON is trace.PooledJSON with numbers that marshal as the rest of the output does.
type pooledJSON struct {
	Cell  int     `json:"cell"`
	Cells int     `json:"cells"`
	N     int     `json:"n"`
	Mean  [][]f32 `json:"mean"`
	Max   [][]f32 `json:"max"`
}

// attnOut is the attention of a trace in JSON: the capture mode, the chosen rows, the mask and
// the layers.
type attnOut struct {
	Capture string      `json:"capture"`
	Rows    []int       `json:"rows,omitempty"`
	Window  int         `json:"window,omitempty"`
	Global  []int       `json:"global,omitempty"`
	Layers  []attnLayer `json:"layers"`
}

// attentionJSON lays out the attention t holds over its first n tokens.
func attentionJSON(t *trace.Trace, n int) attnOut {
	out := attnOut{Capture: t.Capture, Window: t.Window, Global: t.Global, Layers: []attnLayer{}}
	switch t.Capture {
	case trace.CaptureExact:
		for li := range t.Attn {
			layer := attnLayer{Heads: [][][]f32{}}
			for h := range t.Attn[li] {
				dense := t.Dense(li, h, n)
				m := make([][]f32, len(dense))
				for q := range dense {
					m[q] = f32s(dense[q])
				}
				layer.Heads = append(layer.Heads, m)
			}
			out.Layers = append(out.Layers, layer)
		}
	case trace.CapturePooled:
		out.Rows = t.Rows
		for li := range t.Pooled {
			layer := attnLayer{Heads: [][][]f32{}}
			for h, p := range t.Pooled[li] {
				js := p.JSON()
				layer.Pooled = append(layer.Pooled, pooledJSON{Cell: js.Cell, Cells: js.Cells, N: js.N, Mean: f32m(js.Mean), Max: f32m(js.Max)})
				if len(t.Rows) > 0 {
					var rows [][]f32
					for _, r := range t.RowAttn[li][h] {
						rows = append(rows, f32s(r))
					}
					layer.Rows = append(layer.Rows, rows)
				}
			}
			out.Layers = append(out.Layers, layer)
		}
	}
	return out
}

func f32m(x [][]float32) [][]f32 {
	out := make([][]f32, len(x))
	for i, r := range x {
		out[i] = f32s(r)
	}
	return out
}

// limitMemory holds the garbage collector to the weights, the session's KV cache at its full
// context and infer.HeapRoom (infer.HeapLimit), unless GOMEMLIMIT sets a limit.
func limitMemory(l *infer.Loaded, s *infer.Session) {
	infer.LimitHeap(l.HeapLimit(s.Cache.Capacity(), s.Cache.Type()))
}
