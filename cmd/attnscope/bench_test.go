package main

import (
	"math"
	"strings"
	"testing"

	"github.com/attnscope/attnscope/engine/gguf"
	"github.com/attnscope/attnscope/internal/benchrun"
	"github.com/attnscope/attnscope/internal/shareddata"
)

func TestBench(t *testing.T) {
	model := shareddata.Model(t, "stories260K.gguf")
	var res benchResult
	cliJSON(t, &res, "bench", "--model", model, "--prompt-tokens", "16", "--gen-tokens", "4", "--runs", "3", "--threads", "1", "--json")
	if res.PPTokS <= 0 || res.TGTokS <= 0 || res.Threads != 1 || res.Runs != 3 || res.PromptTokens != 16 || res.GenTokens != 4 {
		t.Errorf("bench result %+v", res)
	}
	if res.PeakRSSBytes < 0 {
		t.Errorf("peak RSS %d", res.PeakRSSBytes)
	}
	out, code := cli(t, "bench", "--model", model, "--prompt-tokens", "8", "--gen-tokens", "1", "--runs", "1")
	if code != 0 || !strings.Contains(out, "tok/s") {
		t.Errorf("text output (exit %d): %s", code, out)
	}
}

// --bandwidth adds the weights a token reads, the read bandwidth and generation against the
// bound they set, consistent with each other; it needs generated tokens.
func TestBenchBandwidth(t *testing.T) {
	model := shareddata.Model(t, "stories260K.gguf")
	var res benchResult
	cliJSON(t, &res, "bench", "--model", model, "--prompt-tokens", "16", "--gen-tokens", "4", "--runs", "2", "--threads", "1", "--bandwidth", "--json")
	f, err := gguf.Open(model)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if want := benchrun.WeightBytes(f); res.WeightBytes != want || want <= 0 {
		t.Errorf("weight_bytes_per_token %d, want %d", res.WeightBytes, want)
	}
	if !(res.StreamGBs > 0) || !(res.TGTokS > 0) {
		t.Fatalf("stream %g GB/s, tg %g tok/s", res.StreamGBs, res.TGTokS)
	}
	bound := res.StreamGBs * 1e9 / float64(res.WeightBytes)
	if math.Abs(res.BoundTokS-bound) > 1e-9*bound || math.Abs(res.OfBound-res.TGTokS/bound) > 1e-9*res.OfBound {
		t.Errorf("bound %g tok/s and fraction %g, want %g and %g", res.BoundTokS, res.OfBound, bound, res.TGTokS/bound)
	}
	out, code := cli(t, "bench", "--model", model, "--gen-tokens", "0", "--runs", "1", "--bandwidth")
	if code == 0 || !strings.Contains(out, "--gen-tokens") {
		t.Errorf("--bandwidth without generated tokens: exit %d, %s", code, out)
	}
}

func TestBenchBadInput(t *testing.T) {
	model := shareddata.Model(t, "stories260K.gguf")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--model", model, "--prompt-tokens", "100000"}, "longer than the model's context"},
		{[]string{"--model", model, "--runs", "0"}, "--runs"},
		{[]string{"--model", shareddata.Model(t, "ggml-vocab-gpt-2.gguf")}, "vocabulary"},
		{[]string{"--model", shareddata.Model(t, "tiny-bert-synthetic.gguf")}, "language-model head"},
	} {
		out, code := cli(t, append([]string{"bench"}, c.args...)...)
		if code == 0 || !strings.Contains(out, c.want) {
			t.Errorf("bench %v: exit %d, output %q, want an error mentioning %q", c.args, code, out, c.want)
		}
	}
}
