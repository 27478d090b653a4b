package cpu_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/attnscope/attnscope/engine/backend/cpu"
	"github.com/attnscope/attnscope/engine/infer"
	"github.com/attnscope/attnscope/engine/kvcache"
	"github.com/attnscope/attnscope/engine/model"
	"github.com/attnscope/attnscope/internal/shareddata"
)

// benchModels are the shared models the model-level benchmarks run; ATTNSCOPE_BENCH_MODELS
// (a list of paths separated by the OS list separator) replaces them, e.g. with synthetic models.
func benchModels(b *testing.B) []string {
	if env := os.Getenv("ATTNSCOPE_BENCH_MODELS"); env != "" {
		return filepath.SplitList(env)
	}
	var paths []string
	for _, name := range []string{"stories260K.gguf", "stories260K-q8_0.gguf", "stories260K-q4_0.gguf"} {
		paths = append(paths, shareddata.Model(b, name))
	}
	return paths
}

// BenchmarkModel measures prompt processing (one batch of 64 tokens) and decoding (one token
// after a prompt, with a float32 and an F16 KV cache) on the CPU backend, per model, compute mode
// (ggml only for quantized models) and thread count, in tokens per second. With -benchmem the allocations per decoded token
// show up as allocs/op of the decode benchmarks.
func BenchmarkModel(b *testing.B) {
	for _, path := range benchModels(b) {
		for _, mode := range []cpu.Compute{cpu.ComputeF32, cpu.ComputeGGML} {
			for _, threads := range []int{1, 2} {
				benchModel(b, path, mode, threads)
			}
		}
	}
}

func benchModel(b *testing.B, path string, mode cpu.Compute, threads int) {
	const promptTokens, prefix = 64, 32
	l, err := infer.Open(path, cpu.NewWithOptions(cpu.Options{Threads: threads, Compute: mode}))
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	if mode == cpu.ComputeGGML && !quantized(l) {
		return // the same products as ComputeF32
	}
	m := l.Model
	cfg := m.Config()
	ids := make([]int32, promptTokens)
	for i := range ids {
		ids[i] = int32((i*7919 + 3) % cfg.NVocab)
	}
	name := fmt.Sprintf("%s/compute=%s/threads=%d", filepath.Base(path), mode, threads)
	b.Run(name+"/prefill", func(b *testing.B) {
		cache := model.NewCache(cfg, 0)
		if cache.Capacity() < promptTokens {
			b.Skip("context shorter than the prompt")
		}
		batch := &model.Batch{Tokens: ids, Cache: cache}
		for b.Loop() {
			cache.Truncate(0)
			if err := m.Eval(batch); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(promptTokens)*float64(b.N)/b.Elapsed().Seconds(), "tok/s")
	})
	for _, kv := range []kvcache.Type{kvcache.F32, kvcache.F16} {
		benchDecode(b, name, m, ids, prefix, kv)
	}
}

// benchDecode measures decoding one token after prefix tokens of ids on a cache of type kv
// ("decode" for float32, "decode-f16").
func benchDecode(b *testing.B, name string, m model.Model, ids []int32, prefix int, kv kvcache.Type) {
	if kv != kvcache.F32 {
		name += "/decode-" + kv.String()
	} else {
		name += "/decode"
	}
	cfg := m.Config()
	b.Run(name, func(b *testing.B) {
		cache := model.NewCacheOf(cfg, 0, kv)
		if cache.Capacity() < prefix+2 {
			b.Skip("context too short")
		}
		if err := m.Eval(&model.Batch{Tokens: ids[:prefix], Cache: cache}); err != nil {
			b.Fatal(err)
		}
		tok := make([]int32, 1)
		batch := &model.Batch{Tokens: tok, Cache: cache}
		i := 0
		for b.Loop() {
			if cache.Len() == cache.Capacity() {
				cache.Truncate(prefix)
			}
			tok[0] = ids[i%len(ids)]
			i++
			if err := m.Eval(batch); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tok/s")
	})
}

// quantized reports whether the model holds any weight matrix in a block-quantized type.
func quantized(l *infer.Loaded) bool {
	for _, t := range l.File.Tensors {
		if t.Type.BlockSize() > 1 {
			return true
		}
	}
	return false
}
