package kernels

import (
	"slices"
	"testing"

	"github.com/attnscope/attnscope/engine/quant"
)

// The vector and the plain arrangement of a tile are the same bytes, sums and scales.
func TestActTileSetSIMDMatchesPlain(t *testing.T) {
	if !TileKernel(quant.Q4_0) || !tileArranged {
		t.Skip("no vector arrangement of tiles in this build")
	}
	const n, nb = 2*TileInputs + 3, 5
	act := make([]byte, n*nb*q8_0Bytes)
	seed := uint32(7)
	for i := range act {
		seed = seed*1664525 + 1013904223
		act[i] = byte(seed >> 24) // any bytes, −128 included
	}
	as := make([]uint32, n*nb)
	ActScales(as, act)
	var vec, plain ActTile
	vec.Set(act, as, n)
	plain.n, plain.nb, plain.act, plain.as = n, nb, act, as
	plain.y = make([]byte, len(vec.y))
	plain.dy = make([]uint32, len(vec.dy))
	plain.off = make([]int32, len(vec.off))
	setTilePlain(&plain, n/TileInputs)
	if !slices.Equal(vec.y, plain.y) || !slices.Equal(vec.dy, plain.dy) || !slices.Equal(vec.off, plain.off) {
		t.Fatal("the vector arrangement differs from the plain one")
	}
}
