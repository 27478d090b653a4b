//go:build goexperiment.simd

package kernels

import "simd/archsimd"

// On arm64 the vectors are 128 bits (NEON, always present) and fused multiply-adds exist
// (FMLA), so the dot products keep their 16 lanes in four vectors: lanes 0…3, 4…7, 8…11 and
// 12…15. The quantized dot products and dequantizations run on NEON too (vecdot_simd_arm64.go),
// and so do the softmax's and SiLU's exponentials, the tiled float products and the attention's
// scores and values (float_arm64.go); the packed products stay plain here for now.

var simdLevel = simdNEON

var quantSIMD = true

// reduce4x4 is reduce16 of the lanes held in a (0…3), b (4…7), c (8…11) and d (12…15):
// halves h = (a+c, b+d), quarters q = h[0…3] + h[4…7], then pairs.
func reduce4x4(a, b, c, d archsimd.Float32x4) float32 {
	var q [4]float32
	a.Add(c).Add(b.Add(d)).StoreArray(&q)
	return (q[0] + q[2]) + (q[1] + q[3])
}

func dotLanesSIMD(a, b []float32) float32 {
	n := len(a) &^ 15
	b = b[:len(a)]
	z := archsimd.BroadcastFloat32x4(0)
	a0, a1, a2, a3 := z, z, z, z
	for i := 0; i < n; i += 16 {
		x, y := a[i:i+16], b[i:i+16]
		a0 = archsimd.LoadFloat32x4(x[0:4]).MulAdd(archsimd.LoadFloat32x4(y[0:4]), a0)
		a1 = archsimd.LoadFloat32x4(x[4:8]).MulAdd(archsimd.LoadFloat32x4(y[4:8]), a1)
		a2 = archsimd.LoadFloat32x4(x[8:12]).MulAdd(archsimd.LoadFloat32x4(y[8:12]), a2)
		a3 = archsimd.LoadFloat32x4(x[12:16]).MulAdd(archsimd.LoadFloat32x4(y[12:16]), a3)
	}
	s := reduce4x4(a0, a1, a2, a3)
	for i := n; i < len(a); i++ {
		s = FMA32(a[i], b[i], s)
	}
	return s
}

func dotBlockedSIMD(a, b []float32) float32 {
	n := len(a) &^ 63
	b = b[:len(a)]
	z := archsimd.BroadcastFloat32x4(0)
	// acc[j] of the plain version is (pj0, pj1, pj2, pj3).
	p00, p01, p02, p03 := z, z, z, z
	p10, p11, p12, p13 := z, z, z, z
	p20, p21, p22, p23 := z, z, z, z
	p30, p31, p32, p33 := z, z, z, z
	for i := 0; i < n; i += 64 {
		x, y := a[i:i+64], b[i:i+64]
		p00 = archsimd.LoadFloat32x4(x[0:4]).MulAdd(archsimd.LoadFloat32x4(y[0:4]), p00)
		p01 = archsimd.LoadFloat32x4(x[4:8]).MulAdd(archsimd.LoadFloat32x4(y[4:8]), p01)
		p02 = archsimd.LoadFloat32x4(x[8:12]).MulAdd(archsimd.LoadFloat32x4(y[8:12]), p02)
		p03 = archsimd.LoadFloat32x4(x[12:16]).MulAdd(archsimd.LoadFloat32x4(y[12:16]), p03)
		p10 = archsimd.LoadFloat32x4(x[16:20]).MulAdd(archsimd.LoadFloat32x4(y[16:20]), p10)
		p11 = archsimd.LoadFloat32x4(x[20:24]).MulAdd(archsimd.LoadFloat32x4(y[20:24]), p11)
		p12 = archsimd.LoadFloat32x4(x[24:28]).MulAdd(archsimd.LoadFloat32x4(y[24:28]), p12)
		p13 = archsimd.LoadFloat32x4(x[28:32]).MulAdd(archsimd.LoadFloat32x4(y[28:32]), p13)
		p20 = archsimd.LoadFloat32x4(x[32:36]).MulAdd(archsimd.LoadFloat32x4(y[32:36]), p20)
		p21 = archsimd.LoadFloat32x4(x[36:40]).MulAdd(archsimd.LoadFloat32x4(y[36:40]), p21)
		p22 = archsimd.LoadFloat32x4(x[40:44]).MulAdd(archsimd.LoadFloat32x4(y[40:44]), p22)
		p23 = archsimd.LoadFloat32x4(x[44:48]).MulAdd(archsimd.LoadFloat32x4(y[44:48]), p23)
		p30 = archsimd.LoadFloat32x4(x[48:52]).MulAdd(archsimd.LoadFloat32x4(y[48:52]), p30)
		p31 = archsimd.LoadFloat32x4(x[52:56]).MulAdd(archsimd.LoadFloat32x4(y[52:56]), p31)
		p32 = archsimd.LoadFloat32x4(x[56:60]).MulAdd(archsimd.LoadFloat32x4(y[56:60]), p32)
		p33 = archsimd.LoadFloat32x4(x[60:64]).MulAdd(archsimd.LoadFloat32x4(y[60:64]), p33)
	}
	// combine4: (0+2, 1+3), then 0+1, lane by lane; then reduce16.
	s := reduce4x4(p00.Add(p20).Add(p10.Add(p30)), p01.Add(p21).Add(p11.Add(p31)),
		p02.Add(p22).Add(p12.Add(p32)), p03.Add(p23).Add(p13.Add(p33)))
	for i := n; i < len(a); i++ {
		s = FMA32(a[i], b[i], s)
	}
	return s
}

// matVecLanesSIMD does MatVecLanes two rows at a time (len(x) a positive multiple of 16).
func matVecLanesSIMD(dst, w, x []float32) int {
	c := len(x)
	n2 := len(dst) &^ 1
	for r := 0; r < n2; r += 2 {
		w0, w1 := w[r*c:(r+1)*c], w[(r+1)*c:(r+2)*c]
		z := archsimd.BroadcastFloat32x4(0)
		a0, a1, a2, a3 := z, z, z, z
		b0, b1, b2, b3 := z, z, z, z
		for i := 0; i < c; i += 16 {
			x0 := archsimd.LoadFloat32x4(x[i : i+4])
			x1 := archsimd.LoadFloat32x4(x[i+4 : i+8])
			x2 := archsimd.LoadFloat32x4(x[i+8 : i+12])
			x3 := archsimd.LoadFloat32x4(x[i+12 : i+16])
			a0 = archsimd.LoadFloat32x4(w0[i:i+4]).MulAdd(x0, a0)
			a1 = archsimd.LoadFloat32x4(w0[i+4:i+8]).MulAdd(x1, a1)
			a2 = archsimd.LoadFloat32x4(w0[i+8:i+12]).MulAdd(x2, a2)
			a3 = archsimd.LoadFloat32x4(w0[i+12:i+16]).MulAdd(x3, a3)
			b0 = archsimd.LoadFloat32x4(w1[i:i+4]).MulAdd(x0, b0)
			b1 = archsimd.LoadFloat32x4(w1[i+4:i+8]).MulAdd(x1, b1)
			b2 = archsimd.LoadFloat32x4(w1[i+8:i+12]).MulAdd(x2, b2)
			b3 = archsimd.LoadFloat32x4(w1[i+12:i+16]).MulAdd(x3, b3)
		}
		dst[r] = reduce4x4(a0, a1, a2, a3)
		dst[r+1] = reduce4x4(b0, b1, b2, b3)
	}
	return n2
}
