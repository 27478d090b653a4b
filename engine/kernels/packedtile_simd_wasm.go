//go:build goexperiment.simd

package kernels

import "github.com/attnscope/attnscope/engine/quant"

// In WebAssembly the packed products' lanes are rows already (see packed_simd_wasm.go); what a
// prompt's many inputs save is the spreading of each input's activations: the tile kernel takes
// its sixteen inputs one at a time over all its rows with blocks outside (as
// vecDotRowsPackedTile does), so each block of each input is spread once for the rows' groups,
// not once per group: Q8_0 products of 64 inputs 1.0-1.3x VecDotRowsPacked's in Node (best of
// three). Decoding (one input) keeps vecDotRowsPackedQ8_0's order, which reads the matrix as
// one stream. Q4_0 runs blocks outside always, so a tile adds nothing for it.

func tileType(t quant.Type) bool { return t == quant.Q8_0 }

// The kernel reads the inputs as they are; nothing is arranged.
const tileArranged = false

func setTileSIMD(t *ActTile, groups int) {}

// vecDotRowsPackedTileSIMD computes VecDotRowsPackedTile (arguments checked).
func vecDotRowsPackedTileSIMD(dst []float32, stride int, p *Packed, r0, r1 int, t *ActTile, g int) {
	ab := t.nb * q8_0Bytes
	g0, g1 := r0/PackRows, (r1+PackRows-1)/PackRows
	full := (r1 - r0) / PackRows * PackRows // rows of whole groups
	var last [PackRows]float32
	for i := g * TileInputs; i < (g+1)*TileInputs; i++ {
		act, as := t.act[i*ab:(i+1)*ab], t.as[i*t.nb:(i+1)*t.nb]
		out := dst[i*stride+r0 : i*stride+r1]
		for k := g0; k < g1; k += tileGroups {
			ke := min(k+tileGroups, g1)
			o := (k - g0) * PackRows
			if o+(ke-k)*PackRows <= full {
				vecDotRowsPackedTile(p, out[o:], k, ke, act, as)
				continue
			}
			// The last group is partial: its rows go through last.
			if ke-1 > k {
				vecDotRowsPackedTile(p, out[o:], k, ke-1, act, as)
			}
			vecDotRowsPackedTile(p, last[:], ke-1, ke, act, as)
			copy(out[full:], last[:])
		}
	}
}
