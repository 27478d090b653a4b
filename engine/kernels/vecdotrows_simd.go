//go:build goexperiment.simd && amd64

package kernels

import "simd/archsimd"

// Helpers of the packed integer products (packed_simd.go).

// sum8 gathers the 32-bit sums of eight vectors: lane k of the result is the sum of the
// lanes of v[k] (exact integer additions, so any order gives the same sums). Interleaves and
// adds (one micro-operation each) instead of horizontal adds (several each).
func sum8(v0, v1, v2, v3, v4, v5, v6, v7 archsimd.Int32x8) archsimd.Int32x8 {
	u0 := sum4(pairSums(v0, v1), pairSums(v2, v3))
	u1 := sum4(pairSums(v4, v5), pairSums(v6, v7))
	return u0.ConcatPermute128Scalars(0, 2, u1).Add(u0.ConcatPermute128Scalars(1, 3, u1))
}

// pairSums returns, per 128-bit half, a0+a2, b0+b2, a1+a3, b1+b3 (lanes of that half).
func pairSums(a, b archsimd.Int32x8) archsimd.Int32x8 {
	return a.InterleaveLoGrouped(b).Add(a.InterleaveHiGrouped(b))
}

// sum4 takes pairSums(v0, v1) and pairSums(v2, v3) and returns, per 128-bit half, the sums of
// that half's four lanes of v0, v1, v2 and v3.
func sum4(a, b archsimd.Int32x8) archsimd.Int32x8 {
	x, y := a.AsInt64x4(), b.AsInt64x4()
	return x.InterleaveLoGrouped(y).AsInt32x8().Add(x.InterleaveHiGrouped(y).AsInt32x8())
}

// dotQ8x32 returns the products of the signed bytes x and y summed in pairs into eight 32-bit
// sums: |x| (unsigned) times y with x's sign, added in pairs to 16 bits (at most 2·128·127,
// no saturation: activations lie in −127…127), then in pairs to 32 bits.
func dotQ8x32(x, y archsimd.Int8x32, ones archsimd.Int16x16) archsimd.Int32x8 {
	return x.Abs().AsUint8x32().DotProductPairsSaturated(y.MulSign(x)).DotProductPairs(ones)
}
