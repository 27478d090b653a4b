package kvcache

import (
	"slices"
	"strings"
	"testing"
)

// positions returns n positions of kvDim values, each value encoding (tag, position, index) so
// that misplaced data is recognizable.
func positions(tag, first, n, kvDim int) []float32 {
	x := make([]float32, n*kvDim)
	for p := 0; p < n; p++ {
		for i := 0; i < kvDim; i++ {
			x[p*kvDim+i] = float32(tag*1000000 + (first+p)*1000 + i)
		}
	}
	return x
}

func mustAppend(t *testing.T, c *Cache, l int, k, v []float32) {
	t.Helper()
	if err := c.Append(l, k, v); err != nil {
		t.Fatal(err)
	}
}

func TestShape(t *testing.T) {
	c := New(3, 2, 8, 100)
	if c.KVDim() != 16 || c.Capacity() != 100 || c.Len() != 0 {
		t.Errorf("KVDim %d Capacity %d Len %d, want 16, 100, 0", c.KVDim(), c.Capacity(), c.Len())
	}
	if got, want := c.BytesPerToken(), int64(3*16*4*2); got != want {
		t.Errorf("BytesPerToken = %d, want %d", got, want)
	}
	for l := 0; l < 3; l++ {
		if c.LayerLen(l) != 0 || c.Bytes(l) != 0 || c.Reserved(l) != 0 || len(c.K(l)) != 0 || len(c.V(l)) != 0 {
			t.Errorf("layer %d of an empty cache is not empty", l)
		}
	}
	for _, bad := range [][4]int{{0, 1, 1, 1}, {1, 0, 1, 1}, {1, 1, 0, 1}, {1, 1, 1, 0}, {-1, 2, 2, 2}} {
		func() {
			defer func() {
				r := recover()
				if s, _ := r.(string); !strings.HasPrefix(s, "kvcache: ") {
					t.Errorf("New%v: panic %v, want a kvcache: message", bad, r)
				}
			}()
			New(bad[0], bad[1], bad[2], bad[3])
		}()
	}
}

func TestAppendContents(t *testing.T) {
	const nLayer, nKVHead, headDim = 2, 2, 4
	c := New(nLayer, nKVHead, headDim, 1000)
	d := c.KVDim()
	var wantK, wantV [nLayer][]float32
	pos := [nLayer]int{}
	// Uneven batches, as a prefill followed by decode steps and a second prompt.
	for _, n := range []int{5, 1, 1, 0, 60, 1, 130, 3} {
		for l := 0; l < nLayer; l++ {
			k, v := positions(2*l+1, pos[l], n, d), positions(2*l+2, pos[l], n, d)
			mustAppend(t, c, l, k, v)
			wantK[l] = append(wantK[l], k...)
			wantV[l] = append(wantV[l], v...)
			pos[l] += n
			if !slices.Equal(heldK(c, l), wantK[l]) || !slices.Equal(heldV(c, l), wantV[l]) {
				t.Fatalf("layer %d after %d positions: K or V differs from what was appended", l, pos[l])
			}
			if c.LayerLen(l) != pos[l] {
				t.Fatalf("layer %d: LayerLen %d, want %d", l, c.LayerLen(l), pos[l])
			}
			if got, want := c.Bytes(l), int64(pos[l]*d*4*2); got != want {
				t.Fatalf("layer %d: Bytes %d, want %d", l, got, want)
			}
		}
		if c.Len() != pos[0] {
			t.Fatalf("Len %d, want %d", c.Len(), pos[0])
		}
	}
	// Layers are independent: appending to one leaves the other alone.
	mustAppend(t, c, 1, positions(9, pos[1], 2, d), positions(9, pos[1], 2, d))
	if c.LayerLen(0) != pos[0] || c.LayerLen(1) != pos[1]+2 || c.Len() != pos[0] {
		t.Errorf("after appending to layer 1 only: lengths %d, %d, Len %d", c.LayerLen(0), c.LayerLen(1), c.Len())
	}
	if !slices.Equal(heldK(c, 0), wantK[0]) {
		t.Error("appending to layer 1 changed layer 0")
	}
}

