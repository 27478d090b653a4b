package model

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/attnscope/attnscope/engine/backend"
	"github.com/attnscope/attnscope/engine/gguf"
	"github.com/attnscope/attnscope/engine/kvcache"
)

// Sentinel errors.
var (
	ErrUnsupportedArch = errors.New("unsupported architecture")
	ErrBadModel        = errors.New("invalid model")
	ErrContext         = errors.New("context length exceeded")
)

// AttnSink receives the attention probabilities of one query: layer, query head, the query's
// position and probs over the keys it sees (positions 0..len(probs)-1). probs is only valid
// during the call. Different heads may deliver at once, from different goroutines; one head's
// rows arrive in position order.
type AttnSink func(layer, head, pos int, probs []float32)

// Batch is one evaluation: Tokens at positions Cache.Len() … Cache.Len()+len(Tokens)-1.
type Batch struct {
	Tokens []int32
	Types  []int32 // token types (encoders with token_types); nil means all 0
	Cache  *kvcache.Cache
	// Outputs. Logits are (n, NVocab) when AllLogits, else (1, NVocab) for the last token; nil
	// for models without an LM head. Hidden is (n, NEmbd): the final states (after the output norm).
	AllLogits bool
	Logits    []float32
	Hidden    []float32
	// Attn, if set, receives attention rows: every row, or only those of the query positions in
	// AttnRows when that is not nil.
	Attn     AttnSink
	AttnRows []int // ascending query positions whose rows Attn receives (nil: all)
	// AttnPool, if set, receives every query's probabilities a piece at a time (see AttnPool),
	// without whole rows being kept: what a pooled map is built from.
	AttnPool AttnPool
	// Window and Global restrict what each query sees beyond the model's own rule (causal or
	// all keys): a sliding window of the last Window keys (Longformer) and global tokens that
	// see and are seen by every position (BigBird); see kernels.Mask. Window 0 means none.
	Window int
	Global []int // ascending positions
	// ExactAttention computes every attention row in full with kernels.AttentionRow, in the
	// summation order llama.cpp uses, even when no row is captured. Otherwise rows that need not
	// be captured whole run through the tiled kernels.Flash.
	ExactAttention bool
}

// AttnPool receives the probabilities of the query at position pos over the keys j0 …
// j0+len(probs)-1, for layer and query head; the pieces of one row arrive in key order, rows
// of one head in position order, never two calls for the same head at once. probs is only
// valid during the call.
type AttnPool func(layer, head, pos, j0 int, probs []float32)

// Model is an architecture bound to its weights.
type Model interface {
	Config() *Config
	// Eval evaluates b.Tokens, appending their keys and values to b.Cache, and fills the outputs.
	Eval(b *Batch) error
	// HasLMHead reports whether Eval produces logits.
	HasLMHead() bool
	// Backend is where the weights live.
	Backend() backend.Backend
	// WeightBytes is the storage held for weights.
	WeightBytes() int64
}

// Loader builds a model of one architecture.
type Loader func(f *gguf.File, cfg *Config, be backend.Backend) (Model, error)

var loaders = map[string]Loader{}

// Register makes an architecture loadable. Architecture packages call it from init.
func Register(arch string, l Loader) { loaders[arch] = l }

// Architectures lists the registered architectures.
func Architectures() []string {
	var a []string
	for k := range loaders {
		a = append(a, k)
	}
	sort.Strings(a)
	return a
}

// Load reads f's configuration and weights onto be.
func Load(f *gguf.File, be backend.Backend) (Model, error) {
	arch := f.Architecture()
	l, ok := loaders[arch]
	if !ok {
		if arch == "" {
			return nil, fmt.Errorf("%w: the file has no general.architecture (a vocabulary-only file?)", ErrBadModel)
		}
		return nil, fmt.Errorf("%w %q (supported: %s)", ErrUnsupportedArch, arch, strings.Join(Architectures(), ", "))
	}
	cfg, err := ReadConfig(f)
	if err != nil {
		return nil, err
	}
	return l(f, cfg, be)
}

// CheckBatch validates a batch against the model and the cache's room.
func CheckBatch(cfg *Config, b *Batch) error {
	if len(b.Tokens) == 0 {
		return fmt.Errorf("%w: empty batch", ErrBadModel)
	}
	if b.Cache == nil {
		return fmt.Errorf("model: batch without a KV cache")
	}
	if n := b.Cache.Len() + len(b.Tokens); n > b.Cache.Capacity() {
		return fmt.Errorf("%w: %d tokens do not fit in a context of %d", ErrContext, n, b.Cache.Capacity())
	}
	for _, t := range b.Tokens {
		if t < 0 || int(t) >= cfg.NVocab {
			return fmt.Errorf("model: token id %d is outside the vocabulary (0..%d)", t, cfg.NVocab-1)
		}
	}
	if b.Types != nil && len(b.Types) != len(b.Tokens) {
		return fmt.Errorf("model: %d token types for %d tokens", len(b.Types), len(b.Tokens))
	}
	if b.Window < 0 {
		return fmt.Errorf("model: attention window %d is negative", b.Window)
	}
	for i, g := range b.Global {
		if g < 0 || g >= b.Cache.Capacity() || (i > 0 && g <= b.Global[i-1]) {
			return fmt.Errorf("model: global position %d must lie in the context (0..%d) and follow %d ascending", g, b.Cache.Capacity()-1, prevOr(b.Global, i))
		}
	}
	for i, r := range b.AttnRows {
		if r < 0 || (i > 0 && r <= b.AttnRows[i-1]) {
			return fmt.Errorf("model: captured row %d must be a position after %d (ascending)", r, prevOr(b.AttnRows, i))
		}
	}
	return nil
}

// NewCache returns a float32 KV cache shaped for cfg holding up to nCtx positions (≤ cfg.NCtx; 0 means cfg.NCtx).
func NewCache(cfg *Config, nCtx int) *kvcache.Cache { return NewCacheOf(cfg, nCtx, kvcache.F32) }

// NewCacheOf is NewCache storing values of type typ.
func NewCacheOf(cfg *Config, nCtx int, typ kvcache.Type) *kvcache.Cache {
	if nCtx <= 0 || nCtx > cfg.NCtx {
		nCtx = cfg.NCtx
	}
	return kvcache.NewOf(typ, cfg.NLayer, cfg.NKVHead, cfg.HeadDim, nCtx)
}

// prevOr is x[i-1], or -1 for i = 0.
func prevOr(x []int, i int) int {
	if i == 0 {
		return -1
	}
	return x[i-1]
}
