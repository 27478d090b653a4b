package kernels

import "math"

// The order in which a dot product adds its terms changes its last bits, and llama.cpp's GELU
// (which rounds its input to half precision) turns those bits into visible differences. These
// reference dot products therefore follow the summation orders of ggml's CPU backend on 512-bit
// vectors, so that the engine agrees with llama.cpp as closely as floating point allows. A SIMD
// implementation of the same order gives bit-identical results.

// FMA32 returns a·b + c with a single rounding to float32, as a hardware single-precision fused
// multiply-add does, so that SIMD kernels using the FMA instructions agree with the plain ones
// bit for bit. The product of two float32 values is exact in float64, so s = a·b + c rounded
// to float64 differs from the exact value only by the residual of that addition; rounding s
// to float32 can go wrong only when s falls exactly halfway between two float32 values, and
// there the residual decides the direction. (Rounding through float64 without that correction
// would double-round in those cases.)
func FMA32(a, b, c float32) float32 {
	if r, ok := fmaFast(a, b, c); ok {
		return r
	}
	return fma32Slow(float64(a)*float64(b), float64(c), float64(a)*float64(b)+float64(c))
}

// mulAdd is a·b + s as this platform's lane loops compute it: fused (one rounding) natively,
// in two roundings on WebAssembly (see unfused). The tails of the float kernels use it, so
// that a short vector (a head of 48 values has only a tail in DotBlocked's order) costs no
// emulated fused step per element there.
func mulAdd(a, b, s float32) float32 {
	if unfused {
		return s + float32(a*b)
	}
	if r, ok := fmaFast(a, b, s); ok {
		return r
	}
	return FMA32(a, b, s)
}

// fmaFast returns float32(s), s = a·b + c rounded once to float64, and whether that is
// certainly FMA32(a, b, c): s is in the float32 normal range and not a float32 midpoint. It is
// small enough to be inlined into the kernels' loops, which call FMA32 when ok is false.
func fmaFast(a, b, c float32) (r float32, ok bool) {
	// a·b is exact in float64 (24+24 significant bits), so the sum below is a·b + c rounded
	// once, exactly what math.FMA gives, whether or not the compiler fuses it; math.FMA has no
	// wasm instruction and costs about 20 times more there.
	s := float64(a)*float64(b) + float64(c)
	bits := math.Float64bits(s)
	// A float32 midpoint in the normal range has its low 29 mantissa bits equal to 1<<28.
	return float32(s), bits&(1<<29-1) != 1<<28 && bits>>52&0x7ff >= 1023-126
}

// fma32Slow finishes FMA32 when s = p + c (rounded) is a possible float32 midpoint or lies in
// the float32 subnormal range: the residual of the addition (Knuth's two-sum) breaks the tie.
func fma32Slow(p, c, s float64) float32 {
	r := float32(s)
	bv := s - p
	e := (p - (s - bv)) + (c - bv)
	if e == 0 || e != e || float64(r) == s {
		return r
	}
	// The other float32 candidate on the far side of s from r.
	g := math.Nextafter32(r, float32(math.Copysign(math.Inf(1), s-float64(r))))
	rv, gv := float64(r), float64(g)
	if math.IsInf(rv, 0) {
		rv = math.Copysign(0x1p128, rv)
	}
	if (rv+gv)/2 != s {
		return r
	}
	// s is exactly halfway: the exact value lies on the side of e.
	if (e > 0) == (gv > rv) {
		return g
	}
	return r
}

// reduce16 adds 16 lanes as a 512-bit horizontal add does: halves, then quarters, then pairs.
func reduce16(x *[16]float32) float32 {
	var h [8]float32
	for l := range h {
		h[l] = x[l] + x[l+8]
	}
	q0, q1, q2, q3 := h[0]+h[4], h[1]+h[5], h[2]+h[6], h[3]+h[7]
	return (q0 + q2) + (q1 + q3)
}

// DotLanes is the dot product of a tiled matrix product: lane l (0…15) accumulates, with fused
// multiply-adds in order, the terms i ≡ l (mod 16) of the first len(a)&^15 elements; the lanes
// are then reduced pairwise and the remaining terms are added by fused multiply-adds.
//
//	for i in 0…len&^15 step 16: acc[l] = fma(a[i+l], b[i+l], acc[l])
//	s = reduce16(acc); for the tail: s = fma(a[i], b[i], s)
func DotLanes(a, b []float32) float32 {
	checkLen("DotLanes", len(a), len(b))
	if wasmFloatSIMD {
		return dotLanesF32x4(a, b)
	}
	if simdLevel != 0 {
		return dotLanesSIMD(a, b)
	}
	return dotLanesPlain(a, b)
}

// dotLanesPlain is DotLanes in plain Go.
func dotLanesPlain(a, b []float32) float32 {
	var acc [16]float32
	n := len(a) &^ 15
	for i := 0; i < n; i += 16 {
		x, y := a[i:i+16:i+16], b[i:i+16:i+16]
		for l := range acc {
			if unfused {
				acc[l] += float32(x[l] * y[l])
				continue
			}
			v, ok := fmaFast(x[l], y[l], acc[l])
			if !ok {
				v = FMA32(x[l], y[l], acc[l])
			}
			acc[l] = v
		}
	}
	s := reduce16(&acc)
	for i := n; i < len(a); i++ {
		s = mulAdd(a[i], b[i], s)
	}
	return s
}

// DotBlocked is the dot product of a single vector pair: four 16-lane accumulators over steps of
// 64 elements with fused multiply-adds, combined (0+2, 1+3, then 0+1) and reduced, then the
// remaining terms added in order by fused multiply-adds. Vectors shorter than 64 are therefore
// summed sequentially.
func DotBlocked(a, b []float32) float32 {
	checkLen("DotBlocked", len(a), len(b))
	if simdLevel != 0 && len(a) >= 64 {
		return dotBlockedSIMD(a, b)
	}
	if wasmFloatSIMD && len(a) >= 64 {
		return dotBlockedF32x4(a, b)
	}
	return dotBlockedPlain(a, b)
}

// dotBlockedPlain is DotBlocked in plain Go.
func dotBlockedPlain(a, b []float32) float32 {
	var acc [4][16]float32
	n := len(a) &^ 63
	for i := 0; i < n; i += 64 {
		for j := range acc {
			x, y := a[i+16*j:i+16*j+16:i+16*j+16], b[i+16*j:i+16*j+16:i+16*j+16]
			for l := range acc[j] {
				if unfused {
					acc[j][l] += float32(x[l] * y[l])
					continue
				}
				v, ok := fmaFast(x[l], y[l], acc[j][l])
				if !ok {
					v = FMA32(x[l], y[l], acc[j][l])
				}
				acc[j][l] = v
			}
		}
	}
	var s float32
	if n > 0 {
		s = combine4(&acc)
	}
	for i := n; i < len(a); i++ {
		s = mulAdd(a[i], b[i], s)
	}
	return s
}

// combine4 reduces four 16-lane accumulators as ggml does: (0+2, 1+3), then 0+1, then the lanes.
func combine4(acc *[4][16]float32) float32 {
	for l := 0; l < 16; l++ {
		acc[0][l] += acc[2][l]
		acc[1][l] += acc[3][l]
	}
	for l := 0; l < 16; l++ {
		acc[0][l] += acc[1][l]
	}
	return reduce16(&acc[0])
}
