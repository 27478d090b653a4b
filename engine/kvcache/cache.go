package kvcache

import (
	"fmt"
	"math"

	"github.com/attnscope/attnscope/engine/quant"
)

// Type is how a cache stores each key and value.
type Type uint8

const (
	// F32 stores float32 values: what was computed, to the bit.
	F32 Type = iota
	// F16 stores IEEE binary16 values (rounded to nearest even, as ggml's F16 cache rounds them):
	// half the memory, and half the bytes a decoded token's attention reads.
	F16
)

// String is the type's name as the command line spells it.
func (t Type) String() string {
	if t == F16 {
		return "f16"
	}
	return "f32"
}

// ParseType reads "f32" or "f16" ("" is F32).
func ParseType(s string) (Type, error) {
	switch s {
	case "", "f32":
		return F32, nil
	case "f16":
		return F16, nil
	}
	return F32, fmt.Errorf("kvcache: unknown cache type %q (want f32 or f16)", s)
}

// Size is the bytes one stored value takes.
func (t Type) Size() int {
	if t == F16 {
		return 2
	}
	return 4
}

// growChunk is the number of positions storage grows by at least.
const growChunk = 64

// Cache holds K and V for nLayer layers, each position a vector of kvDim = nKVHead·headDim
// values, float32 or binary16 (Type). Each layer's storage holds room for some positions (its allocation, at most
// the capacity) and is laid out head by head: the key of position p for KV head h starts at
// h·HeadStride(l) + p·headDim of K(l), so that one head's keys (and values) lie in one run of
// memory, read front to back by a decoded token's attention instead of a head-sized piece every
// kvDim values.
type Cache struct {
	nLayer, nKVHead, headDim, capacity int
	typ                                Type
	n                                  []int // positions stored per layer
	k, v                               [][]float32
	k16, v16                           [][]uint16
	wide                               []bool // per layer: an F16 value is infinite or NaN
}

// New returns an empty float32 cache. capacity is the most positions it will hold.
func New(nLayer, nKVHead, headDim, capacity int) *Cache {
	return NewOf(F32, nLayer, nKVHead, headDim, capacity)
}

// NewOf returns an empty cache storing values of type typ.
func NewOf(typ Type, nLayer, nKVHead, headDim, capacity int) *Cache {
	if nLayer <= 0 || nKVHead <= 0 || headDim <= 0 || capacity <= 0 || typ > F16 {
		panic(fmt.Sprintf("kvcache: bad shape %d layers × %d heads × %d dims, capacity %d, type %d", nLayer, nKVHead, headDim, capacity, typ))
	}
	c := &Cache{nLayer: nLayer, nKVHead: nKVHead, headDim: headDim, capacity: capacity, typ: typ,
		n: make([]int, nLayer)}
	if typ == F16 {
		c.k16, c.v16, c.wide = make([][]uint16, nLayer), make([][]uint16, nLayer), make([]bool, nLayer)
	} else {
		c.k, c.v = make([][]float32, nLayer), make([][]float32, nLayer)
	}
	return c
}

// Type is how the cache stores values.
func (c *Cache) Type() Type { return c.typ }

// KVDim is nKVHead·headDim, the length of one position's key (or value).
func (c *Cache) KVDim() int { return c.nKVHead * c.headDim }

// Capacity is the most positions the cache holds.
func (c *Cache) Capacity() int { return c.capacity }

// Len is the number of positions held by layer 0 (all layers agree between evaluations).
func (c *Cache) Len() int { return c.n[0] }

// LayerLen is the number of positions held by layer l.
func (c *Cache) LayerLen(l int) int { return c.n[l] }

