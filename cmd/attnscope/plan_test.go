package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/attnscope/attnscope/internal/shareddata"
)

func TestPlanJSON(t *testing.T) {
	var out map[string]any
	cliJSON(t, &out, "plan", "--preset", "llama2-7b", "--seq", "10000", "--gpu", "a100-80gb", "--kv-type", "f16", "--json")
	for _, k := range []string{"weights_bytes", "kv_bytes_per_token", "kv_bytes_per_token_mha", "kv_bytes_per_sequence",
		"workspace_bytes_per_sequence", "gpu_bytes", "gpu_bytes_note", "max_batch", "max_batch_mha", "formula", "terms", "assumptions", "warnings"} {
		if _, ok := out[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	// see engine/plan's TestLlama2At10K for the hand computation
	if out["max_batch"] != 9.0 || out["gpu_bytes"] != 80074296524.0 || out["kv_bytes_per_token"] != 524288.0 {
		t.Errorf("max_batch %v, gpu_bytes %v, kv_bytes_per_token %v", out["max_batch"], out["gpu_bytes"], out["kv_bytes_per_token"])
	}

	var r struct {
		WeightsBytes int64  `json:"weights_bytes"`
		GPU          string `json:"gpu"`
		GPUBytes     int64  `json:"gpu_bytes"`
		KVType       string `json:"kv_type"`
		Attention    string `json:"attention"`
		MaxBatch     int64  `json:"max_batch"`
		Batch        *struct {
			Fits bool `json:"fits"`
		} `json:"batch"`
	}
	cliJSON(t, &r, "plan", "--model", shareddata.Model(t, "stories260K.gguf"), "--seq", "10000", "--gpu-mem", "1GiB",
		"--kv-type", "q8_0", "--attention", "naive", "--batch", "2", "--json")
	if r.WeightsBytes != 1171200 || r.GPU != "custom" || r.GPUBytes != 1<<30 || r.KVType != "q8_0" || r.Attention != "naive" || r.Batch == nil || r.Batch.Fits {
		t.Errorf("%+v", r)
	}
}

func TestPlanText(t *testing.T) {
	out, code := cli(t, "plan", "--preset", "tinyllama-1.1b", "--type", "q8_0", "--seq", "10000", "--gpu", "h100-80gb", "--tile", "128x64")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	for _, s := range []string{"max_batch = floor((gpu_bytes − weights_bytes)", "MHA (n_kv_head = n_head)", "GQA stores 8× less KV",
		"naive (n² scores)", "tiled, 128×64 tiles", "kv_bytes_per_token", "GiB", "Q8_0 weights", "warning: sequence of 10000 tokens"} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q:\n%s", s, out)
		}
	}
}

func TestPlanErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--preset", "s15m", "--seq", "10", "--gpu", "b300"}, "h200-141gb"},
		{[]string{"--preset", "nope", "--seq", "10", "--gpu", "l4-24gb"}, "llama2-7b"},
		{[]string{"--seq", "10", "--gpu", "l4-24gb"}, "exactly one of --model"},
		{[]string{"--preset", "s15m", "--model", "x.gguf", "--seq", "10", "--gpu", "l4-24gb"}, "exactly one of --model"},
		{[]string{"--preset", "s15m", "--gpu", "l4-24gb"}, "--seq must be a positive"},
		{[]string{"--preset", "s15m", "--seq", "-3", "--gpu", "l4-24gb"}, "--seq must be a positive"},
		{[]string{"--preset", "s15m", "--seq", "20000000", "--gpu", "l4-24gb"}, "16777216"},
		{[]string{"--preset", "s15m", "--seq", "10", "--gpu-mem", "80XB"}, "bad memory size"},
		{[]string{"--preset", "s15m", "--seq", "10", "--gpu-mem", "99999999999TiB"}, "too large"},
		{[]string{"--preset", "s15m", "--seq", "10"}, "--gpu NAME"},
		{[]string{"--preset", "s15m", "--seq", "10", "--gpu", "l4-24gb", "--kv-type", "q4_0"}, "--kv-type"},
		{[]string{"--preset", "s15m", "--seq", "10", "--gpu", "l4-24gb", "--attention", "sparse"}, "--attention"},
		{[]string{"--preset", "s15m", "--seq", "10", "--gpu", "l4-24gb", "--type", "q5_1"}, "weight type"},
		{[]string{"--preset", "s15m", "--seq", "10", "--gpu", "l4-24gb", "--tile", "0x64"}, "--tile"},
		{[]string{"--preset", "llama3-8b", "--seq", "16777216", "--gpu", "h200-141gb", "--attention", "naive", "--batch", "1000000000000"}, "overflows"},
		{[]string{"--model", "x.gguf", "--type", "q8_0", "--seq", "10", "--gpu", "l4-24gb"}, "--type applies to presets"},
	} {
		out, code := cli(t, append([]string{"plan"}, c.args...)...)
		if code != 1 || !strings.Contains(out, c.want) {
			t.Errorf("plan %s: exit %d, want 1 and %q in:\n%s", strings.Join(c.args, " "), code, c.want, out)
		}
	}
	if out, code := cli(t, "plan", "--seq", "x"); code != 2 {
		t.Errorf("bad flag value: exit %d: %s", code, out)
	}
}

// The JSON terms add up: each sum term equals its parts, and max_batch is the floor division.
func TestPlanTermsConsistent(t *testing.T) {
	var r struct {
		GPUBytes, WeightsBytes, BytesPerSequence, MaxBatch int64
		Terms                                              []struct {
			Name  string `json:"name"`
			Value int64  `json:"value"`
		} `json:"terms"`
	}
	var raw map[string]json.RawMessage
	cliJSON(t, &raw, "plan", "--preset", "s110m", "--seq", "4096", "--gpu", "l4-24gb", "--json")
	for k, dst := range map[string]*int64{"gpu_bytes": &r.GPUBytes, "weights_bytes": &r.WeightsBytes, "bytes_per_sequence": &r.BytesPerSequence, "max_batch": &r.MaxBatch} {
		if err := json.Unmarshal(raw[k], dst); err != nil {
			t.Fatal(k, err)
		}
	}
	if err := json.Unmarshal(raw["terms"], &r.Terms); err != nil {
		t.Fatal(err)
	}
	v := map[string]int64{}
	for _, tm := range r.Terms {
		v[tm.Name] = tm.Value
	}
	act := v["act_residual"] + v["act_normed"] + v["act_q"] + v["act_kv_new"] + v["act_ffn_hidden"] + v["act_logits"]
	if act != v["activation_bytes_per_sequence"] || v["workspace_bytes_per_sequence"] != act+v["attention_bytes_per_sequence"] ||
		v["bytes_per_sequence"] != v["kv_bytes_per_sequence"]+v["workspace_bytes_per_sequence"] {
		t.Errorf("terms do not add up: %v", v)
	}
	if r.MaxBatch != (r.GPUBytes-r.WeightsBytes)/r.BytesPerSequence || v["max_batch"] != r.MaxBatch {
		t.Errorf("max_batch %d, terms %d, floor((%d − %d) / %d)", r.MaxBatch, v["max_batch"], r.GPUBytes, r.WeightsBytes, r.BytesPerSequence)
	}
}
