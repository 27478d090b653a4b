package quant_test

import (
	"math/rand/v2"
	"testing"

	"github.com/attnscope/attnscope/engine/quant"
)

// BenchmarkVecDot takes the dot product of one 4096-value row per type with activations
// already encoded as its vec_dot_type (VecDot), beside DotRow of the same row with the F32
// activations; bytes are the encoded row's.
func BenchmarkVecDot(b *testing.B) {
	r := rand.New(rand.NewPCG(31, 32))
	x := gaussian(33, benchN, 1)
	for _, typ := range quant.Supported() {
		row := randomRow(r, typ, benchN)
		act := make([]byte, rowBytes(b, quant.VecDotType(typ), benchN))
		quant.QuantizeActivations(typ, act, x)
		b.Run(typ.String()+"/VecDot", func(b *testing.B) {
			b.SetBytes(int64(len(row)))
			var sink float32
			for b.Loop() {
				sink += quant.VecDot(typ, row, act, benchN)
			}
			_ = sink
			reportValues(b, benchN)
		})
		b.Run(typ.String()+"/DotRow", func(b *testing.B) {
			b.SetBytes(int64(len(row)))
			var sink float32
			for b.Loop() {
				sink += quant.DotRow(typ, row, x)
			}
			_ = sink
			reportValues(b, benchN)
		})
	}
}

// BenchmarkQuantizeActivations encodes one 4096-value activation vector per weight type (once
// per matrix–vector product in ggml); bytes are the input's (4 per value).
func BenchmarkQuantizeActivations(b *testing.B) {
	x := gaussian(34, benchN, 1)
	for _, typ := range quant.Supported() {
		b.Run(typ.String(), func(b *testing.B) {
			act := make([]byte, rowBytes(b, quant.VecDotType(typ), benchN))
			b.SetBytes(4 * benchN)
			for b.Loop() {
				quant.QuantizeActivations(typ, act, x)
			}
			reportValues(b, benchN)
		})
	}
}
