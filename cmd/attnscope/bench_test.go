package main

import (
	"strings"
	"testing"

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
