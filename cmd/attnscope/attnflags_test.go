package main

import (
	"math"
	"strings"
	"testing"

	"github.com/attnscope/attnscope/internal/shareddata"
)

type attnJSON struct {
	Tokens  []int32 `json:"tokens"`
	Capture string  `json:"capture"`
	Rows    []int   `json:"rows"`
	Window  int     `json:"window"`
	Global  []int   `json:"global"`
	Layers  []struct {
		Heads  [][][]float64 `json:"heads"`
		Pooled []struct {
			Cell, Cells, N int
			Mean, Max      [][]float64
		} `json:"pooled"`
		Rows [][][]float64 `json:"rows"`
	} `json:"layers"`
}

// trace --capture pooled gives, per layer and head, the pooled maps of the exact trace's maps
// and the chosen rows; the exact trace keeps its layout; the mask reaches the trace.
func TestTraceCaptureModes(t *testing.T) {
	m := shareddata.Model(t, "stories260K.gguf")
	const prompt = "Once upon a time there was a little dog"
	var exact, pooled, none attnJSON
	cliJSON(t, &exact, "trace", "--model", m, "--prompt", prompt, "--json")
	cliJSON(t, &pooled, "trace", "--model", m, "--prompt", prompt, "--json", "--capture", "pooled", "--rows", "2,5", "--cells", "4")
	cliJSON(t, &none, "trace", "--model", m, "--prompt", prompt, "--json", "--capture", "none")
	n := len(exact.Tokens)
	if exact.Capture != "exact" || pooled.Capture != "pooled" || none.Capture != "none" || len(none.Layers) != 0 {
		t.Fatalf("captures %q %q %q (%d layers without capture)", exact.Capture, pooled.Capture, none.Capture, len(none.Layers))
	}
	if len(pooled.Rows) != 2 || len(pooled.Layers) != len(exact.Layers) {
		t.Fatalf("pooled: rows %v, %d layers (exact %d)", pooled.Rows, len(pooled.Layers), len(exact.Layers))
	}
	for l, layer := range pooled.Layers {
		if len(layer.Heads) != 0 || len(layer.Pooled) != len(exact.Layers[l].Heads) {
			t.Fatalf("layer %d: %d exact heads, %d pooled", l, len(layer.Heads), len(layer.Pooled))
		}
		for h, p := range layer.Pooled {
			dense := exact.Layers[l].Heads[h]
			if p.Cells > 4 || p.N != n || p.Cell*p.Cells < n {
				t.Fatalf("L%d.H%d: %d cells of %d for %d tokens", l, h, p.Cells, p.Cell, n)
			}
			for r := 0; r < p.Cells; r++ {
				for c := 0; c < p.Cells; c++ {
					var sum, mx float64
					var cnt int
					for q := r * p.Cell; q < min(n, (r+1)*p.Cell); q++ {
						for k := c * p.Cell; k < min(n, (c+1)*p.Cell); k++ {
							sum += dense[q][k]
							mx = math.Max(mx, dense[q][k])
							cnt++
						}
					}
					if math.Abs(p.Mean[r][c]-sum/float64(cnt)) > 1e-6 || math.Abs(p.Max[r][c]-mx) > 1e-6 {
						t.Fatalf("L%d.H%d cell (%d,%d): mean %g max %g, pooled exact %g %g", l, h, r, c, p.Mean[r][c], p.Max[r][c], sum/float64(cnt), mx)
					}
				}
			}
			for i, q := range pooled.Rows {
				row := layer.Rows[h][i]
				if len(row) != q+1 {
					t.Fatalf("L%d.H%d row %d: %d keys", l, h, q, len(row))
				}
				for k := range row {
					if math.Abs(row[k]-dense[q][k]) > 1e-6 {
						t.Fatalf("L%d.H%d row %d key %d: %g, exact %g", l, h, q, k, row[k], dense[q][k])
					}
				}
			}
		}
	}
	var win attnJSON
	cliJSON(t, &win, "trace", "--model", m, "--prompt", prompt, "--json", "--window", "2", "--global", "0")
	if win.Window != 2 || len(win.Global) != 1 {
		t.Fatalf("mask not in the trace: window %d global %v", win.Window, win.Global)
	}
	last := win.Layers[0].Heads[0][n-1]
	for k, p := range last {
		if visible := k == 0 || k >= n-2; visible != (p != 0) {
			t.Errorf("window 2 + global 0: last query, key %d has probability %g", k, p)
		}
	}
	var run struct {
		Attention *attnJSON `json:"attention"`
	}
	cliJSON(t, &run, "run", "--model", m, "--prompt", prompt, "--json", "--max-tokens", "2", "--temperature", "0", "--capture", "pooled")
	if run.Attention == nil || run.Attention.Capture != "pooled" || len(run.Attention.Layers) != len(exact.Layers) || run.Attention.Layers[0].Pooled[0].N != n+1 {
		t.Errorf("run --capture pooled: %+v", run.Attention)
	}
}

func TestAttentionFlagErrors(t *testing.T) {
	m := shareddata.Model(t, "stories260K.gguf")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--capture", "dense"}, "--capture"},
		{[]string{"--rows", "3,1"}, "ascend"},
		{[]string{"--rows", "x"}, "not a token position"},
		{[]string{"--capture", "exact", "--rows", "1"}, "--rows needs"},
		{[]string{"--window", "-2"}, "negative"},
		{[]string{"--global", "0"}, "need a window"},
		{[]string{"--window", "4", "--global", "-1"}, "not a token position"},
		{[]string{"--capture", "pooled", "--rows", "9999999"}, "outside the context"},
		{[]string{"--capture", "exact", "--cells", "600"}, "cells"},
	} {
		args := append([]string{"trace", "--model", m, "--prompt", "Once upon a time"}, c.args...)
		out, code := cli(t, args...)
		if code == 0 || !strings.Contains(out, c.want) {
			t.Errorf("%v: exit %d, %q; want an error with %q", c.args, code, out, c.want)
		}
	}
}
