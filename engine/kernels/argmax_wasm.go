//go:build goexperiment.simd

package kernels

import "simd/archsimd"

// maxSIMD returns the largest non-NaN value of x (x[0] not NaN, len(x) ≥ 16): four v128
// vectors of running maxima, each lane taking a value only when it is greater (never a NaN).
func maxSIMD(x []float32) float32 {
	a0 := archsimd.BroadcastFloat32x4(x[0])
	a1, a2, a3 := a0, a0, a0
	i := 0
	for ; i+16 <= len(x); i += 16 {
		c := (*[16]float32)(x[i : i+16])
		v0 := archsimd.LoadFloat32x4Array((*[4]float32)(c[0:4]))
		v1 := archsimd.LoadFloat32x4Array((*[4]float32)(c[4:8]))
		v2 := archsimd.LoadFloat32x4Array((*[4]float32)(c[8:12]))
		v3 := archsimd.LoadFloat32x4Array((*[4]float32)(c[12:16]))
		a0 = v0.IfElse(v0.Greater(a0), a0)
		a1 = v1.IfElse(v1.Greater(a1), a1)
		a2 = v2.IfElse(v2.Greater(a2), a2)
		a3 = v3.IfElse(v3.Greater(a3), a3)
	}
	var l [16]float32
	a0.StoreArray((*[4]float32)(l[0:4]))
	a1.StoreArray((*[4]float32)(l[4:8]))
	a2.StoreArray((*[4]float32)(l[8:12]))
	a3.StoreArray((*[4]float32)(l[12:16]))
	return greaterOf(greaterOf(l[0], l[1:]), x[i:])
}

// firstEqualSIMD returns the index of the first of x[:done] equal to m, or −1, and done:
// len(x)&^15. Sixteen values' comparisons are or-ed and their lanes read (v128 has no mask of
// bits here); a group with an equal one is scanned.
func firstEqualSIMD(x []float32, m float32) (i, done int) {
	mv := archsimd.BroadcastFloat32x4(m)
	done = len(x) &^ 15
	for i := 0; i < done; i += 16 {
		c := (*[16]float32)(x[i : i+16])
		e := archsimd.LoadFloat32x4Array((*[4]float32)(c[0:4])).Equal(mv).Or(
			archsimd.LoadFloat32x4Array((*[4]float32)(c[4:8])).Equal(mv)).Or(
			archsimd.LoadFloat32x4Array((*[4]float32)(c[8:12])).Equal(mv).Or(
				archsimd.LoadFloat32x4Array((*[4]float32)(c[12:16])).Equal(mv))).ToInt32x4()
		if e.GetElem(0)|e.GetElem(1)|e.GetElem(2)|e.GetElem(3) != 0 {
			for k, v := range c {
				if v == m {
					return i + k, done
				}
			}
		}
	}
	return -1, done
}
