package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"

	"github.com/attnscope/attnscope/engine/backend"
	"github.com/attnscope/attnscope/engine/backend/cpu"
	"github.com/attnscope/attnscope/engine/backend/cuda"
	"github.com/attnscope/attnscope/engine/infer"
	"github.com/attnscope/attnscope/engine/kvcache"
)

// modelFlags are the flags every model command takes.
type modelFlags struct {
	model, prompt, backend string
	compute, gpuAttention  string
	threads, ctx           int
	json                   bool
	kvType                 string
	kv                     kvcache.Type
}

func (m *modelFlags) register(fs *flag.FlagSet, prompt bool) {
	fs.StringVar(&m.model, "model", "", "GGUF model `file`")
	if prompt {
		fs.StringVar(&m.prompt, "prompt", "", "input `text`")
	}
	fs.StringVar(&m.backend, "backend", "auto", "compute backend: auto (CUDA when a GPU is usable, else the CPU), cpu or cuda")
	fs.StringVar(&m.compute, "compute", "auto", "products with F16/BF16/quantized weights on the CPU: f32 (weights dequantized, float32 activations), ggml (activations rounded as llama.cpp's CPU backend does, and its attention order) or auto (ggml's integer products for Q8_0 and Q4_0, f32 for the rest)")
	fs.StringVar(&m.gpuAttention, "gpu-attention", "f32", "attention on the GPU: f32, or f16 (the tensor cores: inputs rounded to f16, sums in float32, as PyTorch's F16 attention; heads of 64 or 128 values, 16 or more tokens at once)")
	fs.IntVar(&m.threads, "threads", 0, "worker threads (0: all cores)")
	fs.IntVar(&m.ctx, "ctx", 0, "context size in tokens (0: the model's)")
	fs.StringVar(&m.kvType, "kv-type", "f32", "KV cache values: f32 (what was computed; llama.cpp's attention to the bit with --compute ggml) or f16 (half the memory and half the bytes a generated token's attention reads, as llama.cpp's default cache)")
	fs.BoolVar(&m.json, "json", false, "print JSON")
}

func (m *modelFlags) check(fs *flag.FlagSet, prompt bool) error {
	if err := need(fs, "model", m.model); err != nil {
		return err
	}
	if prompt && m.prompt == "" {
		return infer.ErrEmptyPrompt
	}
	if m.threads < 0 || m.ctx < 0 {
		return fmt.Errorf("--threads and --ctx must not be negative")
	}
	kv, err := kvcache.ParseType(m.kvType)
	if err != nil {
		return fmt.Errorf("--kv-type: %w", err)
	}
	m.kv = kv
	return nil
}

func (m *modelFlags) newBackend() (backend.Backend, error) {
	compute, err := cpu.ParseCompute(m.compute)
	if err != nil {
		return nil, err
	}
	if m.gpuAttention != "f32" && m.gpuAttention != "f16" {
		return nil, fmt.Errorf("--gpu-attention %q: f32 or f16", m.gpuAttention)
	}
	if m.gpuAttention == "f16" && m.backend == "cpu" {
		return nil, fmt.Errorf("--gpu-attention f16 runs only on the GPU (--backend cuda or auto)")
	}
	be, err := selectBackend(m.backend, m.threads, compute)
	if err != nil {
		return nil, err
	}
	if g, ok := be.(*cuda.Backend); ok {
		g.SetHalfAttention(m.gpuAttention == "f16")
		if m.kv == kvcache.F16 {
			fmt.Fprintln(backendLog, "backend: --kv-type f16 rounds the host's copy of the KV cache; the GPU's own stays float32")
		}
	} else if m.gpuAttention == "f16" {
		fmt.Fprintln(backendLog, "backend: --gpu-attention f16 has no effect on the CPU")
	}
	return be, nil
}

// parseOpen parses a command's flags, checks the model flags (and a prompt when prompt is set)
// and opens the model.
func (m *modelFlags) parseOpen(fs *flag.FlagSet, args []string, prompt bool) (*infer.Loaded, error) {
	if err := parse(fs, args); err != nil {
		return nil, err
	}
	if err := m.check(fs, prompt); err != nil {
		return nil, err
	}
	return m.open()
}

func (m *modelFlags) open() (*infer.Loaded, error) {
	be, err := m.newBackend()
	if err != nil {
		return nil, err
	}
	return infer.Open(m.model, be)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// f32 is a float32 that marshals with the shortest round-trip representation, NaN/Inf as null.
type f32 float32

func (f f32) MarshalJSON() ([]byte, error) {
	x := float64(f)
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return []byte("null"), nil
	}
	return []byte(fmt.Sprint(float32(f))), nil
}

func f32s(x []float32) []f32 {
	out := make([]f32, len(x))
	for i, v := range x {
		out[i] = f32(v)
	}
	return out
}