// Append stores n positions of keys and values (each (n, kvDim)) at the end of layer l.
func (c *Cache) Append(l int, k, v []float32) error {
	d := c.KVDim()
	if len(k) != len(v) || len(k)%d != 0 {
		panic("kvcache: Append: key/value lengths do not match the head layout")
	}
	n := len(k) / d
	if c.n[l]+n > c.capacity {
		return fmt.Errorf("kvcache: %d positions would exceed the capacity of %d", c.n[l]+n, c.capacity)
	}
	if c.n[l]+n > c.room(l) {
		grow := c.n[l] + n
		if g := 2 * c.n[l]; g > grow {
			grow = g
		}
		if grow < growChunk {
			grow = growChunk
		}
		if grow > c.capacity {
			grow = c.capacity
		}
		c.resize(l, grow)
	}
	hd, stride := c.headDim, c.HeadStride(l)
	for i := 0; i < n; i++ {
		src := i * d
		dst := (c.n[l] + i) * hd
		for h := 0; h < c.nKVHead; h++ {
			if c.typ == F16 {
				c.wide[l] = narrow(c.k16[l][dst:dst+hd], k[src:src+hd]) || c.wide[l]
				c.wide[l] = narrow(c.v16[l][dst:dst+hd], v[src:src+hd]) || c.wide[l]
			} else {
				copy(c.k[l][dst:dst+hd], k[src:src+hd])
				copy(c.v[l][dst:dst+hd], v[src:src+hd])
			}
			src += hd
			dst += stride
		}
	}
	c.n[l] += n
	return nil
}

// narrow rounds src to binary16 into dst, as quant.F32ToF16 does, and reports whether a value
// became infinite or NaN (from 65520 up in magnitude, or NaN). A magnitude in the range of
// normal halves that does not round up to infinity (most keys and values) rounds in a few
// integer operations: the significand rounded to nearest even at bit 13, the exponent rebiased
// from 127 to 15 (a carry from the significand moves it up, as it should).
func narrow(dst []uint16, src []float32) bool {
	const lo, hi = 0x38800000, 0x477ff000 // 2⁻¹⁴, and 65520 (which rounds to infinity)
	wide := false
	for i, x := range src {
		b := math.Float32bits(x)
		a := b & 0x7fffffff
		if a-lo < hi-lo {
			r := a + 0xfff + (a>>13)&1
			dst[i] = uint16(b>>16&0x8000 | (r>>13 - 112<<10))
			continue
		}
		h := quant.F32ToF16(x)
		dst[i] = h
		wide = wide || h&0x7c00 == 0x7c00
	}
	return wide
}

// room is the number of positions layer l's storage holds.
func (c *Cache) room(l int) int {
	if c.typ == F16 {
		return len(c.k16[l]) / c.KVDim()
	}
	return len(c.k[l]) / c.KVDim()
}

// HeadStride is the distance in K(l) (and V(l)) from one KV head's values to the next one's:
// the positions layer l's storage holds times headDim.
func (c *Cache) HeadStride(l int) int { return c.room(l) * c.headDim }

// resize moves layer l to new storage for size positions, keeping the held ones.
func (c *Cache) resize(l, size int) {
	hd, old, stride := c.headDim, c.HeadStride(l), size*c.headDim
	held := c.n[l] * hd
	if c.typ == F16 {
		k, v := make([]uint16, size*c.KVDim()), make([]uint16, size*c.KVDim())
		for h := 0; h < c.nKVHead; h++ {
			copy(k[h*stride:h*stride+held], c.k16[l][h*old:h*old+held])
			copy(v[h*stride:h*stride+held], c.v16[l][h*old:h*old+held])
		}
		c.k16[l], c.v16[l] = k, v
		return
	}
	k, v := make([]float32, size*c.KVDim()), make([]float32, size*c.KVDim())
	for h := 0; h < c.nKVHead; h++ {
		copy(k[h*stride:h*stride+held], c.k[l][h*old:h*old+held])
		copy(v[h*stride:h*stride+held], c.v[l][h*old:h*old+held])
	}
	c.k[l], c.v[l] = k, v
}

// MaxReserveBytes bounds what Reserve allocates at once, all layers' K and V together: far
// beyond any context a machine running this code holds, it turns a corrupt or mistyped size
// into an error instead of an allocation that exhausts memory.
const MaxReserveBytes = 1 << 38

// Reserve makes every layer's storage hold n positions (n ≤ Capacity), allocating each layer's
// K and V once at exactly that size, so that appends up to n positions never grow them: a run
// that knows its length (prompt plus tokens to generate) takes that memory and no more, instead
// of doubling past it. Storage already as large is kept; held positions are kept too.
func (c *Cache) Reserve(n int) error {
	if n < 0 || n > c.capacity {
		return fmt.Errorf("kvcache: cannot reserve %d positions: the cache holds 0 to %d (its context)", n, c.capacity)
	}
	if b := float64(n) * float64(c.BytesPerToken()); b > MaxReserveBytes {
		return fmt.Errorf("kvcache: reserving %d positions would take %.1f GiB of K and V (at most %d GiB at once)", n, b/(1<<30), MaxReserveBytes>>30)
	}
	for l := range c.n {
		if n > c.room(l) {
			c.resize(l, n)
		}
	}
	return nil
}

