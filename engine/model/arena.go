package model

import "sync"

// Arena hands out zeroed float32 buffers for one evaluation from a block it keeps between
// evaluations, so that decoding token after token allocates nothing once the block has grown
// to the largest evaluation seen. Take an arena with GetArena, hand it back with PutArena when
// no buffer taken from it is referenced any more.
type Arena struct {
	buf []float32
	off int
}

var arenas = sync.Pool{New: func() any { return new(Arena) }}

// GetArena returns an arena with nothing taken.
func GetArena() *Arena {
	a := arenas.Get().(*Arena)
	if a.off > len(a.buf) {
		// The last evaluation needed more than the block: grow it to that size.
		a.buf = make([]float32, a.off)
	}
	a.off = 0
	return a
}

// PutArena returns a to the pool; its buffers must not be used afterwards.
func PutArena(a *Arena) { arenas.Put(a) }

// Floats returns n zeroed values (n ≥ 0) that stay valid until the arena is put back.
func (a *Arena) Floats(n int) []float32 {
	if a.off+n > len(a.buf) {
		// Out of room: this evaluation allocates, and the block grows for the next one.
		a.off += n
		return make([]float32, n)
	}
	s := a.buf[a.off : a.off+n : a.off+n]
	a.off += n
	clear(s)
	return s
}

// Output returns n values for an output of b: prev itself (cleared) when its capacity holds n,
// so that a caller evaluating with the same Batch again reuses its output buffers, else a new
// slice. Outputs outlive the evaluation and never come from an arena.
func Output(prev []float32, n int) []float32 {
	if cap(prev) >= n {
		prev = prev[:n]
		clear(prev)
		return prev
	}
	return make([]float32, n)
}
