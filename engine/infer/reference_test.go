package infer_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/attnscope/attnscope/engine/infer"
	"github.com/attnscope/attnscope/engine/model"
	"github.com/attnscope/attnscope/internal/shareddata"
)

// Tolerances from the engine's contract with llama.cpp (see README): F32 files and the
// dequantized-to-F32 runs of the other files must match to 1e-3 on the top-10 logits.
const (
	logitTol  = 1e-3
	attnTol   = 1e-4 // F32 attention
	attnTol16 = 1e-3 // F16 attention
	hiddenTol = 1e-3
)

// target picks the reference variant our F32 computation must match for a file: the file's own
// run when it is F32, else the run of its weights dequantized to F32 (when the reference has one).
func target(ref *shareddata.Reference, file string) (v *shareddata.Variant, asIs *shareddata.Variant) {
	asIs = ref.Variant(file, false)
	if dq := ref.Variant(file, true); dq != nil {
		return dq, asIs
	}
	return asIs, nil
}

func files(ref *shareddata.Reference) []string {
	var out []string
	seen := map[string]bool{}
	for _, v := range ref.Variants {
		if !seen[v.File] {
			seen[v.File] = true
			out = append(out, v.File)
		}
	}
	return out
}

type stats struct{ logit, logitAsIs, attn, hidden float64 }

func TestReferenceModels(t *testing.T) {
	for _, name := range []string{"stories260K.json", "stories260K-long.json", "llama-2-tiny-random.json",
		"tiny-gpt2-synthetic.json", "tiny-llama-kq.json", "tiny-bert-synthetic.json"} {
		ref := shareddata.LoadReference(t, name)
		for _, file := range files(ref) {
			t.Run(strings.TrimSuffix(name, ".json")+"/"+file, func(t *testing.T) {
				if testing.Short() && strings.Contains(name, "-long") {
					t.Skip("long prompt: skipped in -short")
				}
				v, asIs := target(ref, file)
				l, err := infer.Open(shareddata.Model(t, file), nil)
				if err != nil {
					t.Fatal(err)
				}
				defer l.Close()
				var st stats
				tolAttn := attnTol
				if l.Model.Config().FileType != "F32" {
					tolAttn = attnTol16
				}
				for i, r := range v.Results {
					if l.Model.HasLMHead() {
						checkCausal(t, l, r, v.Results[i].Attention, tolAttn, &st)
						if asIs != nil && asIs != v {
							st.logitAsIs = math.Max(st.logitAsIs, maxLogitDelta(t, l, asIs.Results[i]))
						}
					} else {
						checkEncoder(t, l, r, tolAttn, &st)
					}
				}
				t.Logf("%s (dequantized=%v): max |Δlogit| top-10 %.3g, vs llama.cpp as-is %.3g, max |Δattn| %.3g, max |Δhidden| %.3g",
					file, v.Dequantized, st.logit, st.logitAsIs, st.attn, st.hidden)
			})
		}
	}
}

func checkCausal(t *testing.T, l *infer.Loaded, r shareddata.Result, attn *shareddata.Attention, tolAttn float64, st *stats) {
	t.Helper()
	s := l.NewSession(infer.Options{Capture: attn != nil})
	ctx := context.Background()
	g := infer.GenerateOptions{MaxTokens: r.Greedy.NRequested, AllLogits: true}
	res, err := s.Generate(ctx, r.Prompt, g, nil)
	if err != nil {
		t.Fatalf("%q: %v", r.Prompt, err)
	}
	if !equalIDs(res.Prompt, r.Default.IDs) {
		t.Fatalf("%q: prompt ids %v, llama.cpp %v", r.Prompt, res.Prompt, r.Default.IDs)
	}
	nv := l.Model.Config().NVocab
	for _, p := range r.Logits.Positions {
		row := res.PromptLogits[p.Pos*nv : (p.Pos+1)*nv]
		for _, pair := range p.Top {
			d := math.Abs(float64(row[int(pair[0])]) - pair[1])
			st.logit = math.Max(st.logit, d)
			if d > logitTol {
				t.Errorf("%q pos %d id %d: logit %v, llama.cpp %v (|Δ| %.3g)", r.Prompt, p.Pos, int(pair[0]), row[int(pair[0])], pair[1], d)
			}
		}
	}
	if !equalIDs(res.Generated, r.Greedy.IDs) {
		t.Errorf("%q: greedy ids\n ours      %v\n llama.cpp %v", r.Prompt, res.Generated, r.Greedy.IDs)
	}
	if attn != nil {
		n := len(r.Default.IDs)
		for li, layer := range attn.Layers {
			for h, m := range layer.Heads {
				dense := s.Trace.Dense(li, h, n)
				for q := range m {
					for k := range m[q] {
						d := math.Abs(float64(dense[q][k]) - m[q][k])
						st.attn = math.Max(st.attn, d)
						if d > tolAttn {
							t.Fatalf("%q layer %d head %d [%d][%d]: %v, llama.cpp %v", r.Prompt, li, h, q, k, dense[q][k], m[q][k])
						}
					}
				}
			}
		}
	}
}

