//go:build !(goexperiment.simd && (amd64 || wasm))

package kernels

import "github.com/attnscope/attnscope/engine/quant"

// Without vector kernels for them nothing is packed; the packed products run their plain-Go
// versions.

const packInterleave = false

func packedIntOn() bool   { return false }
func packedFloatOn() bool { return false }

func vecDotRowsPackedSIMD(p *Packed, dst []float32, g0, g1 int, act []byte, as []uint32) {}
func matVecQLanesPackedSIMD(p *Packed, dst []float32, g0, g1 int, x []float32)           {}
func dequantPackedBlock(t quant.Type, y []float32, q []byte, d uint32) bool              { return false }
