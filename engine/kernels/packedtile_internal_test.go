package kernels

import (
	"slices"
	"testing"

	"github.com/attnscope/attnscope/engine/quant"
)

// The vector and the plain arrangement of a tile are the same bytes, sums and scales.
func TestActTileSetSIMDMatchesPlain(t *testing.T) {
	if !tileArranged || !TileKernel(quant.Q4_0) {
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

// setTilePlain fills the first groups groups of t from t.act and t.as, element by element: the
// reference for setTileSIMD.
func setTilePlain(t *ActTile, groups int) {
	nb := t.nb
	for g := 0; g < groups; g++ {
		for j := 0; j < TileInputs; j++ {
			i := g*TileInputs + j
			for b := 0; b < nb; b++ {
				gb := g*nb + b
				src := (*[32]byte)(t.act[(i*nb+b)*q8_0Bytes+2:])
				dst := (*[512]byte)(t.y[gb*512:])
				o := j/8*256 + j%8*4
				sum := int32(0)
				for k := 0; k < 8; k++ {
					copy(dst[o+32*k:o+32*k+4], src[4*k:4*k+4])
					sum += int32(int8(src[4*k])) + int32(int8(src[4*k+1])) + int32(int8(src[4*k+2])) + int32(int8(src[4*k+3]))
				}
				t.dy[gb*TileInputs+j] = t.as[i*nb+b]
				t.off[gb*TileInputs+j] = 8 * sum
			}
		}
	}
}
