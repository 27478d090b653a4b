package main

import (
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/attnscope/attnscope/engine/gguf"
	"github.com/attnscope/attnscope/engine/plan"
	"github.com/attnscope/attnscope/engine/presets"
)

func init() {
	register(command{"plan", "memory plan: weights, KV cache, workspace and the largest batch that fits a GPU", cmdPlan})
}

type planFlags struct {
	model, preset, wtype, gpu, gpuMem, kvType, attention, tile string
	seq, batch                                                 int64
	json, verify                                               bool
}

func cmdPlan(args []string, stdout io.Writer) error {
	fs := newFlags("plan")
	var pf planFlags
	fs.StringVar(&pf.model, "model", "", "GGUF model `file` (weights counted exactly from its tensors)")
	fs.StringVar(&pf.preset, "preset", "", "a named model shape instead of a file: "+strings.Join(presets.Names(), ", "))
	fs.StringVar(&pf.wtype, "type", "f16", "weight type of a preset: "+strings.Join(plan.WeightTypes, ", "))
	fs.Int64Var(&pf.seq, "seq", 0, "tokens per sequence (required)")
	fs.StringVar(&pf.gpu, "gpu", "", "GPU: "+strings.Join(plan.GPUNames(), ", "))
	fs.StringVar(&pf.gpuMem, "gpu-mem", "", "usable GPU memory taken as given, nothing reserved (bytes, or e.g. 78GiB, 80GB); overrides --gpu's")
	fs.StringVar(&pf.kvType, "kv-type", "f16", "KV cache type: f32, f16, q8_0")
	fs.StringVar(&pf.attention, "attention", "tiled", "attention: naive (n×n scores per head) or tiled (FlashAttention-style)")
	fs.StringVar(&pf.tile, "tile", "64", "tiled attention's tile: `N` or QxK (query rows × key columns)")
	fs.Int64Var(&pf.batch, "batch", 0, "also check whether this many sequences fit")
	fs.BoolVar(&pf.json, "json", false, "print JSON")
	fs.BoolVar(&pf.verify, "verify", false, "run the planned case (one sequence) on the GPU and report what it allocated beside the plan (needs --model and CUDA)")
	if err := parse(fs, args); err != nil {
		return err
	}
	in, err := pf.input(fs)
	if err != nil {
		return err
	}
	r, err := plan.Plan(in)
	if err != nil {
		// the command's name already prefixes the message
		return fmt.Errorf("%s", strings.TrimPrefix(err.Error(), "plan: "))
	}
	var v *Verified
	if pf.verify {
		if pf.model == "" {
			return fmt.Errorf("--verify runs a model file: give --model")
		}
		if v, err = verifyPlan(pf.model, int(pf.seq), r); err != nil {
			return err
		}
	}
	if pf.json {
		if v != nil {
			return writeJSON(stdout, struct {
				*plan.Result
				Verified *Verified `json:"verified"`
			}{r, v})
		}
		return writeJSON(stdout, r)
	}
	writePlan(stdout, r)
	if v != nil {
		writeVerified(stdout, v)
	}
	return nil
}

func (pf *planFlags) input(fs *flag.FlagSet) (plan.Input, error) {
	var in plan.Input
	typeSet := false
	fs.Visit(func(f *flag.Flag) { typeSet = typeSet || f.Name == "type" })
	switch {
	case (pf.model == "") == (pf.preset == ""):
		return in, fmt.Errorf("give exactly one of --model FILE or --preset NAME (presets: %s)", strings.Join(presets.Names(), ", "))
	case pf.seq <= 0:
		return in, fmt.Errorf("--seq must be a positive number of tokens (got %d)", pf.seq)
	case pf.seq > plan.MaxSeq:
		return in, fmt.Errorf("--seq %d is longer than the %d tokens the planner accepts", pf.seq, plan.MaxSeq)
	case pf.gpu == "" && pf.gpuMem == "":
		return in, fmt.Errorf("give --gpu NAME (%s) or --gpu-mem BYTES", strings.Join(plan.GPUNames(), ", "))
	case pf.batch < 0:
		return in, fmt.Errorf("--batch must not be negative (got %d)", pf.batch)
	case pf.model != "" && typeSet:
		return in, fmt.Errorf("--type applies to presets; a model file's weights are counted from its own tensors")
	}
	if pf.model != "" {
		f, err := gguf.Open(pf.model)
		if err != nil {
			return in, err
		}
		defer f.Close()
		if in.Model, err = plan.FromGGUF(f); err != nil {
			return in, fmt.Errorf("%s: %w", pf.model, err)
		}
	} else {
		shape, err := presets.Get(pf.preset)
		if err != nil {
			return in, err
		}
		wt, err := plan.ParseWeightType(pf.wtype)
		if err != nil {
			return in, err
		}
		if in.Model, err = plan.FromPreset(shape, wt); err != nil {
			return in, err
		}
	}
	if pf.gpu != "" {
		g, err := plan.LookupGPU(pf.gpu)
		if err != nil {
			return in, err
		}
		in.GPU = g
	}
	if pf.gpuMem != "" {
		n, err := plan.ParseBytes(pf.gpuMem)
		if err != nil {
			return in, fmt.Errorf("--gpu-mem: %w", err)
		}
		in.GPUBytes = n
	}
	switch kv := plan.KVType(strings.ToLower(pf.kvType)); kv {
	case plan.KVF32, plan.KVF16, plan.KVQ8_0:
		in.KVType = kv
	default:
		return in, fmt.Errorf("unknown --kv-type %q (f32, f16, q8_0)", pf.kvType)
	}
	switch a := plan.Attention(strings.ToLower(pf.attention)); a {
	case plan.Naive, plan.Tiled:
		in.Attention = a
	default:
		return in, fmt.Errorf("unknown --attention %q (naive, tiled)", pf.attention)
	}
	q, k, err := parseTile(pf.tile)
	if err != nil {
		return in, err
	}
	in.TileQ, in.TileK = q, k
	in.Seq, in.Batch = pf.seq, pf.batch
	return in, nil
}

