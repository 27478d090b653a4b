package train

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
)

// Float is the element type of a model: float32 to train, float64 to check gradients.
type Float interface{ ~float32 | ~float64 }

// ErrBadConfig marks shapes that cannot be trained or written.
var ErrBadConfig = errors.New("train: bad model shape")

// Config is a model's shape.
type Config struct {
	Arch     string // "gpt2" or "llama"
	Vocab    int
	Dim      int // width of the residual stream
	Layers   int
	Heads    int
	FFN      int     // feed-forward width
	Ctx      int     // most positions (gpt2: rows of position_embd)
	NormEps  float32 // 0: 1e-5
	RopeBase float32 // 0: 10000
}

func (c *Config) eps() float64 {
	if c.NormEps == 0 {
		return 1e-5
	}
	return float64(c.NormEps)
}

func (c *Config) ropeBase() float64 {
	if c.RopeBase == 0 {
		return 10000
	}
	return float64(c.RopeBase)
}

// HeadDim is Dim / Heads.
func (c *Config) HeadDim() int { return c.Dim / c.Heads }

// Validate checks the shape: a known architecture, positive sizes, heads dividing the width
// and, for llama, an even head size (RoPE rotates pairs).
func (c *Config) Validate() error {
	if c.Arch != "gpt2" && c.Arch != "llama" {
		return fmt.Errorf("%w: unknown architecture %q (architectures: gpt2, llama)", ErrBadConfig, c.Arch)
	}
	for _, s := range []struct {
		name string
		v    int
	}{{"vocab", c.Vocab}, {"dim", c.Dim}, {"layers", c.Layers}, {"heads", c.Heads}, {"ffn", c.FFN}, {"ctx", c.Ctx}} {
		if s.v <= 0 || s.v > 1<<20 {
			return fmt.Errorf("%w: %s is %d; it must be between 1 and %d", ErrBadConfig, s.name, s.v, 1<<20)
		}
	}
	if c.Dim%c.Heads != 0 {
		return fmt.Errorf("%w: %d heads do not divide dim %d (dim must be a multiple of heads)", ErrBadConfig, c.Heads, c.Dim)
	}
	if c.Arch == "llama" && c.HeadDim()%2 != 0 {
		return fmt.Errorf("%w: head size %d is odd; RoPE needs an even head size", ErrBadConfig, c.HeadDim())
	}
	return nil
}

// Tensor is one named parameter, (Rows, Cols) row-major; a vector has Rows 1.
type Tensor[T Float] struct {
	Name       string
	Rows, Cols int
	Data       []T
}

// block holds one layer's parameters (views into the flat vector). qkv is (3·Dim, Dim): the
// query, key and value rows in that order; gpt2 adds the biases.
type block[T Float] struct {
	norm1W, norm1B []T
	qkv, qkvB      []T
	wo, woB        []T
	norm2W, norm2B []T
	gate           []T // llama
	up, upB        []T
	down, downB    []T
}

// Params are a model's parameters: Flat holds them all, Tensors and the fields below are views.
type Params[T Float] struct {
	Cfg     Config
	Flat    []T
	Tensors []Tensor[T]
	tok     []T // (Vocab, Dim)
	pos     []T // (Ctx, Dim), gpt2
	blocks  []block[T]
	normW   []T
	normB   []T
	out     []T // (Vocab, Dim)
}

// NewParams lays out zeroed parameters for cfg.
func NewParams[T Float](cfg Config) (*Params[T], error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p := &Params[T]{Cfg: cfg}
	n := p.layout(nil)
	p.Flat = make([]T, n)
	p.Tensors = p.Tensors[:0]
	p.layout(p.Flat)
	return p, nil
}

// layout walks the tensors in a fixed order; with flat nil it only counts.
func (p *Params[T]) layout(flat []T) int {
	c := &p.Cfg
	E, F, V := c.Dim, c.FFN, c.Vocab
	off := 0
	take := func(name string, rows, cols int) []T {
		n := rows * cols
		var s []T
		if flat != nil {
			s = flat[off : off+n : off+n]
			p.Tensors = append(p.Tensors, Tensor[T]{name, rows, cols, s})
		}
		off += n
		return s
	}
	gpt2 := c.Arch == "gpt2"
	p.tok = take("token_embd.weight", V, E)
	if gpt2 {
		p.pos = take("position_embd.weight", c.Ctx, E)
	}
	p.blocks = make([]block[T], c.Layers)
	for l := range p.blocks {
		b := &p.blocks[l]
		pre := fmt.Sprintf("blk.%d.", l)
		b.norm1W = take(pre+"attn_norm.weight", 1, E)
		b.qkv = take(pre+"attn_qkv.weight", 3*E, E)
		b.wo = take(pre+"attn_output.weight", E, E)
		b.norm2W = take(pre+"ffn_norm.weight", 1, E)
		if !gpt2 {
			b.gate = take(pre+"ffn_gate.weight", F, E)
		}
		b.up = take(pre+"ffn_up.weight", F, E)
		b.down = take(pre+"ffn_down.weight", E, F)
		if gpt2 {
			b.norm1B = take(pre+"attn_norm.bias", 1, E)
			b.qkvB = take(pre+"attn_qkv.bias", 1, 3*E)
			b.woB = take(pre+"attn_output.bias", 1, E)
			b.norm2B = take(pre+"ffn_norm.bias", 1, E)
			b.upB = take(pre+"ffn_up.bias", 1, F)
			b.downB = take(pre+"ffn_down.bias", 1, E)
		}
	}
	p.normW = take("output_norm.weight", 1, E)
	if gpt2 {
		p.normB = take("output_norm.bias", 1, E)
	}
	p.out = take("output.weight", V, E)
	return off
}

// Init fills p from seed: matrices N(0, 0.02) (the residual outputs attn_output and ffn_down
// scaled by 1/√(2·Layers)), position embeddings N(0, 0.01), norm weights 1, biases 0.
func (p *Params[T]) Init(seed uint64) {
	r := rand.New(rand.NewPCG(seed, 0x7472_6169_6e))
	resid := 0.02 / math.Sqrt(2*float64(p.Cfg.Layers))
	for _, t := range p.Tensors {
		std := 0.02
		switch {
		case t.Rows == 1:
			v := T(0)
			if isNormWeight(t.Name) {
				v = 1
			}
			for i := range t.Data {
				t.Data[i] = v
			}
			continue
		case t.Name == "position_embd.weight":
			std = 0.01
		case hasSuffix(t.Name, "attn_output.weight"), hasSuffix(t.Name, "ffn_down.weight"):
			std = resid
		}
		for i := range t.Data {
			t.Data[i] = T(r.NormFloat64() * std)
		}
	}
}

func hasSuffix(s, x string) bool { return len(s) >= len(x) && s[len(s)-len(x):] == x }

func isNormWeight(name string) bool {
	return hasSuffix(name, "norm.weight")
}

// Count is the number of parameters.
func (p *Params[T]) Count() int { return len(p.Flat) }

// Convert copies p into a model of element type U with the same layout.
func Convert[U, T Float](p *Params[T]) *Params[U] {
	q, _ := NewParams[U](p.Cfg)
	for i, v := range p.Flat {
		q.Flat[i] = U(v)
	}
	return q
}
