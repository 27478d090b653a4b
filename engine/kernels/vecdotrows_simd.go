//go:build goexperiment.simd && amd64

package kernels

import "simd/archsimd"

// Helpers of the packed integer products (packed_simd.go).

// sum8 gathers the 32-bit sums of eight vectors: lane k of the result is the sum of the
// lanes of v[k] (exact integer additions).
func sum8(v0, v1, v2, v3, v4, v5, v6, v7 archsimd.Int32x8) archsimd.Int32x8 {
	u0 := v0.ConcatAddPairsGrouped(v1).ConcatAddPairsGrouped(v2.ConcatAddPairsGrouped(v3))
	u1 := v4.ConcatAddPairsGrouped(v5).ConcatAddPairsGrouped(v6.ConcatAddPairsGrouped(v7))
	return u0.ConcatPermute128Scalars(0, 2, u1).Add(u0.ConcatPermute128Scalars(1, 3, u1))
}

// dotQ8x32 returns the products of the signed bytes x and y summed in pairs into eight 32-bit
// sums: |x| (unsigned) times y with x's sign, added in pairs to 16 bits (at most 2·128·127,
// no saturation: activations lie in −127…127), then in pairs to 32 bits.
func dotQ8x32(x, y archsimd.Int8x32, ones archsimd.Int16x16) archsimd.Int32x8 {
	return x.Abs().AsUint8x32().DotProductPairsSaturated(y.MulSign(x)).DotProductPairs(ones)
}
