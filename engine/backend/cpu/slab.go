package cpu

import (
	"os"
	"reflect"
	"sync"
)

// Generating a token reads every weight once, from memory rather than from a cache, so the
// speed of decoding is the speed of streaming the weights. Read through 4 KiB pages, a stream
// misses the TLB every 4 KiB; from 2 MiB pages it runs faster (a 440 MB F32 matrix-vector
// product on a 2-core AMD EPYC: 17.1–17.8 GB/s → 19.4–20.7 GB/s). Go's heap does not ask for
// large pages, so the weights' storage comes from slabs: chunks of at least slabChunk bytes
// whose whole 2 MiB pages the operating system is asked to back with large pages (adviseHuge:
// Linux's transparent huge pages; nothing elsewhere). Weights smaller than slabMin bytes, and
// every weight where the advice is off (hugePagesOn), are made as usual.
//
// A chunk lives as long as any weight cut from it (the garbage collector keeps a whole object
// while a slice of it is reachable), so a chunk outlives a model that shares it with another.

const (
	slabMin   = 64 << 10 // bytes below which weights are made one by one
	slabChunk = 32 << 20 // bytes of a chunk at least
	hugePage  = 2 << 20  // the large page size the advice is for
	slabAlign = 64       // weights start on cache lines
)

// hugePagesOn is whether weights come from slabs: where the platform can advise (Linux) and
// the environment does not say ATTNSCOPE_HUGEPAGES=off.
var hugePagesOn = canAdviseHuge && os.Getenv("ATTNSCOPE_HUGEPAGES") != "off"

type slab[T any] struct {
	mu   sync.Mutex
	free []T // what is left of the current chunk
}

var (
	floatSlab slab[float32]
	byteSlab  slab[byte]
	wordSlab  slab[uint32]
)

// make returns n zero values, from the slab when they are large enough to be worth it.
func (s *slab[T]) make(n int) []T {
	size := int(reflect.TypeFor[T]().Size())
	if !hugePagesOn || n*size < slabMin {
		return make([]T, n)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.free) < n {
		// A fresh chunk, one large page longer than needed, from its first page boundary on.
		c := make([]T, (max(slabChunk, n*size)+hugePage)/size)
		start := 0
		if off := int(reflect.ValueOf(c).Pointer() % hugePage); off != 0 {
			start = (hugePage - off) / size
		}
		c = c[start:]
		adviseHuge(reflect.ValueOf(c).Pointer(), uintptr(len(c)*size)/hugePage*hugePage)
		s.free = c
	}
	out := s.free[:n:n]
	next := min(len(s.free), (n*size+slabAlign-1)/slabAlign*slabAlign/size)
	s.free = s.free[next:]
	return out
}
