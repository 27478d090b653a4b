package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/attnscope/attnscope/engine/backend/cuda"
	"github.com/attnscope/attnscope/engine/infer"
	"github.com/attnscope/attnscope/engine/model"
	"github.com/attnscope/attnscope/engine/plan"
)

// Verified is what the GPU allocated for the planned case beside what the plan says.
type Verified struct {
	Device               string  `json:"device"`
	Seq                  int     `json:"seq"`
	PrefillSeconds       float64 `json:"prefill_seconds"`
	WeightsAllocated     int64   `json:"weights_allocated_bytes"`
	SequenceAllocated    int64   `json:"sequence_allocated_bytes"` // peak less weights: KV cache, activations, tables
	PeakAllocated        int64   `json:"peak_allocated_bytes"`
	DriverUsed           int64   `json:"driver_used_bytes"` // the driver's free memory before opening less after the run
	PlannedWeights       int64   `json:"planned_weights_bytes"`
	PlannedSequence      int64   `json:"planned_sequence_bytes"` // kv + workspace
	PlannedTotal         int64   `json:"planned_total_bytes"`
	AllocatedOverPlanned float64 `json:"allocated_over_planned"`
}

// verifyPlan runs the planned case on the GPU: the model's weights loaded, one sequence of seq
// random tokens prefilled in one pass into a KV cache of seq positions, and reports the bytes it
// really took beside the plan (the plan must use --kv-type f32: the CUDA cache holds float32).
func verifyPlan(path string, seq int, r *plan.Result) (*Verified, error) {
	if r.KVType != "f32" {
		return nil, fmt.Errorf("--verify compares with the CUDA backend's float32 KV cache: plan with --kv-type f32")
	}
	probe, err := cuda.Open(0)
	if err != nil {
		return nil, fmt.Errorf("--verify needs a GPU: %w", err)
	}
	free0, _ := probe.MemInfo()
	probe.Close()
	be, err := cuda.Open(0)
	if err != nil {
		return nil, err
	}
	l, err := infer.Open(path, be)
	if err != nil {
		be.Close()
		return nil, err
	}
	defer l.Close()
	v := &Verified{Device: be.Info().Name, Seq: seq, PlannedWeights: r.WeightsBytes,
		PlannedSequence: r.BytesPerSequence, PlannedTotal: r.WeightsBytes + r.BytesPerSequence}
	v.WeightsAllocated, _ = be.Allocated()
	cfg := l.Model.Config()
	if seq > cfg.NCtx {
		return nil, fmt.Errorf("--seq %d is longer than the model's context (%d)", seq, cfg.NCtx)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	ids := make([]int32, seq)
	for i := range ids {
		ids[i] = int32(rng.IntN(cfg.NVocab))
	}
	b := &model.Batch{Tokens: ids, Cache: model.NewCache(cfg, seq)}
	t0 := time.Now()
	if err := l.Model.Eval(b); err != nil {
		return nil, err
	}
	v.PrefillSeconds = time.Since(t0).Seconds()
	_, v.PeakAllocated = be.Allocated()
	v.SequenceAllocated = v.PeakAllocated - v.WeightsAllocated
	free1, _ := be.MemInfo()
	v.DriverUsed = int64(free0) - int64(free1)
	v.AllocatedOverPlanned = float64(v.PeakAllocated) / float64(v.PlannedTotal)
	return v, nil
}

func writeVerified(w io.Writer, v *Verified) {
	fmt.Fprintf(w, "\nchecked on %s: one sequence of %d tokens prefilled in %.3f s\n", v.Device, v.Seq, v.PrefillSeconds)
	fmt.Fprintf(w, "  %-22s %14s %14s\n", "", "planned", "allocated")
	fmt.Fprintf(w, "  %-22s %14d %14d\n", "weights", v.PlannedWeights, v.WeightsAllocated)
	fmt.Fprintf(w, "  %-22s %14d %14d\n", "per sequence", v.PlannedSequence, v.SequenceAllocated)
	fmt.Fprintf(w, "  %-22s %14d %14d  (%.3f×; the driver reports %d bytes used)\n", "total", v.PlannedTotal, v.PeakAllocated,
		v.AllocatedOverPlanned, v.DriverUsed)
}
