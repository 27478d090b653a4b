package synth

import (
	"errors"
	"fmt"
	"strings"

	"github.com/attnscope/attnscope/engine/presets"
	"github.com/attnscope/attnscope/engine/quant"
)

// Options describe the model to generate.
type Options struct {
	Arch    string // "llama" or "gpt2"
	Name    string // general.name; "" gives "synth-<arch>"
	Dim     int    // embedding width
	Layers  int
	Heads   int
	KVHeads int // key/value heads; 0 means Heads (gpt2 needs exactly Heads)
	FFN     int // feed-forward width
	Vocab   int // tokens in the vocabulary (rows of token_embd and output)
	Ctx     int // context length (and gpt2's position_embd rows)
	Type    quant.Type
	Seed    uint64
	// MaxBytes is the largest file Validate accepts; 0 means DefaultMaxBytes.
	MaxBytes int64
}

// DefaultMaxBytes is the file size above which Validate refuses unless Options.MaxBytes is
// raised: 64 GiB. A model's file size is about the memory it needs to run (parameters × bytes per
// weight), so a larger file is almost always a mistyped shape.
const DefaultMaxBytes int64 = 64 << 30

// Range limits for each size. They keep every product in int64 and match what llama.cpp and
// this engine load (at most 1024 layers, 2^24 positions).
const (
	MaxWidth  = 1 << 18 // Dim and FFN
	MaxLayers = 1024
	MaxVocab  = 1 << 20
	MaxCtx    = 1 << 24
)

// Vocabulary minimums: the special and byte tokens every vocabulary holds.
const (
	MinVocabLlama = 3 + 256 // <unk>, <s>, </s> and the 256 byte tokens
	MinVocabGPT2  = 256 + 1 // the 256 byte symbols and <|endoftext|>
)

// Errors. Validate's errors match ErrBadOptions (errors.Is) for shapes that cannot be generated
// and ErrTooLarge for files over the size limit; their messages say what is wrong.
var (
	ErrBadOptions = errors.New("synth: bad options")
	ErrTooLarge   = errors.New("synth: model too large")
)

// optionError is a refusal: "synth: " and the message, matching its kind.
type optionError struct {
	kind error
	msg  string
}

func (e *optionError) Error() string { return "synth: " + e.msg }
func (e *optionError) Unwrap() error { return e.kind }

// Types are the tensor types Generate writes.
var Types = []quant.Type{quant.F32, quant.F16, quant.Q8_0, quant.Q4_0}

// ParseType reads a type name: f32, f16, q8_0 or q4_0 (any case).
func ParseType(s string) (quant.Type, error) {
	for _, t := range Types {
		if strings.EqualFold(s, t.String()) {
			return t, nil
		}
	}
	return 0, bad("unknown type %q (types: %s)", s, typeNames())
}

func typeNames() string {
	n := make([]string, len(Types))
	for i, t := range Types {
		n[i] = strings.ToLower(t.String())
	}
	return strings.Join(n, ", ")
}

// FromPreset returns Options with the preset's shape and name (type F32, seed 0).
func FromPreset(s presets.Shape) Options {
	return Options{Arch: s.Arch, Name: s.Name, Dim: s.Dim, Layers: s.Layers, Heads: s.Heads,
		KVHeads: s.KVHeads, FFN: s.FFN, Vocab: s.Vocab, Ctx: s.Ctx}
}

// kvHeads is KVHeads with 0 meaning Heads.
func (o *Options) kvHeads() int {
	if o.KVHeads == 0 {
		return o.Heads
	}
	return o.KVHeads
}

func (o *Options) name() string {
	if o.Name != "" {
		return o.Name
	}
	return "synth-" + o.Arch
}

func bad(format string, args ...any) error {
	return &optionError{ErrBadOptions, fmt.Sprintf(format, args...)}
}

// Validate checks the options without generating anything: a known architecture and type,
// sizes in range, heads dividing the width, KV heads dividing the heads, quantized rows a
// multiple of the block size, a vocabulary large enough for its special and byte tokens, and
// the file's size (computed exactly, see Estimate) within MaxBytes.
func (o Options) Validate() error {
	_, err := o.estimate()
	return err
}

// checkShape is Validate without the size limit.
func (o *Options) checkShape() error {
	minVocab := 0
	switch o.Arch {
	case "llama":
		minVocab = MinVocabLlama
	case "gpt2":
		minVocab = MinVocabGPT2
	default:
		return bad("unknown architecture %q (architectures: llama, gpt2)", o.Arch)
	}
	supported := false
	for _, t := range Types {
		supported = supported || t == o.Type
	}
	if !supported {
		return bad("type %s is not one synth writes (types: %s)", o.Type, typeNames())
	}
	for _, s := range []struct {
		name     string
		v, limit int
	}{
		{"dim", o.Dim, MaxWidth}, {"layers", o.Layers, MaxLayers}, {"heads", o.Heads, MaxWidth},
		{"ffn", o.FFN, MaxWidth}, {"vocab", o.Vocab, MaxVocab}, {"ctx", o.Ctx, MaxCtx},
	} {
		if s.v <= 0 {
			return bad("%s is %d; it must be positive", s.name, s.v)
		}
		if s.v > s.limit {
			return bad("%s %d is over the limit of %d", s.name, s.v, s.limit)
		}
	}
	if o.KVHeads < 0 {
		return bad("kv-heads is %d; it must be positive (or 0 for as many as heads)", o.KVHeads)
	}
	if o.MaxBytes < 0 {
		return bad("the size limit %d is negative", o.MaxBytes)
	}
	if o.Dim%o.Heads != 0 {
		return bad("%d heads do not divide dim %d (dim must be a multiple of heads)", o.Heads, o.Dim)
	}
	if kv := o.kvHeads(); kv > o.Heads || o.Heads%kv != 0 {
		return bad("%d KV heads do not divide %d heads (heads must be a multiple of kv-heads)", kv, o.Heads)
	}
	if o.Arch == "gpt2" && o.kvHeads() != o.Heads {
		return bad("gpt2 has one key/value head per query head: kv-heads %d must equal heads %d", o.kvHeads(), o.Heads)
	}
	if bs := o.Type.BlockSize(); bs > 1 {
		for _, r := range []struct {
			what, rows string
			n          int
		}{{"dim", "the rows of every matrix but ffn_down", o.Dim}, {"ffn", "ffn_down's rows", o.FFN}} {
			if r.n%bs != 0 {
				return bad("type %s stores rows in blocks of %d values, but %s %d is not a multiple of %d (%s are %s long)",
					o.Type, bs, r.what, r.n, bs, r.rows, r.what)
			}
		}
	}
	if o.Vocab < minVocab {
		return bad("vocab %d is too small: a %s vocabulary needs at least %d tokens (%s)", o.Vocab, o.Arch, minVocab, minVocabWhy(o.Arch))
	}
	return nil
}

func minVocabWhy(arch string) string {
	if arch == "gpt2" {
		return "256 byte symbols and <|endoftext|>"
	}
	return "<unk>, <s>, </s> and 256 byte tokens"
}

// bytesPerWeight is the average storage of one value of t (e.g. 34/32 for Q8_0).
func bytesPerWeight(t quant.Type) float64 {
	return float64(t.BlockBytes()) / float64(t.BlockSize())
}
