//go:build goexperiment.simd && amd64

package kernels

import (
	"math/bits"
	"simd/archsimd"
)

// maxSIMD returns the largest non-NaN value of x (x[0] not NaN, len(x) ≥ 32): four vectors of
// running maxima, each lane taking a value only when it is greater (never a NaN).
func maxSIMD(x []float32) float32 {
	a0 := archsimd.BroadcastFloat32x8(x[0])
	a1, a2, a3 := a0, a0, a0
	i := 0
	for ; i+32 <= len(x); i += 32 {
		c := (*[32]float32)(x[i : i+32])
		v0 := archsimd.LoadFloat32x8Array((*[8]float32)(c[0:8]))
		v1 := archsimd.LoadFloat32x8Array((*[8]float32)(c[8:16]))
		v2 := archsimd.LoadFloat32x8Array((*[8]float32)(c[16:24]))
		v3 := archsimd.LoadFloat32x8Array((*[8]float32)(c[24:32]))
		a0 = v0.IfElse(v0.Greater(a0), a0)
		a1 = v1.IfElse(v1.Greater(a1), a1)
		a2 = v2.IfElse(v2.Greater(a2), a2)
		a3 = v3.IfElse(v3.Greater(a3), a3)
	}
	var l [32]float32
	a0.StoreArray((*[8]float32)(l[0:8]))
	a1.StoreArray((*[8]float32)(l[8:16]))
	a2.StoreArray((*[8]float32)(l[16:24]))
	a3.StoreArray((*[8]float32)(l[24:32]))
	archsimd.ClearAVXUpperBits()
	return greaterOf(greaterOf(l[0], l[1:]), x[i:])
}

// firstEqualSIMD returns the index of the first of x[:done] equal to m, or −1, and done:
// len(x)&^7.
func firstEqualSIMD(x []float32, m float32) (i, done int) {
	mv := archsimd.BroadcastFloat32x8(m)
	done = len(x) &^ 7
	for i := 0; i < done; i += 8 {
		if b := archsimd.LoadFloat32x8Array((*[8]float32)(x[i : i+8])).Equal(mv).ToBits(); b != 0 {
			archsimd.ClearAVXUpperBits()
			return i + bits.TrailingZeros8(b), done
		}
	}
	archsimd.ClearAVXUpperBits()
	return -1, done
}
