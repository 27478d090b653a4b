// Package modeltest checks a backend end to end: a model file evaluated on it must give the
// logits, greedy tokens and attention rows that the CPU backend gives.
//
// Imports: engine/infer, engine/model, engine/backend, engine/backend/cpu.
package modeltest

import (
	"fmt"
	"math"
	"sync"
	"testing"

	"github.com/attnscope/attnscope/engine/backend"
	"github.com/attnscope/attnscope/engine/backend/cpu"
	"github.com/attnscope/attnscope/engine/infer"
	"github.com/attnscope/attnscope/engine/model"
)

// Result is what Compare measured.
type Result struct {
	PromptTokens  int
	MaxLogitDiff  float64 // prompt logits and every decode step
	MaxAttnDiff   float64 // captured attention rows of the prompt
	GreedyEqual   bool
	GreedyTokens  []int32
	ReferenceIDs  []int32
	CaptureHeads  int
	CaptureLayers int
}

func (r Result) String() string {
	return fmt.Sprintf("%d prompt tokens, logits max diff %.3g, attention max diff %.3g, greedy %d tokens equal: %v",
		r.PromptTokens, r.MaxLogitDiff, r.MaxAttnDiff, len(r.GreedyTokens), r.GreedyEqual)
}

type row struct{ l, h, pos int }

// Compare evaluates prompt then gen greedy tokens with the model at path on be and on the CPU
// backend (computing in float32), and fails t where logits or attention differ by more than tol
// or the greedy tokens differ.
func Compare(t *testing.T, path string, be backend.Backend, prompt string, gen int, tol float64) Result {
	t.Helper()
	ref, err := infer.Open(path, cpu.New(0))
	if err != nil {
		t.Fatalf("cpu: %v", err)
	}
	defer ref.Close()
	got, err := infer.Open(path, be)
	if err != nil {
		t.Fatalf("%s: %v", be.Name(), err)
	}
	defer got.Close()
	ids, err := ref.Tok.Encode(prompt, true)
	if err != nil || len(ids) == 0 {
		t.Fatalf("tokenize %q: %v", prompt, err)
	}
	var res Result
	res.PromptTokens = len(ids)
	cfg := ref.Model.Config()
	run := func(m model.Model) ([]float32, map[row][]float32, []int32, [][]float32) {
		cache := model.NewCache(m.Config(), 0)
		rows := map[row][]float32{}
		var mu sync.Mutex // heads deliver their rows from several goroutines
		b := &model.Batch{Tokens: ids, Cache: cache, AllLogits: true,
			Attn: func(l, h, pos int, p []float32) {
				mu.Lock()
				rows[row{l, h, pos}] = append([]float32(nil), p...)
				mu.Unlock()
			}}
		if err := m.Eval(b); err != nil {
			t.Fatalf("%s: prefill: %v", m.Backend().Name(), err)
		}
		logits := append([]float32(nil), b.Logits...)
		var out []int32
		var steps [][]float32
		last := b.Logits[(len(ids)-1)*cfg.NVocab:]
		for i := 0; i < gen && cache.Len() < cache.Capacity(); i++ {
			next := argmax(last)
			out = append(out, next)
			sb := &model.Batch{Tokens: []int32{next}, Cache: cache}
			if err := m.Eval(sb); err != nil {
				t.Fatalf("%s: step %d: %v", m.Backend().Name(), i, err)
			}
			last = append([]float32(nil), sb.Logits...)
			steps = append(steps, last)
		}
		return logits, rows, out, steps
	}
	wantLogits, wantRows, wantIDs, wantSteps := run(ref.Model)
	gotLogits, gotRows, gotIDs, gotSteps := run(got.Model)
	res.MaxLogitDiff = maxDiff(gotLogits, wantLogits)
	for i := range min(len(gotSteps), len(wantSteps)) {
		res.MaxLogitDiff = max(res.MaxLogitDiff, maxDiff(gotSteps[i], wantSteps[i]))
	}
	if len(gotRows) != len(wantRows) {
		t.Errorf("%s captured %d attention rows, the CPU %d", be.Name(), len(gotRows), len(wantRows))
	}
	for k, w := range wantRows {
		g, ok := gotRows[k]
		if !ok || len(g) != len(w) {
			t.Errorf("%s: attention row layer %d head %d pos %d missing or of another length", be.Name(), k.l, k.h, k.pos)
			continue
		}
		res.MaxAttnDiff = max(res.MaxAttnDiff, maxDiff(g, w))
	}
	res.CaptureLayers, res.CaptureHeads = cfg.NLayer, cfg.NHead
	res.GreedyTokens, res.ReferenceIDs = gotIDs, wantIDs
	res.GreedyEqual = fmt.Sprint(gotIDs) == fmt.Sprint(wantIDs)
	if !res.GreedyEqual {
		t.Errorf("%s greedy tokens %v, the CPU's %v", be.Name(), gotIDs, wantIDs)
	}
	if !(res.MaxLogitDiff <= tol) {
		t.Errorf("%s logits differ from the CPU's by %.3g (tolerance %.3g)", be.Name(), res.MaxLogitDiff, tol)
	}
	if !(res.MaxAttnDiff <= tol) {
		t.Errorf("%s attention differs from the CPU's by %.3g (tolerance %.3g)", be.Name(), res.MaxAttnDiff, tol)
	}
	return res
}

func argmax(x []float32) int32 {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return int32(best)
}

func maxDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var m float64
	for i := range a {
		d := math.Abs(float64(a[i]) - float64(b[i]))
		if math.IsNaN(d) {
			return math.Inf(1)
		}
		m = max(m, d)
	}
	return m
}