func TestGrowth(t *testing.T) {
	const nKVHead, headDim, capacity = 2, 8, 1000
	c := New(1, nKVHead, headDim, capacity)
	d := c.KVDim()
	perPos := int64(d * 4 * 2) // K and V bytes of one position
	var reserved []int64       // the distinct sizes storage took
	prev := int64(0)
	for p := 0; p < capacity; p++ {
		mustAppend(t, c, 0, positions(1, p, 1, d), positions(2, p, 1, d))
		got := c.Reserved(0)
		if c.Bytes(0) != int64(p+1)*perPos {
			t.Fatalf("%d positions: Bytes %d, want %d", p+1, c.Bytes(0), int64(p+1)*perPos)
		}
		if got < c.Bytes(0) || got > capacity*perPos {
			t.Fatalf("%d positions: Reserved %d outside [Bytes %d, capacity %d]", p+1, got, c.Bytes(0), capacity*perPos)
		}
		if got < prev {
			t.Fatalf("%d positions: Reserved shrank from %d to %d", p+1, prev, got)
		}
		if got != prev {
			reserved = append(reserved, got)
			// Storage grows by whole chunks (or to the capacity).
			if got%(growChunk*perPos) != 0 && got != capacity*perPos {
				t.Errorf("%d positions: Reserved %d is not a multiple of %d positions", p+1, got, growChunk)
			}
		}
		prev = got
	}
	if reserved[0] != growChunk*perPos {
		t.Errorf("first position reserved %d bytes, want one chunk of %d positions (%d)", reserved[0], growChunk, growChunk*perPos)
	}
	if reserved[len(reserved)-1] != capacity*perPos {
		t.Errorf("full cache reserved %d bytes, want the capacity %d", reserved[len(reserved)-1], capacity*perPos)
	}
	// Growing geometrically, a thousand single appends reallocate only a handful of times.
	if len(reserved) > 6 {
		t.Errorf("storage was resized %d times for %d positions: %v", len(reserved), capacity, reserved)
	}
	t.Logf("reserved sizes (positions): %v", func() (p []int64) {
		for _, r := range reserved {
			p = append(p, r/perPos)
		}
		return p
	}())
}

// A batch larger than the current storage reserves at least the batch, and never more than
// the capacity.
func TestGrowthLargeBatch(t *testing.T) {
	c := New(1, 1, 4, 300)
	d := c.KVDim()
	mustAppend(t, c, 0, positions(1, 0, 200, d), positions(2, 0, 200, d))
	if r := c.Reserved(0); r < c.Bytes(0) || r > 300*int64(d)*8 {
		t.Errorf("Reserved %d after a 200-position batch (Bytes %d)", r, c.Bytes(0))
	}
	mustAppend(t, c, 0, positions(1, 200, 100, d), positions(2, 200, 100, d))
	if r := c.Reserved(0); r != 300*int64(d)*8 {
		t.Errorf("Reserved %d when full, want the capacity %d", r, 300*int64(d)*8)
	}
}

func TestCapacity(t *testing.T) {
	c := New(2, 1, 4, 10)
	d := c.KVDim()
	mustAppend(t, c, 0, positions(1, 0, 8, d), positions(2, 0, 8, d))
	k, v := heldK(c, 0), heldV(c, 0)
	bytes, reserved := c.Bytes(0), c.Reserved(0)
	err := c.Append(0, positions(3, 8, 3, d), positions(4, 8, 3, d))
	if err == nil {
		t.Fatal("appending 3 positions to 8 of capacity 10 succeeded")
	}
	if !strings.Contains(err.Error(), "10") || !strings.HasPrefix(err.Error(), "kvcache: ") {
		t.Errorf("error %q does not name the capacity", err)
	}
	// The failed append left the cache as it was.
	if c.LayerLen(0) != 8 || c.Len() != 8 || c.Bytes(0) != bytes || c.Reserved(0) != reserved ||
		!slices.Equal(heldK(c, 0), k) || !slices.Equal(heldV(c, 0), v) {
		t.Error("a failed append changed the cache")
	}
	// Filling exactly to the capacity works; one more does not.
	mustAppend(t, c, 0, positions(3, 8, 2, d), positions(4, 8, 2, d))
	if c.Len() != 10 {
		t.Errorf("Len %d, want 10", c.Len())
	}
	if err := c.Append(0, positions(5, 10, 1, d), positions(6, 10, 1, d)); err == nil {
		t.Error("appending past a full cache succeeded")
	}
	// Another layer has its own count.
	if err := c.Append(1, positions(5, 0, 11, d), positions(6, 0, 11, d)); err == nil {
		t.Error("appending 11 positions to an empty layer of capacity 10 succeeded")
	}
	if c.LayerLen(1) != 0 || c.Bytes(1) != 0 {
		t.Error("a failed append to layer 1 changed it")
	}
}

