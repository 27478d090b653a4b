// Package presets names model shapes used by the synthetic-model generator, the memory planner
// and the benchmarks: the two benchmark sizes of llama2.c's TinyStories family and the shapes of a
// few widely used open models (shapes only; no weights).
//
// Imports: the standard library only.
package presets

import (
	"fmt"
	"sort"
	"strings"
)

// Shape is a decoder's hyperparameters.
type Shape struct {
	Name    string
	Arch    string // "llama" or "gpt2"
	Dim     int    // embedding width
	Layers  int
	Heads   int
	KVHeads int
	FFN     int // feed-forward width
	Vocab   int
	Ctx     int // context length
	About   string
}

// HeadDim is Dim / Heads.
func (s Shape) HeadDim() int { return s.Dim / s.Heads }

// Params is the number of weights: embeddings, attention, feed-forward (SwiGLU for llama, two
// matrices with biases for gpt2), norms and an untied output matrix.
func (s Shape) Params() int64 {
	d, f, l, v := int64(s.Dim), int64(s.FFN), int64(s.Layers), int64(s.Vocab)
	kv := int64(s.KVHeads * s.HeadDim())
	attn := d*d + 2*d*kv + d*d
	switch s.Arch {
	case "gpt2":
		// fused QKV with bias, output with bias, up/down with biases, two LayerNorms with biases
		block := attn + 3*d + d + 2*d*f + f + d + 4*d
		return v*d + int64(s.Ctx)*d + l*block + 2*d + v*d
	default:
		block := attn + 3*d*f + 2*d
		return v*d + l*block + d + v*d
	}
}

var all = map[string]Shape{
	"s15m": {Name: "s15m", Arch: "llama", Dim: 288, Layers: 6, Heads: 6, KVHeads: 6, FFN: 768, Vocab: 32000, Ctx: 256,
		About: "the shape of llama2.c's stories15M"},
	"s110m": {Name: "s110m", Arch: "llama", Dim: 768, Layers: 12, Heads: 12, KVHeads: 12, FFN: 2048, Vocab: 32000, Ctx: 1024,
		About: "the shape of llama2.c's stories110M"},
	"tinyllama-1.1b": {Name: "tinyllama-1.1b", Arch: "llama", Dim: 2048, Layers: 22, Heads: 32, KVHeads: 4, FFN: 5632, Vocab: 32000, Ctx: 2048,
		About: "the shape of TinyLlama 1.1B (grouped-query attention, 4 KV heads)"},
	"llama2-7b": {Name: "llama2-7b", Arch: "llama", Dim: 4096, Layers: 32, Heads: 32, KVHeads: 32, FFN: 11008, Vocab: 32000, Ctx: 4096,
		About: "the shape of Llama 2 7B (multi-head attention)"},
	"llama3-8b": {Name: "llama3-8b", Arch: "llama", Dim: 4096, Layers: 32, Heads: 32, KVHeads: 8, FFN: 14336, Vocab: 128256, Ctx: 8192,
		About: "the shape of Llama 3 8B (grouped-query attention, 8 KV heads)"},
	"gpt2-124m": {Name: "gpt2-124m", Arch: "gpt2", Dim: 768, Layers: 12, Heads: 12, KVHeads: 12, FFN: 3072, Vocab: 50257, Ctx: 1024,
		About: "the shape of GPT-2 small"},
}

// Names lists the presets in alphabetical order.
func Names() []string {
	var n []string
	for k := range all {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// Get returns the named preset.
func Get(name string) (Shape, error) {
	s, ok := all[name]
	if !ok {
		return Shape{}, fmt.Errorf("unknown preset %q (presets: %s)", name, strings.Join(Names(), ", "))
	}
	return s, nil
}
