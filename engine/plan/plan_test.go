package plan

import (
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/attnscope/attnscope/engine/gguf"
	"github.com/attnscope/attnscope/engine/presets"
	"github.com/attnscope/attnscope/engine/quant"
	"github.com/attnscope/attnscope/internal/shareddata"
)

func preset(t *testing.T, name string, wt quant.Type) Model {
	t.Helper()
	s, err := presets.Get(name)
	if err != nil {
		t.Fatal(err)
	}
	m, err := FromPreset(s, wt)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func mustPlan(t *testing.T, in Input) *Result {
	t.Helper()
	r, err := Plan(in)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func gpu(t *testing.T, name string) GPU {
	t.Helper()
	g, err := LookupGPU(name)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func eq(t *testing.T, what string, got, want int64) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %d, want %d", what, got, want)
	}
}

// stories260K: 5 layers, width 64, 8 heads, 4 KV heads of 8, feed-forward 172, vocabulary 512,
// context 2048, 292800 F32 weights.
func TestStories260K(t *testing.T) {
	f, err := gguf.Open(shareddata.Model(t, "stories260K.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := FromGGUF(f)
	if err != nil {
		t.Fatal(err)
	}
	if m.Layers != 5 || m.Heads != 8 || m.KVHeads != 4 || m.HeadDim != 8 || m.FFN != 172 || m.Vocab != 512 || m.Ctx != 2048 {
		t.Fatalf("shape %+v", m)
	}
	r := mustPlan(t, Input{Model: m, Seq: 10000, GPUBytes: 1 << 30, KVType: KVF16, Attention: Tiled})
	eq(t, "weights_bytes", r.WeightsBytes, 292800*4) // 1171200: every tensor F32
	// kv per token = 2 (K and V) × 5 layers × 4 KV heads × 8 head_dim × 2 bytes = 640
	eq(t, "kv_bytes_per_token", r.KVBytesPerToken, 640)
	eq(t, "kv_bytes_per_token_mha", r.KVBytesPerTokenMHA, 2*5*8*8*2) // 1280
	eq(t, "kv_bytes_per_sequence", r.KVBytesPerSequence, 640*10000)  // 6400000
	// activations: residual, normed, q = 3 × 10000×64×4 = 7680000; new K,V = 2×10000×4×8×4 = 2560000;
	// SwiGLU hidden (the up product finishes the activation in place) = 10000×172×4 = 6880000;
	// logits = 512×4 = 2048; total 17122048
	eq(t, "activation_bytes_per_sequence", r.ActivationBytesPerSequence, 17122048)
	// tiled: output 10000×8×8×4 = 2560000, row max and sum 8×10000×2×4 = 640000, tiles 8×64×64×4 = 131072
	eq(t, "attention tiled", r.AttentionBytesTiled, 3331072)
	// naive: scores 8×10000×10000×4 = 3200000000 + output 2560000
	eq(t, "attention naive", r.AttentionBytesNaive, 3202560000)
	eq(t, "workspace_bytes_per_sequence", r.WorkspaceBytesPerSequence, 17122048+3331072)
	// per sequence 6400000 + 20453120 = 26853120; (1073741824 − 1171200) / 26853120 = 39.9
	eq(t, "max_batch", r.MaxBatch, 39)
	// naive needs 6400000 + 17122048 + 3202560000 = 3226082048 per sequence: more than a GiB
	eq(t, "max_batch_naive", r.MaxBatchNaive, 0)
	// MHA: kv 12800000, new K,V 5120000: 12800000 + 19682048 + 3331072 = 35813120 → 29
	eq(t, "max_batch_mha", r.MaxBatchMHA, 29)
	if len(r.Warnings) == 0 || !strings.Contains(r.Warnings[0], "context of 2048") {
		t.Errorf("no warning for 10000 tokens past a context of 2048: %q", r.Warnings)
	}
	// q8_0: a head of 8 values still takes one block of 34 bytes
	q := mustPlan(t, Input{Model: m, Seq: 10000, GPUBytes: 1 << 30, KVType: KVQ8_0})
	eq(t, "q8_0 kv_bytes_per_token", q.KVBytesPerToken, 2*5*4*34)
	if !strings.Contains(strings.Join(q.Warnings, "\n"), "padded to 32") {
		t.Errorf("no padding warning: %q", q.Warnings)
	}
	n := mustPlan(t, Input{Model: m, Seq: 10000, GPUBytes: 1 << 30, Attention: Naive})
	if n.MaxBatch != 0 || !strings.Contains(n.MaxBatchReason, "one sequence needs 3226082048 bytes") {
		t.Errorf("naive: max_batch %d, reason %q", n.MaxBatch, n.MaxBatchReason)
	}
}

// Llama 2 7B, F16 weights, F16 KV cache, tiled attention, 10000 tokens on an A100 80GB:
//
//	parameters: embeddings 2 × 32000×4096 = 262144000; per layer 4×4096² + 3×4096×11008 + 2×4096
//	  = 202383360, × 32 = 6476267520; final norm 4096; total 6738415616, of which vectors
//	  (norms) 32×8192 + 4096 = 266240
//	weights  = 6738149376 × 2 + 266240 × 4 = 13477363712
//	gpu      = (81920 MiB − 1536 MiB) × 95 / 100 = (85899345920 − 1610612736) × 0.95 = 80074296524
//	kv/token = 2 × 32 layers × 32 KV heads × 128 × 2 bytes = 524288; × 10000 = 5242880000
//	acts     = 3 × 10000×4096×4 (163840000 each) + new K,V 327680000 + FFN hidden 10000×11008×4
//	           = 440320000 + logits 128000 = 1259648000
//	tiled    = output 163840000 + stats 32×10000×8 = 2560000 + tiles 32×64×64×4 = 524288 = 166924288
//	per seq  = 5242880000 + 1259648000 + 166924288 = 6669452288
//	max      = floor((80074296524 − 13477363712) / 6669452288) = floor(9.99) = 9
//	naive    = scores 32×10000²×4 = 12800000000 + 163840000; per seq 19466368000 → floor(3.42) = 3
func TestLlama2At10K(t *testing.T) {
	m := preset(t, "llama2-7b", quant.F16)
	eq(t, "params", m.Params, 6738415616)
	r := mustPlan(t, Input{Model: m, Seq: 10000, GPU: gpu(t, "a100-80gb"), KVType: KVF16, Attention: Tiled, Batch: 9})
	eq(t, "gpu_bytes", r.GPUBytes, 80074296524)
	eq(t, "weights_bytes", r.WeightsBytes, 13477363712)
	eq(t, "kv_bytes_per_token", r.KVBytesPerToken, 524288)
	eq(t, "kv_bytes_per_token_mha", r.KVBytesPerTokenMHA, 524288)
	eq(t, "kv_bytes_per_sequence", r.KVBytesPerSequence, 5242880000)
	eq(t, "activations", r.ActivationBytesPerSequence, 1259648000)
	eq(t, "attention", r.AttentionBytesPerSequence, 166924288)
	eq(t, "workspace_bytes_per_sequence", r.WorkspaceBytesPerSequence, 1426572288)
	eq(t, "bytes_per_sequence", r.BytesPerSequence, 6669452288)
	eq(t, "max_batch", r.MaxBatch, 9)
	eq(t, "max_batch_naive", r.MaxBatchNaive, 3)
	eq(t, "attention naive", r.AttentionBytesNaive, 12963840000)
	for _, s := range []string{"(85899345920 − 1610612736) × 95 / 100", "floor((80074296524 − 13477363712) / (5242880000 + 1426572288))",
		"floor(66596932812 / 6669452288)", "= 9"} {
		if !strings.Contains(r.Formula, s) {
			t.Errorf("formula lacks %q:\n%s", s, r.Formula)
		}
	}
	if r.Batch == nil || !r.Batch.Fits {
		t.Errorf("batch 9 should fit: %+v", r.Batch)
	}
	r10 := mustPlan(t, Input{Model: m, Seq: 10000, GPU: gpu(t, "a100-80gb"), Batch: 10})
	if r10.Batch.Fits || r10.Batch.FreeBytes >= 0 {
		t.Errorf("batch 10 should not fit: %+v", r10.Batch)
	}
	// Q8_0 weights: 34 bytes per 32
	q := preset(t, "llama2-7b", quant.Q8_0)
	eq(t, "q8_0 weights", q.Weights.Value, 6738149376/32*34+266240*4)
	q4 := preset(t, "llama2-7b", quant.Q4_0)
	eq(t, "q4_0 weights", q4.Weights.Value, 6738149376/32*18+266240*4)
}

func TestPresetTensorsMatchParams(t *testing.T) {
	for _, name := range presets.Names() {
		s, _ := presets.Get(name)
		for _, wt := range []quant.Type{quant.F32, quant.F16, quant.BF16, quant.Q8_0, quant.Q4_0} {
			m, err := FromPreset(s, wt)
			if err != nil {
				t.Fatalf("%s %v: %v", name, wt, err)
			}
			eq(t, name+" params", m.Params, s.Params())
		}
	}
}

func TestGQARatio(t *testing.T) {
	for _, name := range presets.Names() {
		m := preset(t, name, quant.F16)
		for _, kv := range []KVType{KVF32, KVF16, KVQ8_0} {
			r := mustPlan(t, Input{Model: m, Seq: 4096, GPU: gpu(t, "h100-80gb"), KVType: kv})
			if r.KVBytesPerTokenMHA*int64(m.KVHeads) != r.KVBytesPerToken*int64(m.Heads) {
				t.Errorf("%s %s: MHA %d / GQA %d is not %d/%d", name, kv, r.KVBytesPerTokenMHA, r.KVBytesPerToken, m.Heads, m.KVHeads)
			}
			if r.MaxBatchMHA > r.MaxBatch {
				t.Errorf("%s %s: MHA fits more (%d) than GQA (%d)", name, kv, r.MaxBatchMHA, r.MaxBatch)
			}
		}
	}
	r := mustPlan(t, Input{Model: preset(t, "tinyllama-1.1b", quant.F16), Seq: 10000, GPU: gpu(t, "h100-80gb")})
	eq(t, "tinyllama MHA/GQA", r.KVBytesPerSequenceMHA/r.KVBytesPerSequence, 8)
}

func TestAttentionScaling(t *testing.T) {
	m := preset(t, "s110m", quant.F16)
	h, hd := int64(m.Heads), int64(m.HeadDim)
	at := func(n int64, a Attention) int64 {
		r := mustPlan(t, Input{Model: m, Seq: n, GPUBytes: 1 << 40, Attention: a, TileQ: 128, TileK: 32})
		if a == Naive {
			return r.AttentionBytesNaive
		}
		return r.AttentionBytesTiled
	}
	tile := h * 128 * 32 * 4
	for _, n := range []int64{1, 1000, 4096, 10000, 1 << 20} {
		eq(t, "naive", at(n, Naive), h*n*n*4+n*h*hd*4)
		eq(t, "tiled", at(n, Tiled), n*h*(hd+2)*4+tile)
		// tiled is linear: doubling n doubles everything but the tile
		eq(t, "tiled(2n)", at(2*n, Tiled)-tile, 2*(at(n, Tiled)-tile))
		// naive is quadratic: doubling n quadruples the scores
		eq(t, "naive(2n) scores", at(2*n, Naive)-2*n*h*hd*4, 4*(at(n, Naive)-n*h*hd*4))
	}
	if r := float64(at(20000, Naive)) / float64(at(10000, Naive)); r < 3.9 || r > 4 {
		t.Errorf("naive(20000)/naive(10000) = %.3f, want about 4", r)
	}
}

func TestMaxBatchMonotoneInMemory(t *testing.T) {
	m := preset(t, "tinyllama-1.1b", quant.Q8_0)
	prev := int64(-1)
	base := mustPlan(t, Input{Model: m, Seq: 10000, GPUBytes: 1 << 30})
	per, w := base.BytesPerSequence, base.WeightsBytes
	for mem := w - per; mem < w+40*per; mem += per / 7 {
		if mem <= 0 {
			continue
		}
		r := mustPlan(t, Input{Model: m, Seq: 10000, GPUBytes: mem})
		if r.MaxBatch < prev {
			t.Fatalf("max_batch fell from %d to %d at %d bytes", prev, r.MaxBatch, mem)
		}
		want := int64(0)
		if mem >= w {
			want = (mem - w) / per
		}
		eq(t, "max_batch", r.MaxBatch, want)
		if (r.MaxBatch == 0) != (r.MaxBatchReason != "") {
			t.Errorf("max_batch %d with reason %q", r.MaxBatch, r.MaxBatchReason)
		}
		if r.MaxBatch > 0 && !mustPlan(t, Input{Model: m, Seq: 10000, GPUBytes: mem, Batch: r.MaxBatch}).Batch.Fits {
			t.Errorf("max_batch %d does not fit its own check", r.MaxBatch)
		}
		prev = r.MaxBatch
	}
	// the table: more memory never means a smaller batch
	var last *Result
	for _, name := range []string{"t4-16gb", "l4-24gb", "rtx4090-24gb", "a100-40gb", "l40s-48gb", "h100-80gb", "a100-80gb", "h200-141gb"} {
		r := mustPlan(t, Input{Model: m, Seq: 10000, GPU: gpu(t, name)})
		if last != nil && (r.GPUBytes < last.GPUBytes || r.MaxBatch < last.MaxBatch) {
			t.Errorf("%s: %d bytes, batch %d after %s: %d bytes, batch %d", name, r.GPUBytes, r.MaxBatch, last.GPU, last.GPUBytes, last.MaxBatch)
		}
		last = r
	}
}

func TestWeightsDoNotFit(t *testing.T) {
	r := mustPlan(t, Input{Model: preset(t, "llama3-8b", quant.F32), Seq: 1000, GPU: gpu(t, "l4-24gb")})
	if r.MaxBatch != 0 || !strings.Contains(r.MaxBatchReason, "weights alone") || !strings.Contains(r.Formula, "= 0: weights_bytes") {
		t.Errorf("max_batch %d, reason %q, formula\n%s", r.MaxBatch, r.MaxBatchReason, r.Formula)
	}
}

func TestBadAndHugeInputs(t *testing.T) {
	m := preset(t, "s15m", quant.F16)
	ok := Input{Model: m, Seq: 100, GPUBytes: 1 << 30}
	cases := map[string]func(*Input){
		"seq 0":        func(in *Input) { in.Seq = 0 },
		"seq negative": func(in *Input) { in.Seq = -5 },
		"seq too long": func(in *Input) { in.Seq = MaxSeq + 1 },
		"no gpu":       func(in *Input) { in.GPUBytes = 0 },
		"gpu negative": func(in *Input) { in.GPUBytes = -1 },
		"kv type":      func(in *Input) { in.KVType = "q4_0" },
		"attention":    func(in *Input) { in.Attention = "sparse" },
		"tile":         func(in *Input) { in.TileQ = MaxTile + 1 },
		"batch":        func(in *Input) { in.Batch = -1 },
		"kv heads":     func(in *Input) { in.Model.KVHeads = in.Model.Heads + 1 },
		"layers":       func(in *Input) { in.Model.Layers = 0 },
		"tiny gpu":     func(in *Input) { in.GPUBytes = 0; in.GPU = GPU{Name: "x", TotalBytes: 1 << 20} },
		"overflow": func(in *Input) {
			in.Model.Layers, in.Model.Heads, in.Model.KVHeads, in.Model.HeadDim = math.MaxInt32, math.MaxInt32, math.MaxInt32, math.MaxInt32
		},
		"naive overflow": func(in *Input) {
			in.Seq, in.Attention, in.Model.Heads, in.Model.KVHeads = MaxSeq, Naive, 1<<20, 1
		},
		"batch overflow": func(in *Input) { in.Seq, in.Batch = MaxSeq, MaxBatch },
	}
	for name, change := range cases {
		in := ok
		change(&in)
		r, err := Plan(in)
		if err == nil {
			t.Errorf("%s: no error (max_batch %d)", name, r.MaxBatch)
		}
	}
	in := ok
	in.Model.HeadDim = math.MaxInt32
	in.Model.Layers = math.MaxInt32
	in.Model.KVHeads = math.MaxInt32
	in.Model.Heads = math.MaxInt32
	if _, err := Plan(in); !errors.Is(err, ErrOverflow) {
		t.Errorf("huge model: %v, want ErrOverflow", err)
	}
	// the largest accepted sequence still plans without overflow when tiled
	in = ok
	in.Seq = MaxSeq
	if _, err := Plan(in); err != nil {
		t.Errorf("seq %d: %v", MaxSeq, err)
	}
	if _, err := FromPreset(presets.Shape{Name: "bad", Arch: "llama", Dim: 100, Heads: 3, KVHeads: 1, Layers: 1, FFN: 1, Vocab: 1, Ctx: 1}, quant.F16); err == nil {
		t.Error("width not divisible by heads: no error")
	}
	if _, err := FromPreset(presets.Shape{Name: "odd", Arch: "llama", Dim: 40, Heads: 4, KVHeads: 4, Layers: 1, FFN: 64, Vocab: 10, Ctx: 8}, quant.Q8_0); err == nil {
		t.Error("rows of 40 in Q8_0: no error")
	}
	if _, err := FromPreset(presets.Shape{Name: "huge", Arch: "llama", Dim: 1 << 30, Heads: 1, KVHeads: 1, Layers: 1 << 20, FFN: 1 << 30, Vocab: 1 << 30, Ctx: 8}, quant.F32); !errors.Is(err, ErrOverflow) {
		t.Errorf("huge preset: %v, want ErrOverflow", err)
	}
}

func TestUsableMemory(t *testing.T) {
	var c calc
	// H100: 81559 MiB total − 1536 MiB = 80023 MiB = 83910197248 bytes; × 0.95 = 79714687385.6
	eq(t, "h100", usable(&c, 81559*mib).Value, 79714687385)
	eq(t, "huge", usable(&c, math.MaxInt64).Value, (math.MaxInt64-ReserveBytes)/100*95+(math.MaxInt64-ReserveBytes)%100*95/100)
	if c.err != nil {
		t.Fatal(c.err)
	}
	usable(&c, ReserveBytes)
	if c.err == nil {
		t.Error("a card no larger than the reserve: no error")
	}
	if _, err := LookupGPU("b300"); err == nil || !strings.Contains(err.Error(), "h200-141gb") {
		t.Errorf("unknown GPU error %v should list the table", err)
	}
	if g, err := LookupGPU("H100-80GB"); err != nil || g.TotalBytes != 81559*mib {
		t.Errorf("LookupGPU ignores case: %v %v", g, err)
	}
}

func TestParseBytes(t *testing.T) {
	good := map[string]int64{
		"85899345920": 85899345920, "80GiB": 80 << 30, "80 gib": 80 << 30, "80Gi": 80 << 30, "80GB": 80e9,
		"80G": 80e9, "81920MiB": 81920 << 20, "79.5GiB": 79*(1<<30) + 1<<29, "1.5KiB": 1536, "0.1B": 0, "2TiB": 2 << 40,
		"7b": 7, "1.0000000001": 1,
	}
	for s, want := range good {
		got, err := ParseBytes(s)
		if want == 0 {
			if err == nil {
				t.Errorf("%q: %d, want an error (not positive)", s, got)
			}
			continue
		}
		if err != nil || got != want {
			t.Errorf("%q = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"", "GiB", "abc", "-1", "0", "1e9", "0x10", "1/2", "1.2.3GiB", "80XB", "9999999999TiB", "9223372036854775808", "+5", "1_000"} {
		if n, err := ParseBytes(s); err == nil {
			t.Errorf("%q = %d, want an error", s, n)
		}
	}
}

func FuzzParseBytes(f *testing.F) {
	for _, s := range []string{"80GiB", "1.5 MB", "12", "9223372036854775807"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseBytes(s)
		if err == nil && n <= 0 {
			t.Fatalf("%q = %d without error", s, n)
		}
	})
}

// Every shared model file plans: weights are the exact tensor bytes, which fit inside the file.
func TestEveryModelFile(t *testing.T) {
	dir := filepath.Dir(shareddata.Model(t, "stories260K.gguf"))
	files, _ := filepath.Glob(filepath.Join(dir, "*.gguf"))
	planned, encoders := 0, 0
	for _, p := range files {
		f, err := gguf.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		m, err := FromGGUF(f)
		if err != nil || len(f.Tensors) == 0 {
			f.Close()
			continue // vocabulary-only files have no model to plan
		}
		var sum int64
		for _, tn := range f.Tensors {
			sum += tn.Size
		}
		f.Close()
		eq(t, filepath.Base(p)+" weights", m.Weights.Value, sum)
		if sum <= 0 || sum > f.Size {
			t.Errorf("%s: %d weight bytes in a file of %d", p, sum, f.Size)
		}
		r := mustPlan(t, Input{Model: m, Seq: 512, GPU: gpu(t, "l4-24gb"), KVType: KVQ8_0, Attention: Naive})
		if r.MaxBatch < 1 {
			t.Errorf("%s: max_batch %d: %s", p, r.MaxBatch, r.MaxBatchReason)
		}
		if !m.Causal {
			encoders++
			if !strings.Contains(strings.Join(r.Warnings, "\n"), "encoder") {
				t.Errorf("%s: no encoder warning: %q", p, r.Warnings)
			}
		}
		planned++
	}
	if planned < 10 || encoders == 0 {
		t.Errorf("planned %d model files (%d encoders) of %d", planned, encoders, len(files))
	}
}
