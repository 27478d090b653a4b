package kernels

// AttentionRow computes one query's attention over nKeys keys for one head:
//
//	probs[j] = softmax_j(scale · q·k_j)   for j < nKeys
//	out      = Σ_j probs[j] · v_j
//
// k and v hold the keys and values of consecutive positions, stride floats apart, the head's
// vector starting at offset off of each position: k_j = k[j*stride+off : j*stride+off+len(q)].
// probs must have length ≥ nKeys; its first nKeys entries receive the probabilities. When bias
// is not nil, bias[j] is added to each score before the softmax (ALiBi, masks as -Inf).
//
// cached says the keys come from a KV cache, whose key axis llama.cpp pads to a multiple of 32
// with masked entries; it selects the summation orders llama.cpp uses in that case (see
// SoftmaxChunked, DotLanes and DotBlocked), so that the probabilities agree to the last bit.
func AttentionRow(out, probs, q, k, v []float32, nKeys, stride, off int, scale float32, bias []float32, cached bool) {
	hd := len(q)
	checkLen("AttentionRow out", len(out), hd)
	if len(probs) < nKeys || len(k) < (nKeys-1)*stride+off+hd || len(v) < (nKeys-1)*stride+off+hd {
		panic("kernels: AttentionRow: keys, values or probs too short")
	}
	if bias != nil && len(bias) < nKeys {
		panic("kernels: AttentionRow: bias shorter than the keys")
	}
	p := probs[:nKeys]
	j0 := 0
	if simdLevel != simdNone || wasmFloatSIMD {
		j0 = attnScoresSIMD(p, q, k, stride, off, scale)
	}
	for j := j0; j < nKeys; j++ {
		p[j] = DotBlocked(q, k[j*stride+off:j*stride+off+hd]) * scale
	}
	if bias != nil {
		for j := range p {
			p[j] += bias[j]
		}
	}
	SoftmaxChunked(p, cached)
	// out[d] = Σ_j p[j]·v_j[d]: a product over the key axis, in the lane order of a tiled
	// product when that axis is a multiple of 16 — always for a cache, whose padding makes every
	// key fall in a full chunk of 16 — else in the blocked order.
	d0 := 0
	if (simdLevel != simdNone || wasmFloatSIMD) && (cached || nKeys%16 == 0) {
		d0 = attnValuesSIMD(out, p, v, stride, off)
	}
	for d := d0; d < len(out); d++ {
		switch {
		case cached:
			out[d] = dotLanesStrided(p, v, stride, off+d, true)
		case nKeys%16 == 0:
			out[d] = dotLanesStrided(p, v, stride, off+d, false)
		default:
			out[d] = dotBlockedStrided(p, v, stride, off+d)
		}
	}
}

// AttentionRowsAtOnce is how many queries AttentionRows takes.
const AttentionRowsAtOnce = 4

// AttentionRows computes AttentionRow(outs[r], probs[r], qs[r], k, v, nKeys[r], stride, off,
// scale, nil, cached) for AttentionRowsAtOnce queries of one head, with the same bits. Where the
// platform has vector kernels for it (AVX2 for heads a multiple of 8 values, WebAssembly and
// NEON for a multiple of 4; the keys a cache's or a multiple of 16), the four queries share
// each key's loads, and the scores' gathers or transposes for heads under 64 values (on AVX2
// also the final additions for heads a multiple of 64): a prompt's rows are many short
// products over the same keys.
func AttentionRows(outs, probs, qs [][]float32, k, v []float32, nKeys []int, stride, off int, scale float32, cached bool) {
	const n = AttentionRowsAtOnce
	if len(outs) != n || len(probs) != n || len(qs) != n || len(nKeys) != n {
		panic("kernels: AttentionRows: not four queries")
	}
	hd := len(qs[0])
	maxKeys, vec := 0, attnRowsOn(hd)
	for r := range n {
		checkLen("AttentionRows q", len(qs[r]), hd)
		checkLen("AttentionRows out", len(outs[r]), hd)
		if nKeys[r] < 1 || len(probs[r]) < nKeys[r] {
			panic("kernels: AttentionRows: no keys, or probs shorter than the keys")
		}
		maxKeys = max(maxKeys, nKeys[r])
		vec = vec && (cached || nKeys[r]%16 == 0)
	}
	if !vec {
		for r := range n {
			AttentionRow(outs[r], probs[r], qs[r], k, v, nKeys[r], stride, off, scale, nil, cached)
		}
		return
	}
	if len(k) < (maxKeys-1)*stride+off+hd || len(v) < (maxKeys-1)*stride+off+hd {
		panic("kernels: AttentionRows: keys or values too short")
	}
	var ps, qq [n][]float32
	for r := range n {
		ps[r], qq[r] = probs[r][:nKeys[r]], qs[r]
	}
	j0 := attnScoresRowsSIMD(&ps, &qq, k, stride, off, scale, maxKeys)
	for r := range n {
		p := ps[r]
		for j := j0; j < len(p); j++ {
			p[j] = DotBlocked(qq[r], k[j*stride+off:j*stride+off+hd]) * scale
		}
		SoftmaxChunked(p, cached)
	}
	var oo [n][]float32
	for r := range n {
		oo[r] = outs[r]
	}
	attnValuesRowsSIMD(&oo, &ps, v, stride, off)
}

// dotLanesStrided is DotLanes(p, w) with w[j] = v[j*stride+base]; when padded, p and w are taken
// as extended with zeros to a multiple of 16, so that every term goes to its lane j mod 16.
func dotLanesStrided(p, v []float32, stride, base int, padded bool) float32 {
	var acc [16]float32
	n := len(p) &^ 15
	if padded {
		n = len(p)
	}
	for j := 0; j < n; j++ {
		if unfused {
			acc[j&15] += float32(p[j] * v[j*stride+base])
			continue
		}
		r, ok := fmaFast(p[j], v[j*stride+base], acc[j&15])
		if !ok {
			r = FMA32(p[j], v[j*stride+base], acc[j&15])
		}
		acc[j&15] = r
	}
	s := reduce16(&acc)
	for j := n; j < len(p); j++ {
		s = mulAdd(p[j], v[j*stride+base], s)
	}
	return s
}

// dotBlockedStrided is DotBlocked(p, w) with w[j] = v[j*stride+base].
func dotBlockedStrided(p, v []float32, stride, base int) float32 {
	var acc [4][16]float32
	n := len(p) &^ 63
	for j := 0; j < n; j++ {
		g := j & 63
		if unfused {
			acc[g>>4][g&15] += float32(p[j] * v[j*stride+base])
			continue
		}
		r, ok := fmaFast(p[j], v[j*stride+base], acc[g>>4][g&15])
		if !ok {
			r = FMA32(p[j], v[j*stride+base], acc[g>>4][g&15])
		}
		acc[g>>4][g&15] = r
	}
	var s float32
	if n > 0 {
		s = combine4(&acc)
	}
	for j := n; j < len(p); j++ {
		s = mulAdd(p[j], v[j*stride+base], s)
	}
	return s
}
