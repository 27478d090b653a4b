package kvcache

import (
	"slices"
	"strings"
	"testing"
)

// fill appends total positions to every layer of c in batches of batch, as a chunked prefill
// followed by decode steps does.
func fill(t testing.TB, c *Cache, total, batch int) {
	d := c.KVDim()
	for p := 0; p < total; p += batch {
		n := min(batch, total-p)
		for l := 0; l < c.nLayer; l++ {
			if err := c.Append(l, positions(1+l, p, n, d), positions(-1-l, p, n, d)); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestReserveAllocatesOnce reserves a run's length and checks that appending it allocates
// nothing more, holds exactly what was reserved and stores what the growing cache stores.
func TestReserveAllocatesOnce(t *testing.T) {
	const nLayer, nKVHead, headDim, ctx, total = 3, 2, 4, 16384, 10000
	grown := New(nLayer, nKVHead, headDim, ctx)
	fill(t, grown, total, 512)

	var reserved *Cache
	allocs := testing.AllocsPerRun(1, func() {
		reserved = New(nLayer, nKVHead, headDim, ctx)
		if err := reserved.Reserve(total); err != nil {
			t.Fatal(err)
		}
	})
	// New: the cache, its three per-layer slices; Reserve: K and V of each layer.
	if want := float64(4 + 2*nLayer); allocs != want {
		t.Errorf("New and Reserve made %v allocations, want %v", allocs, want)
	}
	d := reserved.KVDim()
	ks, vs := make([][]float32, 0, 20), make([][]float32, 0, 20)
	for p := 0; p < total; p += 512 {
		n := min(512, total-p)
		ks, vs = append(ks, positions(1, p, n, d)), append(vs, positions(-1, p, n, d))
	}
	for l := 0; l < nLayer; l++ {
		// Appending the whole run allocates nothing: the storage was reserved.
		first := &reserved.K(l)[:1][0]
		if a := testing.AllocsPerRun(1, func() {
			reserved.Truncate(0)
			for i := range ks {
				if err := reserved.Append(l, ks[i], vs[i]); err != nil {
					t.Fatal(err)
				}
			}
		}); a != 0 {
			t.Errorf("layer %d: appending %d reserved positions made %v allocations", l, total, a)
		}
		if &reserved.K(l)[0] != first {
			t.Errorf("layer %d: K moved", l)
		}
		if got, want := reserved.Reserved(l), int64(total*d*4*2); got != want {
			t.Errorf("layer %d: %d bytes reserved, want exactly %d", l, got, want)
		}
	}
	// The same data through a fresh reserved cache matches the growing path, which held more.
	reserved = New(nLayer, nKVHead, headDim, ctx)
	if err := reserved.Reserve(total); err != nil {
		t.Fatal(err)
	}
	fill(t, reserved, total, 512)
	for l := 0; l < nLayer; l++ {
		if !slices.Equal(heldK(reserved, l), heldK(grown, l)) || !slices.Equal(heldV(reserved, l), heldV(grown, l)) {
			t.Errorf("layer %d: reserved and grown caches hold different K or V", l)
		}
		if reserved.Reserved(l) >= grown.Reserved(l) {
			t.Errorf("layer %d: reserved %d bytes, the growing cache %d", l, reserved.Reserved(l), grown.Reserved(l))
		}
	}
}

// TestReserveKeepsContents reserves after positions are held, and past a reservation the cache
// grows as before.
func TestReserveKeepsContents(t *testing.T) {
	c := New(2, 1, 4, 1000)
	fill(t, c, 70, 7)
	before := [][]float32{heldK(c, 0), heldV(c, 1)}
	if err := c.Reserve(300); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(heldK(c, 0), before[0]) || !slices.Equal(heldV(c, 1), before[1]) || c.Len() != 70 {
		t.Fatal("Reserve changed the held positions")
	}
	if got := c.Reserved(0); got != 300*4*4*2 {
		t.Errorf("reserved %d bytes, want %d", got, 300*4*4*2)
	}
	// A smaller reservation keeps the storage.
	if err := c.Reserve(100); err != nil || c.Reserved(1) != 300*4*4*2 {
		t.Errorf("Reserve(100) after 300: %v, %d bytes", err, c.Reserved(1))
	}
	// Past the reservation, appends grow the storage again.
	d := c.KVDim()
	for p := 70; p < 301; p++ {
		for l := 0; l < 2; l++ {
			if err := c.Append(l, positions(1, p, 1, d), positions(2, p, 1, d)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if c.Len() != 301 || c.Reserved(0) <= 300*4*4*2 {
		t.Errorf("after 301 positions: len %d, %d bytes reserved", c.Len(), c.Reserved(0))
	}
	// The whole context may be reserved, no more.
	if err := c.Reserve(1000); err != nil || c.Reserved(0) != 1000*4*4*2 {
		t.Errorf("Reserve(capacity): %v, %d bytes", err, c.Reserved(0))
	}
}

func TestReserveErrors(t *testing.T) {
	c := New(2, 2, 8, 100)
	for _, n := range []int{-1, 101, 1 << 40} {
		err := c.Reserve(n)
		if err == nil || !strings.Contains(err.Error(), "kvcache: cannot reserve") || !strings.Contains(err.Error(), "0 to 100") {
			t.Errorf("Reserve(%d): %v", n, err)
		}
	}
	// A context no machine holds: refused before allocating.
	huge := New(80, 64, 128, 1<<30)
	err := huge.Reserve(1 << 29)
	if err == nil || !strings.Contains(err.Error(), "GiB of K and V") {
		t.Errorf("Reserve of %d positions of %d bytes: %v", 1<<29, huge.BytesPerToken(), err)
	}
	if huge.Reserved(0) != 0 {
		t.Error("a refused reservation allocated")
	}
}