// maxLogitDelta compares with a run of llama.cpp that computed differently (informational).
func maxLogitDelta(t *testing.T, l *infer.Loaded, r shareddata.Result) float64 {
	s := l.NewSession(infer.Options{})
	ids, b, err := s.Prefill(r.Prompt, true)
	if err != nil {
		t.Fatal(err)
	}
	_ = ids
	nv := l.Model.Config().NVocab
	var m float64
	for _, p := range r.Logits.Positions {
		for _, pair := range p.Top {
			m = math.Max(m, math.Abs(float64(b.Logits[p.Pos*nv+int(pair[0])])-pair[1]))
		}
	}
	return m
}

func checkEncoder(t *testing.T, l *infer.Loaded, r shareddata.Result, tolAttn float64, st *stats) {
	t.Helper()
	s := l.NewSession(infer.Options{Capture: r.Attention != nil})
	ids, hidden, pooled, err := s.Embed(r.Prompt)
	if err != nil {
		t.Fatal(err)
	}
	if !equalIDs(ids, r.Default.IDs) {
		if strings.ContainsRune(r.Prompt, '안') {
			// WordPiece on Hangul follows Hugging Face's BertTokenizer, not llama.cpp (see the
			// tokenizer tests); the model is then checked on llama.cpp's ids instead.
			b := &model.Batch{Tokens: r.Default.IDs, Cache: model.NewCache(l.Model.Config(), 0)}
			if err := l.Model.Eval(b); err != nil {
				t.Fatal(err)
			}
			ids, hidden = r.Default.IDs, b.Hidden
			pooled = model.Pool(l.Model.Config().Pooling, hidden, len(ids), l.Model.Config().NEmbd)
			r.Attention = nil
		} else {
			t.Fatalf("%q: ids %v, llama.cpp %v", r.Prompt, ids, r.Default.IDs)
		}
	}
	E := l.Model.Config().NEmbd
	for i, row := range r.Hidden.Values {
		for j, want := range row {
			d := math.Abs(float64(hidden[i*E+j]) - want)
			st.hidden = math.Max(st.hidden, d)
			if d > hiddenTol {
				t.Fatalf("%q token %d dim %d: hidden %v, llama.cpp %v", r.Prompt, i, j, hidden[i*E+j], want)
			}
		}
	}
	for j, want := range r.Pooled.Values {
		d := math.Abs(float64(pooled[j]) - want)
		st.hidden = math.Max(st.hidden, d)
		if d > hiddenTol {
			t.Fatalf("%q pooled dim %d: %v, llama.cpp %v", r.Prompt, j, pooled[j], want)
		}
	}
	if r.Attention != nil {
		n := len(ids)
		for li, layer := range r.Attention.Layers {
			for h, m := range layer.Heads {
				dense := s.Trace.Dense(li, h, n)
				for q := range m {
					for k := range m[q] {
						d := math.Abs(float64(dense[q][k]) - m[q][k])
						st.attn = math.Max(st.attn, d)
						if d > tolAttn {
							t.Fatalf("%q layer %d head %d [%d][%d]: %v, llama.cpp %v", r.Prompt, li, h, q, k, dense[q][k], m[q][k])
						}
					}
				}
			}
		}
	}
}

func equalIDs(a, b []int32) bool {
	return fmt.Sprint(a) == fmt.Sprint(b)
}
