package cpu

import (
	"reflect"
	"runtime"
	"testing"
)

// TestSlab checks what the weights' storage promises: each slice zero, as long as asked,
// capped at its length (an append cannot reach a neighbour), apart from every other, starting
// on a cache line, and a fresh chunk on a large-page boundary.
func TestSlab(t *testing.T) {
	for _, on := range []bool{false, true} {
		saved := hugePagesOn
		hugePagesOn = on && canAdviseHuge
		var s slab[float32]
		type span struct{ lo, hi uintptr }
		var spans []span
		var keep [][]float32 // reachable, so that no slice's memory is collected and reused
		for i, n := range []int{10, slabMin / 4, 3*slabMin/4 + 5, slabChunk / 4 / 3, slabChunk/4 + 100, slabMin / 4, 1} {
			b := s.make(n)
			if len(b) != n || cap(b) != n {
				t.Fatalf("huge pages %v, slice %d: len %d cap %d for %d", on, i, len(b), cap(b), n)
			}
			for j, v := range b {
				if v != 0 {
					t.Fatalf("huge pages %v, slice %d: element %d is %v", on, i, j, v)
				}
			}
			for j := range b {
				b[j] = float32(i + 1)
			}
			p := reflect.ValueOf(b).Pointer()
			if n*4 >= slabMin && p%slabAlign != 0 {
				t.Errorf("huge pages %v, slice %d at %#x: not on a cache line", on, i, p)
			}
			spans = append(spans, span{p, p + uintptr(4*n)})
			keep = append(keep, b)
		}
		for i, a := range spans {
			for j, b := range spans[:i] {
				if a.lo < b.hi && b.lo < a.hi {
					t.Errorf("huge pages %v: slices %d and %d overlap", on, j, i)
				}
			}
		}
		runtime.KeepAlive(keep)
		if hugePagesOn {
			// The slice that did not fit the chunk began a fresh one.
			if p := spans[4].lo; p%hugePage != 0 {
				t.Errorf("a fresh chunk begins at %#x, off a large page", p)
			}
		}
		hugePagesOn = saved
	}
}