// parseTile reads "N" or "QxK".
func parseTile(s string) (q, k int64, err error) {
	a, b, found := strings.Cut(strings.ToLower(s), "x")
	if !found {
		b = a
	}
	q, err1 := strconv.ParseInt(a, 10, 64)
	k, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil || q < 1 || k < 1 || q > plan.MaxTile || k > plan.MaxTile {
		return 0, 0, fmt.Errorf("bad --tile %q (want N or QxK, each 1 to %d)", s, plan.MaxTile)
	}
	return q, k, nil
}

func writePlan(w io.Writer, r *plan.Result) {
	m := r.Model
	src := "file"
	if m.Source == "preset" {
		src = "preset"
	}
	fmt.Fprintf(w, "%s (%s; %s, %d layers, width %d, %d heads, %d KV heads of %d, feed-forward %d, %s weights)\n",
		m.Name, src, m.Arch, m.Layers, m.Embd, m.Heads, m.KVHeads, m.HeadDim, m.FFN, m.WeightType)
	att := string(r.Attention)
	if r.Attention == plan.Tiled {
		att = fmt.Sprintf("tiled, %d×%d tiles", r.TileQ, r.TileK)
	}
	fmt.Fprintf(w, "%d tokens per sequence · KV cache %s · attention %s · activations %s\n", r.Seq, r.KVType, att, r.ActivationType)
	fmt.Fprintf(w, "GPU %s: %s usable (%s)\n\n", r.GPU, plan.FormatBytes(r.GPUBytes), r.GPUBytesNote)

	fmt.Fprintf(w, "  %-30s %12s  %s\n", "term", "size", "= formula = numbers")
	for _, t := range r.Terms {
		size := plan.FormatBytes(t.Value)
		if t.Name == "max_batch" {
			size = fmt.Sprint(t.Value)
		}
		fmt.Fprintf(w, "  %-30s %12s  = %s = %s\n", t.Name, size, t.Formula, t.Substituted)
	}

	fmt.Fprintf(w, "\n  %-26s %9s %14s %16s %10s\n", "KV heads", "n_kv_head", "KV per token", "KV per sequence", "max batch")
	fmt.Fprintf(w, "  %-26s %9d %14s %16s %10d\n", "this model", m.KVHeads, plan.FormatBytes(r.KVBytesPerToken), plan.FormatBytes(r.KVBytesPerSequence), r.MaxBatch)
	fmt.Fprintf(w, "  %-26s %9d %14s %16s %10d\n", "MHA (n_kv_head = n_head)", m.Heads, plan.FormatBytes(r.KVBytesPerTokenMHA), plan.FormatBytes(r.KVBytesPerSequenceMHA), r.MaxBatchMHA)
	if m.KVHeads < m.Heads {
		fmt.Fprintf(w, "  GQA stores %d× less KV than MHA would (%d query heads share %d KV heads)\n", m.Heads/m.KVHeads, m.Heads, m.KVHeads)
	}
	fmt.Fprintf(w, "\n  %-26s %28s %10s\n", "attention", "attention bytes per sequence", "max batch")
	fmt.Fprintf(w, "  %-26s %28s %10d\n", "naive (n² scores)", plan.FormatBytes(r.AttentionBytesNaive), r.MaxBatchNaive)
	fmt.Fprintf(w, "  %-26s %28s %10d\n", "tiled (online softmax)", plan.FormatBytes(r.AttentionBytesTiled), r.MaxBatchTiled)

	fmt.Fprintf(w, "\nmax batch: %d sequences of %d tokens", r.MaxBatch, r.Seq)
	if r.MaxBatchReason != "" {
		fmt.Fprintf(w, " — %s", r.MaxBatchReason)
	}
	fmt.Fprintf(w, "\n\nformula:\n  %s\n", strings.ReplaceAll(r.Formula, "\n", "\n  "))
	if b := r.Batch; b != nil {
		verdict := "fits"
		if !b.Fits {
			verdict = "does not fit"
		}
		fmt.Fprintf(w, "\nbatch %d %s: %s\n", b.Batch, verdict, b.Formula)
	}
	for _, s := range r.Warnings {
		fmt.Fprintf(w, "\nwarning: %s\n", s)
	}
}
