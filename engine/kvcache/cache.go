package kvcache

import "fmt"

// growChunk is the number of positions storage grows by at least.
const growChunk = 64

// Cache holds K and V for nLayer layers, each position a vector of kvDim = nKVHead·headDim
// float32 values. Shapes: k[layer] is (pos, kvHead, headDim) flattened; v the same.
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
	need := (c.n[l] + n) * d
	if need > cap(c.k[l]) {
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
		c.k[l], c.v[l] = resize(c.k[l], grow*d), resize(c.v[l], grow*d)
	}
	c.k[l] = append(c.k[l], k...)
	c.v[l] = append(c.v[l], v...)
	c.n[l] += n
	return nil
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
	d := c.KVDim()
	for l := range c.k {
		if n*d <= cap(c.k[l]) {
			continue
		}
		c.k[l], c.v[l] = resize(c.k[l], n*d), resize(c.v[l], n*d)
	}
	return nil
}

// resize returns x's values in new storage of capacity size.
func resize(x []float32, size int) []float32 {
	out := make([]float32, len(x), size)
	copy(out, x)
	return out
}

// K returns the keys of layer l, (pos, kvHead, headDim) flattened, for all stored positions.
func (c *Cache) K(l int) []float32 { return c.k[l] }

// V returns the values of layer l, laid out like K.
func (c *Cache) V(l int) []float32 { return c.v[l] }

// Truncate drops positions from n on, in every layer (for re-evaluating a changed suffix).
func (c *Cache) Truncate(n int) {
	for l := range c.n {
		if n < c.n[l] {
			c.n[l] = n
			c.k[l] = c.k[l][:n*c.KVDim()]
			c.v[l] = c.v[l][:n*c.KVDim()]
		}
	}
}

// Bytes returns the bytes of K and V held by layer l.
func (c *Cache) Bytes(l int) int64 { return int64(c.n[l]) * int64(c.KVDim()) * 4 * 2 }

// Reserved returns the bytes of storage layer l has allocated.
func (c *Cache) Reserved(l int) int64 { return int64(cap(c.k[l])+cap(c.v[l])) * 4 }

// BytesPerToken is the K and V bytes one position takes in all layers together.
func (c *Cache) BytesPerToken() int64 { return int64(c.nLayer) * int64(c.KVDim()) * 4 * 2 }
