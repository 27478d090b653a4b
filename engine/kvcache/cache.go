package kvcache

import "fmt"

// growChunk is the number of positions storage grows by at least.
const growChunk = 64

// Cache holds K and V for nLayer layers, each position a vector of kvDim = nKVHead·headDim
// float32 values. Each layer's storage holds room for some positions (its allocation, at most
// the capacity) and is laid out head by head: the key of position p for KV head h starts at
// h·HeadStride(l) + p·headDim of K(l), so that one head's keys (and values) lie in one run of
// memory, read front to back by a decoded token's attention instead of a head-sized piece every
// kvDim values.
type Cache struct {
	nLayer, nKVHead, headDim, capacity int
	n                                  []int // positions stored per layer
	k, v                               [][]float32
}

// New returns an empty cache. capacity is the most positions it will hold.
func New(nLayer, nKVHead, headDim, capacity int) *Cache {
	if nLayer <= 0 || nKVHead <= 0 || headDim <= 0 || capacity <= 0 {
		panic(fmt.Sprintf("kvcache: bad shape %d layers × %d heads × %d dims, capacity %d", nLayer, nKVHead, headDim, capacity))
	}
	return &Cache{nLayer: nLayer, nKVHead: nKVHead, headDim: headDim, capacity: capacity,
		n: make([]int, nLayer), k: make([][]float32, nLayer), v: make([][]float32, nLayer)}
}

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
			copy(c.k[l][dst:dst+hd], k[src:src+hd])
			copy(c.v[l][dst:dst+hd], v[src:src+hd])
			src += hd
			dst += stride
		}
	}
	c.n[l] += n
	return nil
}

// room is the number of positions layer l's storage holds.
func (c *Cache) room(l int) int { return len(c.k[l]) / c.KVDim() }

// HeadStride is the distance in K(l) (and V(l)) from one KV head's values to the next one's:
// the positions layer l's storage holds times headDim.
func (c *Cache) HeadStride(l int) int { return c.room(l) * c.headDim }

// resize moves layer l to new storage for size positions, keeping the held ones.
func (c *Cache) resize(l, size int) {
	hd, old, stride := c.headDim, c.HeadStride(l), size*c.headDim
	held := c.n[l] * hd
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
	for l := range c.k {
		if n > c.room(l) {
			c.resize(l, n)
		}
	}
	return nil
}

// K returns layer l's key storage: the key of position p (below LayerLen(l)) for KV head h is
// K(l)[h·HeadStride(l)+p·headDim:][:headDim]. Past the held positions it holds stale or zero
// values.
func (c *Cache) K(l int) []float32 { return c.k[l] }

// V returns layer l's value storage, laid out like K.
func (c *Cache) V(l int) []float32 { return c.v[l] }

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
			copy(k[dst:dst+hd], c.k[l][src:src+hd])
			copy(v[dst:dst+hd], c.v[l][src:src+hd])
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
		}
	}
}

// Bytes returns the bytes of K and V held by layer l.
func (c *Cache) Bytes(l int) int64 { return int64(c.n[l]) * int64(c.KVDim()) * 4 * 2 }

// Reserved returns the bytes of storage layer l has allocated.
func (c *Cache) Reserved(l int) int64 { return int64(len(c.k[l])+len(c.v[l])) * 4 }

// BytesPerToken is the K and V bytes one position takes in all layers together.
func (c *Cache) BytesPerToken() int64 { return int64(c.nLayer) * int64(c.KVDim()) * 4 * 2 }
