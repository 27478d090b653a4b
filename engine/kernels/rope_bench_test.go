package kernels_test

import (
	"testing"

	"github.com/attnscope/attnscope/engine/kernels"
)

// BenchmarkRoPE rotates the queries and keys of 64 tokens (12 heads of 48 dimensions in all)
// through six layers: with Apply, which computes the angles and their cosines and sines for every
// head, and with one Table for the batch and Rotate. Bytes are those of the rotated vectors.
func BenchmarkRoPE(b *testing.B) {
	const tokens, heads, hd, layers = 64, 12, 48, 6
	rp := kernels.RoPE{Dims: hd, Base: 10000}
	x := normal(newRand(34), tokens*heads*hd, 1)
	b.Run("Apply", func(b *testing.B) {
		scratch := make([]float32, hd/2)
		b.SetBytes(4 * layers * tokens * heads * hd)
		for b.Loop() {
			for l := 0; l < layers; l++ {
				for i := 0; i < tokens; i++ {
					for h := 0; h < heads; h++ {
						rp.Apply(x[(i*heads+h)*hd:(i*heads+h+1)*hd], 100+i, scratch)
					}
				}
			}
		}
	})
	b.Run("Table+Rotate", func(b *testing.B) {
		tab := make([]float32, tokens*hd)
		b.SetBytes(4 * layers * tokens * heads * hd)
		for b.Loop() {
			rp.Table(tab, 100, tokens)
			for l := 0; l < layers; l++ {
				for i := 0; i < tokens; i++ {
					for h := 0; h < heads; h++ {
						rp.Rotate(x[(i*heads+h)*hd:(i*heads+h+1)*hd], tab[i*hd:(i+1)*hd])
					}
				}
			}
		}
	})
}
