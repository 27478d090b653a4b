package train

import (
	"fmt"
	"strings"

	"github.com/attnscope/attnscope/engine/gguf"
	"github.com/attnscope/attnscope/engine/quant"
)

// Load reads the parameters of a model written by Save (any of its types, dequantized) into p,
// whose shape must match the file's tensors, so that training can continue from it. The one
// exception is gpt2's position_embd: a file with fewer positions fills the first rows and leaves
// the others as they are (training then continues on a longer context).
func (p *Params[T]) Load(path string) error {
	f, err := gguf.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if a := f.Architecture(); a != p.Cfg.Arch {
		return fmt.Errorf("train: %s: architecture %q, not %q", path, a, p.Cfg.Arch)
	}
	read := func(name string, dst []T) error {
		t, ok := f.Tensor(name)
		if !ok {
			return fmt.Errorf("train: %s: tensor %s is missing", path, name)
		}
		if name == "position_embd.weight" && len(t.Dims) == 2 && t.Dims[0] == uint64(p.Cfg.Dim) && t.Elements() < uint64(len(dst)) {
			dst = dst[:t.Elements()]
		}
		if t.Elements() != uint64(len(dst)) {
			return fmt.Errorf("train: %s: tensor %s has %d values; this shape needs %d", path, name, t.Elements(), len(dst))
		}
		raw, err := f.TensorData(t)
		if err != nil {
			return err
		}
		vals := make([]float32, len(dst))
		if err := quant.Dequantize(t.Type, vals, raw); err != nil {
			return fmt.Errorf("train: %s: tensor %s: %w", path, name, err)
		}
		for i, v := range vals {
			dst[i] = T(v)
		}
		return nil
	}
	E := p.Cfg.Dim
	for _, tn := range p.Tensors {
		if p.Cfg.Arch == "llama" && strings.HasSuffix(tn.Name, "attn_qkv.weight") {
			pre := strings.TrimSuffix(tn.Name, "attn_qkv.weight")
			for i, part := range []string{"attn_q", "attn_k", "attn_v"} {
				if err := read(pre+part+".weight", tn.Data[i*E*E:(i+1)*E*E]); err != nil {
					return err
				}
			}
			continue
		}
		if err := read(tn.Name, tn.Data); err != nil {
			return err
		}
	}
	return nil
}