// K returns layer l's key storage of a float32 cache (nil for F16): the key of position p
// (below LayerLen(l)) for KV head h is K(l)[h·HeadStride(l)+p·headDim:][:headDim]. Past the
// held positions it holds stale or zero values.
func (c *Cache) K(l int) []float32 {
	if c.typ != F32 {
		return nil
	}
	return c.k[l]
}

// V returns layer l's value storage of a float32 cache, laid out like K.
func (c *Cache) V(l int) []float32 {
	if c.typ != F32 {
		return nil
	}
	return c.v[l]
}

// K16 returns layer l's key storage of an F16 cache (nil for F32), binary16 bits laid out like
// K.
func (c *Cache) K16(l int) []uint16 {
	if c.typ != F16 {
		return nil
	}
	return c.k16[l]
}

// V16 returns layer l's value storage of an F16 cache, laid out like K.
func (c *Cache) V16(l int) []uint16 {
	if c.typ != F16 {
		return nil
	}
	return c.v16[l]
}

// Finite reports whether every value layer l of an F16 cache has stored is finite as a
// binary16 (always true for F32): a value of 65520 or more in magnitude rounds to infinity.
// Kernels that decode binary16 without looking for infinities and NaNs may read layers for
// which it holds.
func (c *Cache) Finite(l int) bool { return c.typ != F16 || !c.wide[l] }

// widen decodes binary16 bits src into dst.
func widen(dst []float32, src []uint16) {
	for i, h := range src {
		dst[i] = quant.F16ToF32(h)
	}
}

// Positions copies the keys and values of layer l's positions p0 … p1-1 into k and v, each
// (p1-p0, kvHead, headDim) flattened: the order Append takes them in.
func (c *Cache) Positions(l, p0, p1 int, k, v []float32) {
	d, hd, stride := c.KVDim(), c.headDim, c.HeadStride(l)
	if p0 < 0 || p1 < p0 || p1 > c.n[l] || len(k) < (p1-p0)*d || len(v) < (p1-p0)*d {
		panic(fmt.Sprintf("kvcache: Positions %d…%d of %d held, into %d and %d values", p0, p1, c.n[l], len(k), len(v)))
	}
	for p := p0; p < p1; p++ {
		dst := (p - p0) * d
		src := p * hd
		for h := 0; h < c.nKVHead; h++ {
			if c.typ == F16 {
				widen(k[dst:dst+hd], c.k16[l][src:src+hd])
				widen(v[dst:dst+hd], c.v16[l][src:src+hd])
			} else {
				copy(k[dst:dst+hd], c.k[l][src:src+hd])
				copy(v[dst:dst+hd], c.v[l][src:src+hd])
			}
			dst += hd
			src += stride
		}
	}
}

// Truncate drops positions from n on, in every layer (for re-evaluating a changed suffix).
func (c *Cache) Truncate(n int) {
	for l := range c.n {
		if n < c.n[l] {
			c.n[l] = n
			if c.typ == F16 && c.wide[l] {
				c.wide[l] = wideIn(c.k16[l], c.v16[l], n, c.headDim, c.HeadStride(l))
			}
		}
	}
}

// wideIn reports whether the first n positions of a head-major F16 layer hold an infinity or
// NaN.
func wideIn(k, v []uint16, n, hd, stride int) bool {
	for at := 0; at < len(k); at += stride {
		for i := at; i < at+n*hd; i++ {
			if k[i]&0x7c00 == 0x7c00 || v[i]&0x7c00 == 0x7c00 {
				return true
			}
		}
	}
	return false
}

// Bytes returns the bytes of K and V held by layer l.
func (c *Cache) Bytes(l int) int64 { return int64(c.n[l]) * int64(c.KVDim()) * int64(c.typ.Size()) * 2 }

// Reserved returns the bytes of storage layer l has allocated.
func (c *Cache) Reserved(l int) int64 {
	return int64(c.room(l)) * int64(c.KVDim()) * int64(c.typ.Size()) * 2
}

// BytesPerToken is the K and V bytes one position takes in all layers together.
func (c *Cache) BytesPerToken() int64 {
	return int64(c.nLayer) * int64(c.KVDim()) * int64(c.typ.Size()) * 2
}
