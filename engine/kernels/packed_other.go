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

func pairKernel(t quant.Type) bool { return false }
func vecDotRowsPacked2SIMD(p *Packed, dst0, dst1 []float32, g0, g1 int, act0, act1 []byte, as0, as1 []uint32) {
}
