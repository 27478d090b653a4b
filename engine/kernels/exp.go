package kernels

import "math"

// ExpApprox is e^x computed the way llama.cpp's CPU backend computes the exponentials of its
// softmax on 512-bit vectors (a range reduction to x = n·ln2 + b followed by a degree-5
// polynomial in b, then a scaling by 2^n), so that attention probabilities agree with llama.cpp
// to the last bit. Its error against e^x is below 2.25 units in the last place (the polynomial is rounded before
// the scaling); it returns +Inf
// above about 88.7 and 0 below about -103.
func ExpApprox(x float32) float32 {
	const (
		shift = 0x1.8p23       // 1.5·2^23: adding it rounds to an integer
		log2e = 0x1.715476p+0  // log2(e)
		ln2hi = 0x1.62e4p-1    // ln(2), leading bits
		ln2lo = 0x1.7f7d1cp-20 // ln(2), remainder
		c1    = 0x1.ffffecp-1
		c2    = 0x1.fffdb6p-2
		c3    = 0x1.555e66p-3
		c4    = 0x1.573e2ep-5
		c5    = 0x1.0e4020p-7
	)
	z := FMA32(x, log2e, shift)
	n := z - shift // round(x·log2 e)
	b := FMA32(-n, ln2lo, FMA32(-n, ln2hi, x))
	u := b * b
	j := FMA32(FMA32(FMA32(c5, b, c4), u, FMA32(c3, b, c2)), u, FMA32(c1, b, 1))
	if n > 192 || n < -192 {
		if n <= 0 {
			return 0
		}
		return float32(math.Inf(1))
	}
	// j·2^n, rounded once (scaling by a power of two is exact unless the result is subnormal).
	// j lies in [0.7, 1.42], so for −125 ≤ n ≤ 127 the product is normal and finite and one
	// multiplication by 2^n gives it exactly (math.Ldexp costs a call and a decomposition).
	if n >= -125 && n <= 127 {
		return j * math.Float32frombits(uint32(int32(n)+127)<<23)
	}
	return float32(math.Ldexp(float64(j), int(n)))
}
