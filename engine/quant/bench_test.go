package quant_test

import (
	"math/rand/v2"
	"testing"

	"github.com/attnscope/attnscope/engine/quant"
)

// benchN is the row length of the benchmarks: 16 K-quant super-blocks.
const benchN = 4096

// reportValues adds the time per value as a custom metric.
func reportValues(b *testing.B, n int) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/value")
}

// BenchmarkDequantize decodes one 4096-value row per type; bytes are the encoded row's.
func BenchmarkDequantize(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, typ := range quant.Supported() {
		b.Run(typ.String(), func(b *testing.B) {
			src := randomRow(r, typ, benchN)
			dst := make([]float32, benchN)
			b.SetBytes(int64(len(src)))
			for b.Loop() {
				quant.Dequantize(typ, dst, src)
			}
			reportValues(b, benchN)
		})
	}
}

// BenchmarkDotRow takes the dot product of one 4096-value row per type with an F32 vector;
// bytes are the encoded row's.
func BenchmarkDotRow(b *testing.B) {
	r := rand.New(rand.NewPCG(2, 2))
	x := gaussian(3, benchN, 1)
	for _, typ := range quant.Supported() {
		b.Run(typ.String(), func(b *testing.B) {
			row := randomRow(r, typ, benchN)
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

// BenchmarkQuantize encodes one 4096-value row per type; bytes are the input's (4 per value).
func BenchmarkQuantize(b *testing.B) {
	x := gaussian(4, benchN, 1)
	for _, typ := range quant.QuantizeTypes() {
		b.Run(typ.String(), func(b *testing.B) {
			dst := make([]byte, rowBytes(b, typ, benchN))
			b.SetBytes(4 * benchN)
			for b.Loop() {
				quant.Quantize(typ, dst, x)
			}
			reportValues(b, benchN)
		})
	}
}
