package kernels

import "math"

// ExpApprox's constants.
const (
	expShift = 0x1.8p23       // 1.5·2^23: adding it rounds to an integer
	expLog2e = 0x1.715476p+0  // log2(e)
	expLn2Hi = 0x1.62e4p-1    // ln(2), leading bits
	expLn2Lo = 0x1.7f7d1cp-20 // ln(2), remainder
	expC1    = 0x1.ffffecp-1
	expC2    = 0x1.fffdb6p-2
	expC3    = 0x1.555e66p-3
	expC4    = 0x1.573e2ep-5
	expC5    = 0x1.0e4020p-7
)

// ExpApprox is e^x computed the way llama.cpp's CPU backend computes the exponentials of its
// softmax on 512-bit vectors (a range reduction to x = n·ln2 + b followed by a degree-5
// polynomial in b, then a scaling by 2^n), so that attention probabilities agree with llama.cpp
// to the last bit. Its error against e^x is below 2.25 units in the last place (the polynomial
// is rounded before the scaling); it returns +Inf above about 88.7 and 0 below about -103.
func ExpApprox(x float32) float32 {
	// expApprox's steps, each fused multiply-add by fmaFast (FMA32 when its ok is true) and the
	// scaling j·2^n by a multiplication with 2^n built in the exponent bits, exact where the
	// result is normal (n in [-125, 127], j being in about [0.7, 1.42]). A rare false ok (a
	// float32 midpoint or a result below the normal range), another n or a NaN sends x to
	// expApprox: the same bits, much faster than FMA32 and math.Ldexp each time.
	z, ok0 := fmaFast(x, expLog2e, expShift)
	n := z - expShift
	h, ok1 := fmaFast(-n, expLn2Hi, x)
	b, ok2 := fmaFast(-n, expLn2Lo, h)
	u := b * b
	p5, ok3 := fmaFast(expC5, b, expC4)
	p3, ok4 := fmaFast(expC3, b, expC2)
	p1, ok5 := fmaFast(expC1, b, 1)
	q, ok6 := fmaFast(p5, u, p3)
	j, ok7 := fmaFast(q, u, p1)
	if !(ok0 && ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7 && n >= -125 && n <= 127) {
		return expApprox(x)
	}
	return float32(j * math.Float32frombits(uint32(int32(n)+127)<<23)) // exact
}

// expApprox is ExpApprox step by step: every fused multiply-add correctly rounded (FMA32), the
// scaling by math.Ldexp. It is the reference the faster ExpApprox is tested against.
func expApprox(x float32) float32 {
	z := FMA32(x, expLog2e, expShift)
	n := z - expShift // round(x·log2 e)
	b := FMA32(-n, expLn2Lo, FMA32(-n, expLn2Hi, x))
	u := b * b
	j := FMA32(FMA32(FMA32(expC5, b, expC4), u, FMA32(expC3, b, expC2)), u, FMA32(expC1, b, 1))
	if n > 192 || n < -192 {
		if n <= 0 {
			return 0
		}
		return float32(math.Inf(1))
	}
	// j·2^n, rounded once (scaling by a power of two is exact unless the result is subnormal).
	return float32(math.Ldexp(float64(j), int(n)))
}

// expUnfused is ExpApprox's steps with every multiply-add in two roundings (the product rounded,
// then the sum), for SiLU on WebAssembly, which has no fused multiply-add: there each exact
// fused step costs about ten times the work and SiLU was a tenth of a prompt, while this form
// runs on v128 lanes (siluLanesV128) with the same bits as here. Its scaling by 2^n is
// ExpApprox's.
func expUnfused(x float32) float32 {
	// The conversions keep a compiler from fusing the steps.
	z := float32(x*expLog2e) + expShift
	n := z - expShift
	b := float32(x-float32(n*expLn2Hi)) - float32(n*expLn2Lo)
	u := b * b
	p5 := float32(expC5*b) + expC4
	p3 := float32(expC3*b) + expC2
	p1 := float32(expC1*b) + 1
	j := float32(float32(float32(p5*u)+p3)*u) + p1
	if n > 192 || n < -192 {
		if n <= 0 {
			return 0
		}
		return float32(math.Inf(1))
	}
	if n >= -125 && n <= 127 {
		return j * math.Float32frombits(uint32(int32(n)+127)<<23) // exact
	}
	return float32(math.Ldexp(float64(j), int(n)))
}
