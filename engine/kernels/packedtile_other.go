//go:build !(goexperiment.simd && amd64)

package kernels

import "github.com/attnscope/attnscope/engine/quant"

// Tiles have a vector kernel on amd64 only; elsewhere VecDotRowsPackedTile takes its inputs one
// at a time.

func tileType(t quant.Type) bool { return false }

func vecDotRowsPackedTileSIMD(dst []float32, stride int, p *Packed, r0, r1 int, t *ActTile, g int) {}

func setTileSIMD(t *ActTile, groups int) {}
