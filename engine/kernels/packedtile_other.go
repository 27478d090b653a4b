//go:build !(goexperiment.simd && (amd64 || wasm))

package kernels

import "github.com/attnscope/attnscope/engine/quant"

// Tiles have vector kernels on amd64 and in WebAssembly only; elsewhere VecDotRowsPackedTile
// takes its inputs one at a time (from the inputs as they are, so nothing is arranged).

const tileArranged = false

func tileType(t quant.Type) bool { return false }

func vecDotRowsPackedTileSIMD(dst []float32, stride int, p *Packed, r0, r1 int, t *ActTile, g int) {}

func setTileSIMD(t *ActTile, groups int) {}
