package main

import (
	"fmt"
	"io"
	"sort"

	"github.com/attnscope/attnscope/engine/gguf"
	"github.com/attnscope/attnscope/engine/model"
	"github.com/attnscope/attnscope/engine/quant"
	"github.com/attnscope/attnscope/engine/tokenizer"
)

type inspectOut struct {
	File         string         `json:"file"`
	Bytes        int64          `json:"bytes"`
	Version      uint32         `json:"gguf_version"`
	Arch         string         `json:"arch"`
	Name         string         `json:"name,omitempty"`
	FileType     string         `json:"file_type"`
	NLayer       int            `json:"n_layer,omitempty"`
	NEmbd        int            `json:"n_embd,omitempty"`
	NHead        int            `json:"n_head,omitempty"`
	NKVHead      int            `json:"n_kv_head,omitempty"`
	HeadDim      int            `json:"head_dim,omitempty"`
	NFF          int            `json:"n_ff,omitempty"`
	NCtx         int            `json:"n_ctx,omitempty"`
	NVocab       int            `json:"n_vocab,omitempty"`
	Positional   string         `json:"positional,omitempty"`
	Causal       *bool          `json:"causal,omitempty"`
	Pooling      string         `json:"pooling,omitempty"`
	Tokenizer    string         `json:"tokenizer,omitempty"`
	Params       uint64         `json:"params"`
	Tensors      int            `json:"tensors"`
	TensorTypes  map[string]int `json:"tensor_types"`
	Supported    bool           `json:"supported"`
	Problem      string         `json:"problem,omitempty"`
	KVBytesToken int64          `json:"kv_bytes_per_token,omitempty"`
	Metadata     []string       `json:"metadata_keys"`
}

func cmdInspect(args []string, stdout io.Writer) error {
	fs := newFlags("inspect")
	var mf modelFlags
	mf.register(fs, false)
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := mf.check(fs, false); err != nil {
		return err
	}
	f, err := gguf.Open(mf.model)
	if err != nil {
		return err
	}
	defer f.Close()
	out := inspectOut{File: mf.model, Bytes: f.Size, Version: f.Version, Arch: f.Architecture(),
		FileType: model.FileTypeName(f), Tensors: len(f.Tensors), TensorTypes: map[string]int{}}
	out.Name, _ = f.String("general.name")
	for _, t := range f.Tensors {
		out.Params += t.Elements()
		out.TensorTypes[t.Type.String()]++
		if !quant.IsSupported(t.Type) && out.Problem == "" {
			out.Problem = fmt.Sprintf("tensor %s: type %s is not supported (supported: %s)", t.Name, t.Type, quant.SupportedNames())
		}
	}
	for _, kv := range f.KVs {
		out.Metadata = append(out.Metadata, kv.Key)
	}
	if tm, ok := f.String("tokenizer.ggml.model"); ok {
		out.Tokenizer = tm
	}
	if cfg, err := model.ReadConfig(f); err == nil {
		out.NLayer, out.NEmbd, out.NHead, out.NKVHead = cfg.NLayer, cfg.NEmbd, cfg.NHead, cfg.NKVHead
		out.HeadDim, out.NFF, out.NCtx = cfg.HeadDim, cfg.NFF, cfg.NCtx
		out.Causal = &cfg.Causal
		out.KVBytesToken = cfg.KVBytesPerToken()
		if !cfg.Causal {
			out.Pooling = cfg.Pooling.String()
		}
	} else if out.Problem == "" {
		out.Problem = err.Error()
	}
	if t, ok := f.Tensor("token_embd.weight"); ok && len(t.Dims) == 2 {
		out.NVocab = int(t.Dims[1])
	} else if toks, ok := f.Strings("tokenizer.ggml.tokens"); ok {
		out.NVocab = len(toks)
	}
	switch out.Arch {
	case "llama":
		out.Positional = "rope"
	case "gpt2", "bert":
		out.Positional = "learned"
	}
	if len(f.Tensors) == 0 && out.Problem == "" {
		out.Problem = "vocabulary only: the file has no weights (tokenize works, run does not)"
	} else if out.Problem == "" {
		if _, err := loadCheck(f); err != nil {
			out.Problem = err.Error()
		}
	}
	out.Supported = out.Problem == ""
	if mf.json {
		return writeJSON(stdout, out)
	}
	fmt.Fprintf(stdout, "%s: GGUF v%d, %s\n", out.File, out.Version, humanBytes(out.Bytes))
	fmt.Fprintf(stdout, "  architecture  %s", out.Arch)
	if out.Name != "" {
		fmt.Fprintf(stdout, " (%s)", out.Name)
	}
	fmt.Fprintf(stdout, "\n  quantization  %s\n", out.FileType)
	if out.NLayer > 0 {
		fmt.Fprintf(stdout, "  layers %d, width %d, heads %d (KV heads %d, head size %d), feed-forward %d\n",
			out.NLayer, out.NEmbd, out.NHead, out.NKVHead, out.HeadDim, out.NFF)
		fmt.Fprintf(stdout, "  context %d, vocabulary %d, positions %s, KV cache %s per token (F32)\n",
			out.NCtx, out.NVocab, out.Positional, humanBytes(out.KVBytesToken))
	}
	if out.Tokenizer != "" {
		fmt.Fprintf(stdout, "  tokenizer     %s\n", out.Tokenizer)
	}
	fmt.Fprintf(stdout, "  parameters    %d in %d tensors:", out.Params, out.Tensors)
	names := make([]string, 0, len(out.TensorTypes))
	for k := range out.TensorTypes {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		fmt.Fprintf(stdout, " %s×%d", k, out.TensorTypes[k])
	}
	fmt.Fprintln(stdout)
	if out.Problem != "" {
		fmt.Fprintf(stdout, "  cannot run: %s\n", out.Problem)
	}
	return nil
}

// loadCheck checks that the architecture is known and the tokenizer section is usable.
func loadCheck(f *gguf.File) (bool, error) {
	found := false
	for _, a := range model.Architectures() {
		found = found || a == f.Architecture()
	}
	if !found {
		return false, fmt.Errorf("%w %q", model.ErrUnsupportedArch, f.Architecture())
	}
	if _, err := tokenizer.FromGGUF(f); err != nil {
		return false, fmt.Errorf("tokenizer: %w", err)
	}
	return true, nil
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
