package kernels

import "github.com/attnscope/attnscope/engine/quant"

// AttentionRowHalf is AttentionRow for keys and values stored as IEEE binary16 bits (an F16 KV
// cache), laid out the same way (k_j = k[j*stride+off:][:len(q)]), for every value finite: it
// computes
//
//	probs[j] = softmax_j(scale · q·k_j)   for j < nKeys
//	out      = Σ_j probs[j] · v_j
//
// in float32, each stored value widened exactly. Its own summation orders, the same on every
// path of a platform (vector kernels where there are some, plain Go otherwise): q·k_j in
// sixteen lanes (element i in lane i mod 16, multiply-adds in order), lanes l and l+8 added,
// then (s0+s1)+(s2+s3) and (s4+s5)+(s6+s7) and their sum; out[d] one chain of multiply-adds
// over the keys in order; the softmax is SoftmaxChunked's for a cache. Infinite or NaN values
// (a cache whose kvcache.Cache.Finite is false) are not decoded as such on the vector paths:
// widen those layers to float32 exactly (quant.F16ToF32) and use AttentionRow.
func AttentionRowHalf(out, probs, q []float32, k, v []uint16, nKeys, stride, off int, scale float32) {
	hd := len(q)
	checkLen("AttentionRowHalf out", len(out), hd)
	if nKeys < 1 || len(probs) < nKeys || len(k) < (nKeys-1)*stride+off+hd || len(v) < (nKeys-1)*stride+off+hd {
		panic("kernels: AttentionRowHalf: no keys, or keys, values or probs too short")
	}
	p := probs[:nKeys]
	vec := HalfVectors(hd)
	if !vec || !halfScoresSIMD(p, q, k, stride, off, scale) {
		for j := range p {
			p[j] = dotHalf(q, k[j*stride+off:j*stride+off+hd]) * scale
		}
	}
	SoftmaxChunked(p, true)
	if vec {
		halfValuesSIMD(out, p, v, stride, off)
		return
	}
	clear(out)
	for j, pj := range p {
		vj := v[j*stride+off : j*stride+off+hd]
		for d, h := range vj {
			out[d] = mulAdd(pj, quant.F16ToF32(h), out[d])
		}
	}
}

// HalfVectors reports whether AttentionRowHalf runs on vector kernels here for heads of hd
// values (a multiple of 8, on AVX2, WebAssembly SIMD or NEON). Its plain path is slower than
// AttentionRow's over the same values widened first.
func HalfVectors(hd int) bool { return (simdLevel != simdNone || wasmFloatSIMD) && hd%8 == 0 }

// maxScaledQuery is the longest query the vector kernels take (scaledQuery).
const maxScaledQuery = 256

// scaledQuery sets qs to q·2¹¹² and reports true where that is exact and finite (|q| < 2¹⁶,
// len(q) ≤ maxScaledQuery): the vector kernels multiply it with keys widened to their values
// times 2⁻¹¹², one multiplication fewer per value and the same products.
func scaledQuery(qs, q []float32) bool {
	if len(q) > maxScaledQuery {
		return false
	}
	for i, x := range q {
		if !(x > -1<<16 && x < 1<<16) {
			return false
		}
		qs[i] = x * (1 << 112)
	}
	return true
}

// dotHalf is q·k for binary16 k in AttentionRowHalf's order.
func dotHalf(q []float32, k []uint16) float32 {
	var acc [16]float32
	for i, h := range k {
		acc[i&15] = mulAdd(q[i], quant.F16ToF32(h), acc[i&15])
	}
	var s [8]float32
	for l := range s {
		s[l] = acc[l] + acc[l+8]
	}
	return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]))
}

// WidenFiniteHalves decodes binary16 bits src into dst (len(dst) ≥ len(src)), exactly for
// finite values (on the vector paths an infinity or NaN comes out finite: decode those with
// quant.F16ToF32).
func WidenFiniteHalves(dst []float32, src []uint16) {
	dst = dst[:len(src)]
	i := 0
	if simdLevel != simdNone || wasmFloatSIMD {
		i = widenHalvesSIMD(dst, src)
	}
	for ; i < len(src); i++ {
		dst[i] = quant.F16ToF32(src[i])
	}
}