func TestTruncate(t *testing.T) {
	c := New(2, 2, 2, 50)
	d := c.KVDim()
	for l := 0; l < 2; l++ {
		mustAppend(t, c, l, positions(1, 0, 20, d), positions(2, 0, 20, d))
	}
	reserved := c.Reserved(0)
	c.Truncate(30) // beyond the length: nothing happens
	if c.Len() != 20 || c.LayerLen(1) != 20 {
		t.Fatalf("Truncate(30) of 20 positions changed the length to %d", c.Len())
	}
	c.Truncate(12)
	for l := 0; l < 2; l++ {
		if c.LayerLen(l) != 12 || c.Bytes(l) != int64(12*d*8) {
			t.Errorf("layer %d after Truncate(12): %d positions, %d bytes", l, c.LayerLen(l), c.Bytes(l))
		}
		if !slices.Equal(heldK(c, l), positions(1, 0, 12, d)) || !slices.Equal(heldV(c, l), positions(2, 0, 12, d)) {
			t.Errorf("layer %d after Truncate(12): the kept positions changed", l)
		}
	}
	if c.Reserved(0) != reserved {
		t.Errorf("Truncate released storage: Reserved %d, was %d", c.Reserved(0), reserved)
	}
	// Re-evaluating a changed suffix: new positions follow the kept ones.
	mustAppend(t, c, 0, positions(7, 12, 5, d), positions(8, 12, 5, d))
	if want := append(positions(1, 0, 12, d), positions(7, 12, 5, d)...); !slices.Equal(heldK(c, 0), want) {
		t.Error("keys appended after Truncate are not where they belong")
	}
	if want := append(positions(2, 0, 12, d), positions(8, 12, 5, d)...); !slices.Equal(heldV(c, 0), want) {
		t.Error("values appended after Truncate are not where they belong")
	}
	c.Truncate(0)
	if c.Len() != 0 || c.LayerLen(1) != 0 || len(heldK(c, 0)) != 0 || c.Bytes(1) != 0 {
		t.Error("Truncate(0) did not empty the cache")
	}
	// The freed positions count against the capacity no more.
	mustAppend(t, c, 0, positions(1, 0, 50, d), positions(2, 0, 50, d))
}

func TestAppendPanics(t *testing.T) {
	c := New(1, 2, 3, 10) // kvDim 6
	for _, lens := range [][2]int{{6, 12}, {5, 5}, {7, 7}, {12, 6}} {
		func() {
			defer func() {
				r := recover()
				if s, _ := r.(string); !strings.HasPrefix(s, "kvcache: Append") {
					t.Errorf("Append with %d keys and %d values: panic %v, want a kvcache: Append message", lens[0], lens[1], r)
				}
			}()
			c.Append(0, make([]float32, lens[0]), make([]float32, lens[1]))
		}()
	}
	if c.Len() != 0 {
		t.Error("a rejected append changed the cache")
	}
}

// heldK and heldV return layer l's held keys and values in Append's order (Positions).
func heldK(c *Cache, l int) []float32 {
	k, v := make([]float32, c.LayerLen(l)*c.KVDim()), make([]float32, c.LayerLen(l)*c.KVDim())
	c.Positions(l, 0, c.LayerLen(l), k, v)
	return k
}

func heldV(c *Cache, l int) []float32 {
	k, v := make([]float32, c.LayerLen(l)*c.KVDim()), make([]float32, c.LayerLen(l)*c.KVDim())
	c.Positions(l, 0, c.LayerLen(l), k, v)
	return v
}

// TestHeadLayout reads every held value where K and V's documented layout puts it, through
// growth and a reservation, and a range of positions through Positions.
func TestHeadLayout(t *testing.T) {
	const nKVHead, headDim = 3, 4
	c := New(2, nKVHead, headDim, 500)
	d := c.KVDim()
	check := func(n int) {
		t.Helper()
		for l := 0; l < 2; l++ {
			stride := c.HeadStride(l)
			if stride*nKVHead != len(c.K(l)) || len(c.K(l)) != len(c.V(l)) || stride < n*headDim {
				t.Fatalf("layer %d: head stride %d for storage of %d values and %d positions", l, stride, len(c.K(l)), n)
			}
			for p := 0; p < n; p++ {
				for h := 0; h < nKVHead; h++ {
					for i := 0; i < headDim; i++ {
						at := h*stride + p*headDim + i
						wantK := float32((1+l)*1000000 + p*1000 + h*headDim + i)
						wantV := float32((-1-l)*1000000 + p*1000 + h*headDim + i)
						if c.K(l)[at] != wantK || c.V(l)[at] != wantV {
							t.Fatalf("layer %d position %d head %d value %d: K %v V %v, want %v and %v", l, p, h, i, c.K(l)[at], c.V(l)[at], wantK, wantV)
						}
					}
				}
			}
		}
	}
	fill(t, c, 70, 9) // grows past one chunk
	check(70)
	if err := c.Reserve(300); err != nil {
		t.Fatal(err)
	}
	check(70)
	fill2 := func(p0, n int) {
		for l := 0; l < 2; l++ {
			mustAppend(t, c, l, positions(1+l, p0, n, d), positions(-1-l, p0, n, d))
		}
	}
	fill2(70, 260) // past the reservation
	check(330)
	k, v := make([]float32, 5*d), make([]float32, 5*d)
	c.Positions(1, 100, 105, k, v)
	if !slices.Equal(k, positions(2, 100, 5, d)) || !slices.Equal(v, positions(-2, 100, 5, d)) {
		t.Error("Positions(1, 100, 105) does not return those positions")
	}
	for _, r := range [][2]int{{-1, 2}, {5, 4}, {0, 331}} {
		func() {
			defer func() {
				if s, _ := recover().(string); !strings.HasPrefix(s, "kvcache: Positions") {
					t.Errorf("Positions%v: panic %q", r, s)
				}
			}()
			c.Positions(0, r[0], r[1], make([]float32, 400*d), make([]float32, 400*d))
		}()
	}
}
