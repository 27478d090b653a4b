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
func AttentionRow(out, probs, q, k, v []float32, nKeys, stride, off int, scale float32, bias []float32) {
	hd := len(q)
	checkLen("AttentionRow out", len(out), hd)
	if len(probs) < nKeys || len(k) < (nKeys-1)*stride+off+hd || len(v) < (nKeys-1)*stride+off+hd {
		panic("kernels: AttentionRow: keys, values or probs too short")
	}
	p := probs[:nKeys]
	for j := range p {
		p[j] = DotBlocked(q, k[j*stride+off:j*stride+off+hd]) * scale
		if bias != nil {
			p[j] += bias[j]
		}
	}
	Softmax(p)
	// out[d] = Σ_j p[j]·v_j[d], summed over keys in the lane order of DotLanes.
	var acc [16]float32
	for d := range out {
		acc = [16]float32{}
		full := nKeys &^ 15
		for j := 0; j < full; j++ {
			acc[j&15] = FMA32(p[j], v[j*stride+off+d], acc[j&15])
		}
		s := reduce16(&acc)
		for j := full; j < nKeys; j++ {
			s = FMA32(p[j], v[j*stride+off+d], s)
		}
		out[d] = s
	}
}
