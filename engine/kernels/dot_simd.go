//go:build goexperiment.simd && amd64

package kernels

import "simd/archsimd"

// The SIMD dot products keep the plain versions' lanes: lane l of DotLanes is element l of a
// 512-bit accumulator, or of the first (l < 8) or second 256-bit one; each step is one fused
// multiply-add per lane, and the reductions add the same pairs in the same order.

// dotLanesSIMD is dotLanesPlain with vector fused multiply-adds.
func dotLanesSIMD(a, b []float32) float32 {
	n := len(a) &^ 15
	b = b[:len(a)]
	var s float32
	if simdLevel == simdAVX512 {
		acc := archsimd.BroadcastFloat32x16(0)
		for i := 0; i < n; i += 16 {
			acc = archsimd.LoadFloat32x16(a[i:i+16]).MulAdd(archsimd.LoadFloat32x16(b[i:i+16]), acc)
		}
		s = reduce8(acc.GetLo().Add(acc.GetHi()))
	} else {
		lo, hi := archsimd.BroadcastFloat32x8(0), archsimd.BroadcastFloat32x8(0)
		for i := 0; i < n; i += 16 {
			lo = archsimd.LoadFloat32x8(a[i:i+8]).MulAdd(archsimd.LoadFloat32x8(b[i:i+8]), lo)
			hi = archsimd.LoadFloat32x8(a[i+8:i+16]).MulAdd(archsimd.LoadFloat32x8(b[i+8:i+16]), hi)
		}
		s = reduce8(lo.Add(hi))
	}
	return fmaChain(s, a[n:], b[n:])
}

// reduce8 finishes reduce16 once the halves have been added: h[l] = x[l] + x[l+8].
func reduce8(h archsimd.Float32x8) float32 {
	var q [4]float32
	h.GetLo().Add(h.GetHi()).StoreArray(&q)
	// Clear the upper halves of the vector registers before the scalar code that follows:
	// mixing legacy SSE instructions with dirty 256-bit state is slow on some CPUs.
	archsimd.ClearAVXUpperBits()
	return (q[0] + q[2]) + (q[1] + q[3])
}

// dotBlockedSIMD is dotBlockedPlain with vector fused multiply-adds, for len(a) ≥ 64.
func dotBlockedSIMD(a, b []float32) float32 {
	n := len(a) &^ 63
	b = b[:len(a)]
	var s float32
	if simdLevel == simdAVX512 {
		z := archsimd.BroadcastFloat32x16(0)
		a0, a1, a2, a3 := z, z, z, z
		for i := 0; i < n; i += 64 {
			a0 = archsimd.LoadFloat32x16(a[i:i+16]).MulAdd(archsimd.LoadFloat32x16(b[i:i+16]), a0)
			a1 = archsimd.LoadFloat32x16(a[i+16:i+32]).MulAdd(archsimd.LoadFloat32x16(b[i+16:i+32]), a1)
			a2 = archsimd.LoadFloat32x16(a[i+32:i+48]).MulAdd(archsimd.LoadFloat32x16(b[i+32:i+48]), a2)
			a3 = archsimd.LoadFloat32x16(a[i+48:i+64]).MulAdd(archsimd.LoadFloat32x16(b[i+48:i+64]), a3)
		}
		acc := a0.Add(a2).Add(a1.Add(a3))
		s = reduce8(acc.GetLo().Add(acc.GetHi()))
	} else {
		z := archsimd.BroadcastFloat32x8(0)
		a0, a1, a2, a3, a4, a5, a6, a7 := z, z, z, z, z, z, z, z
		for i := 0; i < n; i += 64 {
			x, y := a[i:i+64], b[i:i+64]
			a0 = archsimd.LoadFloat32x8(x[0:8]).MulAdd(archsimd.LoadFloat32x8(y[0:8]), a0)
			a1 = archsimd.LoadFloat32x8(x[8:16]).MulAdd(archsimd.LoadFloat32x8(y[8:16]), a1)
			a2 = archsimd.LoadFloat32x8(x[16:24]).MulAdd(archsimd.LoadFloat32x8(y[16:24]), a2)
			a3 = archsimd.LoadFloat32x8(x[24:32]).MulAdd(archsimd.LoadFloat32x8(y[24:32]), a3)
			a4 = archsimd.LoadFloat32x8(x[32:40]).MulAdd(archsimd.LoadFloat32x8(y[32:40]), a4)
			a5 = archsimd.LoadFloat32x8(x[40:48]).MulAdd(archsimd.LoadFloat32x8(y[40:48]), a5)
			a6 = archsimd.LoadFloat32x8(x[48:56]).MulAdd(archsimd.LoadFloat32x8(y[48:56]), a6)
			a7 = archsimd.LoadFloat32x8(x[56:64]).MulAdd(archsimd.LoadFloat32x8(y[56:64]), a7)
		}
		// Accumulator j of the plain version is the pair (a[2j], a[2j+1]): combine 0+2 and
		// 1+3, then 0+1, half by half.
		lo := a0.Add(a4).Add(a2.Add(a6))
		hi := a1.Add(a5).Add(a3.Add(a7))
		s = reduce8(lo.Add(hi))
	}
	return fmaChain(s, a[n:], b[n:])
}

// fmaChain returns s after s = FMA32(a[i], b[i], s) for each i in order: the tail of a dot
// product. A chain of four or more runs on the vector unit's fused multiply-add (lane 0 of
// 128-bit vectors, the other lanes computed and dropped: correctly rounded, FMA32's bits) from
// a padded copy, instead of emulating each step (DotBlocked over 172 values, a tail of 44: 164
// → 100–104 ns).
func fmaChain(s float32, a, b []float32) float32 {
	if len(a) < 4 || len(a) > 64 {
		for i := range a {
			s = FMA32(a[i], b[i], s)
		}
		return s
	}
	var pa, pb [64 + 3]float32
	copy(pa[:], a)
	copy(pb[:], b[:len(a)])
	acc := archsimd.BroadcastFloat32x4(s)
	for i := range a {
		acc = archsimd.LoadFloat32x4(pa[i:i+4]).MulAdd(archsimd.LoadFloat32x4(pb[i:i+4]), acc)
	}
	return acc.GetElem(0)
}
