package model

import (
	"fmt"

	"github.com/attnscope/attnscope/engine/gguf"
	"github.com/attnscope/attnscope/engine/quant"
)

// Pooling is how an encoder reduces per-token states to one vector (llama.cpp's pooling_type).
type Pooling int

// Pooling types, numbered as llama.cpp numbers them.
const (
	PoolNone Pooling = 0
	PoolMean Pooling = 1
	PoolCLS  Pooling = 2
	PoolLast Pooling = 3
)

func (p Pooling) String() string {
	switch p {
	case PoolNone:
		return "none"
	case PoolMean:
		return "mean"
	case PoolCLS:
		return "cls"
	case PoolLast:
		return "last"
	}
	return fmt.Sprintf("pooling(%d)", int(p))
}

// Config is an architecture's hyperparameters as the GGUF metadata states them.
type Config struct {
	Arch      string
	Name      string
	NLayer    int     // blocks
	NEmbd     int     // width of the residual stream
	NHead     int     // query heads
	NKVHead   int     // key/value heads (< NHead: grouped-query attention; 1: multi-query)
	HeadDim   int     // NEmbd / NHead
	NFF       int     // feed-forward width
	NCtx      int     // context length the model was built for
	NVocab    int     // rows of the token embedding
	NormEps   float32 // epsilon of RMSNorm or LayerNorm
	Causal    bool    // decoder (causal mask) or encoder (bidirectional)
	Pooling   Pooling // encoders: how Embed pools
	RopeDims  int     // rotated dimensions per head (RoPE models)
	RopeBase  float32
	RopeScale float32
	// Positional is "rope", "learned", "sinusoidal", "alibi" or "none".
	Positional string
	FileType   string // general.file_type as ggml names it, or the dominant tensor type
}

// KVBytesPerToken is what one position costs in an F32 KV cache over all layers.
func (c *Config) KVBytesPerToken() int64 {
	return int64(c.NLayer) * int64(c.NKVHead*c.HeadDim) * 4 * 2
}

// meta reads architecture-prefixed keys with clear errors.
type meta struct {
	f    *gguf.File
	arch string
	err  error
}

func (m *meta) key(k string) string { return m.arch + "." + k }

func (m *meta) uint(k string, def int, required bool) int {
	if m.err != nil {
		return def
	}
	v, ok := m.f.Get(m.key(k))
	if !ok {
		if required {
			m.err = fmt.Errorf("%w: metadata key %s is missing", ErrBadModel, m.key(k))
		}
		return def
	}
	u, ok := v.Uint()
	if !ok || u > 1<<31 {
		m.err = fmt.Errorf("%w: metadata %s = %v is not a usable count", ErrBadModel, m.key(k), v.V)
		return def
	}
	return int(u)
}

func (m *meta) float(k string, def float32) float32 {
	if m.err != nil {
		return def
	}
	v, ok := m.f.Get(m.key(k))
	if !ok {
		return def
	}
	x, ok := v.Float()
	if !ok {
		m.err = fmt.Errorf("%w: metadata %s = %v is not a number", ErrBadModel, m.key(k), v.V)
		return def
	}
	return float32(x)
}

func (m *meta) bool(k string, def bool) bool {
	if b, ok := m.f.Bool(m.key(k)); ok {
		return b
	}
	return def
}

// fileTypeNames maps general.file_type (llama_ftype) to a name.
var fileTypeNames = map[uint64]string{
	0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K",
	11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S",
	17: "Q5_K_M", 18: "Q6_K", 32: "BF16",
}

// FileTypeName names the file's quantization from general.file_type, or from its most common
// matrix type when the key is absent.
func FileTypeName(f *gguf.File) string {
	if ft, ok := f.Uint("general.file_type"); ok {
		if n, ok := fileTypeNames[ft]; ok {
			return n
		}
		return fmt.Sprintf("file_type %d", ft)
	}
	count := map[quant.Type]int{}
	best := quant.F32
	for _, t := range f.Tensors {
		if len(t.Dims) >= 2 {
			count[t.Type]++
			if count[t.Type] > count[best] {
				best = t.Type
			}
		}
	}
	return best.String()
}

// ReadConfig reads the common hyperparameters of f's architecture and checks their consistency.
func ReadConfig(f *gguf.File) (*Config, error) {
	arch := f.Architecture()
	if arch == "" {
		return nil, fmt.Errorf("%w: general.architecture is missing", ErrBadModel)
	}
	m := &meta{f: f, arch: arch}
	c := &Config{Arch: arch}
	c.Name, _ = f.String("general.name")
	c.NLayer = m.uint("block_count", 0, true)
	c.NEmbd = m.uint("embedding_length", 0, true)
	c.NHead = m.uint("attention.head_count", 0, true)
	c.NKVHead = m.uint("attention.head_count_kv", c.NHead, false)
	c.NFF = m.uint("feed_forward_length", 0, true)
	c.NCtx = m.uint("context_length", 0, true)
	c.NormEps = m.float("attention.layer_norm_rms_epsilon", 0)
	if c.NormEps == 0 {
		c.NormEps = m.float("attention.layer_norm_epsilon", 1e-5)
	}
	c.RopeBase = m.float("rope.freq_base", 10000)
	c.RopeScale = 1
	if s := m.float("rope.scale_linear", 0); s != 0 {
		c.RopeScale = s
	}
	c.Causal = m.bool("attention.causal", true)
	c.Pooling = Pooling(m.uint("pooling_type", 0, false))
	if m.err != nil {
		return nil, m.err
	}
	switch {
	case c.NLayer < 1 || c.NLayer > 1024:
		return nil, fmt.Errorf("%w: %d layers", ErrBadModel, c.NLayer)
	case c.NEmbd < 1 || c.NHead < 1 || c.NEmbd%c.NHead != 0:
		return nil, fmt.Errorf("%w: embedding width %d is not divisible by %d heads", ErrBadModel, c.NEmbd, c.NHead)
	case c.NKVHead < 1 || c.NHead%c.NKVHead != 0:
		return nil, fmt.Errorf("%w: %d query heads are not a multiple of %d KV heads", ErrBadModel, c.NHead, c.NKVHead)
	case c.NCtx < 1 || c.NCtx > 1<<24:
		return nil, fmt.Errorf("%w: context length %d", ErrBadModel, c.NCtx)
	case c.NFF < 1:
		return nil, fmt.Errorf("%w: feed-forward width %d", ErrBadModel, c.NFF)
	}
	c.HeadDim = c.NEmbd / c.NHead
	c.RopeDims = m.uint("rope.dimension_count", c.HeadDim, false)
	if m.err != nil {
		return nil, m.err
	}
	c.FileType = FileTypeName(f)
	return c, nil
}
