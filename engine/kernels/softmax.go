package kernels

import "math"

// Softmax replaces x by softmax(x) in place, subtracting the maximum first. Entries equal to
// -Inf (masked) become exactly 0. It returns the maximum and the sum of exponentials, which
// describe the row (log-sum-exp = max + log(sum)).
func Softmax(x []float32) (maxv float32, sum float64) {
	maxv = float32(math.Inf(-1))
	for _, v := range x {
		if v > maxv {
			maxv = v
		}
	}
	if math.IsInf(float64(maxv), -1) {
		for i := range x {
			x[i] = 0
		}
		return maxv, 0
	}
	for i, v := range x {
		e := float32(math.Exp(float64(v - maxv)))
		x[i] = e
		sum += float64(e)
	}
	inv := float32(1 / sum)
	for i := range x {
		x[i] *= inv
	}
	return maxv, sum
}

// SoftmaxChunked replaces x by softmax(x) as llama.cpp's CPU backend computes it: exponentials
// of x[i]-max in chunks of 16 with ExpApprox, each chunk summed pairwise and added to a float64
// total, then every entry scaled by 1/total. When padded is false the entries after the last
// full chunk use the exact exponential (llama.cpp's scalar tail); when true the row is treated
// as padded with masked entries to a multiple of 16, as a KV-cache row is, so every entry goes
// through ExpApprox. Entries equal to -Inf become 0. On WebAssembly the exponential is
// expUnfused (softmaxExp; each step in two roundings, as the browser's other float loops), the
// chunks four lanes a vector.
func SoftmaxChunked(x []float32, padded bool) {
	maxv := largest(x)
	if math.IsInf(float64(maxv), -1) {
		clear(x)
		return
	}
	var sum float64
	full := len(x) &^ 15
	if padded {
		full = (len(x) + 15) &^ 15
	}
	var chunk [16]float32
	i0 := 0
	if floatLanesOn() {
		i0 = len(x) &^ 15 // the full chunks; a padded last one stays with the loop below
		if i0 > full {
			i0 = full
		}
		sum = softmaxChunksSIMD(x, i0, maxv)
	} else if wasmFloatSIMD {
		i0 = min(len(x)&^15, full)
		sum = softmaxChunksV128(x, i0, maxv)
	}
	for i := i0; i < full; i += 16 {
		// With the vector kernels only the padded last chunk comes here.
		if (simdLevel == simdAVX2 || simdLevel == simdAVX512) && expPartialChunkSIMD(&chunk, x[i:], maxv) {
			sum += float64(reduce16(&chunk))
			continue
		}
		for l := range chunk {
			chunk[l] = 0
			if i+l < len(x) {
				e := softmaxExp(x[i+l] - maxv)
				x[i+l] = e
				chunk[l] = e
			}
		}
		sum += float64(reduce16(&chunk))
	}
	for i := full; i < len(x); i++ {
		e := float32(math.Exp(float64(x[i] - maxv)))
		x[i] = e
		sum += float64(e)
	}
	inv := float32(1 / sum)
	i1 := 0
	if simdLevel != simdNone {
		i1 = scaleSIMD(x, inv)
	}
	for i := i1; i < len(x); i++ {
		x[i] *= inv
	}
}

// largest returns the largest value of x that is not NaN (-Inf for none), what a scan keeping
// each greater value finds; for 64 values and more (x[0] not NaN) on vectors, as Argmax finds
// it, which may differ in the sign of a zero maximum only: that changes no x − max given to
// the exponentials but a zero's sign, whose exponential is 1 either way.
func largest(x []float32) float32 {
	if len(x) >= 64 && x[0] == x[0] && (simdLevel == simdAVX2 || simdLevel == simdAVX512 || wasmFloatSIMD) {
		return maxSIMD(x)
	}
	m := float32(math.Inf(-1))
	for _, v := range x {
		if v > m {
			m = v
		}
	}
	return m
}
