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
