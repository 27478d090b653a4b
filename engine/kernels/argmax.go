package kernels

// Argmax returns the index of the largest value in x, the lowest among equal ones (+0 and −0
// are equal), 0 for an empty x: what a scan that keeps the first strictly greater value
// returns, so NaNs are passed over, unless x[0] is one (then 0). Greedy decoding takes it over
// a vocabulary's logits once a token. With vectors the largest value is found first (lanes
// keeping the greater of each step, NaNs never greater), then its first index.
func Argmax(x []float32) int {
	if len(x) == 0 {
		return 0
	}
	if len(x) >= 64 && x[0] == x[0] && (simdLevel == simdAVX2 || simdLevel == simdAVX512 || wasmFloatSIMD) {
		m := maxSIMD(x)
		i, done := firstEqualSIMD(x, m)
		if i >= 0 {
			return i
		}
		for i := done; i < len(x); i++ {
			if x[i] == m {
				return i
			}
		}
	}
	return argmaxPlain(x)
}

// argmaxPlain is Argmax in plain Go (len(x) > 0).
func argmaxPlain(x []float32) int {
	best, bv := 0, x[0]
	for i, v := range x {
		if v > bv {
			best, bv = i, v
		}
	}
	return best
}

// greaterOf returns the largest of m and the values of x greater than it (a NaN never is): the
// vector maxima's last steps over their lanes and the tail.
func greaterOf(m float32, x []float32) float32 {
	for _, v := range x {
		if v > m {
			m = v
		}
	}
	return m
}
