package kernels

import "math"

func checkLen(op string, a, b int) {
	if a != b {
		panic("kernels: " + op + ": length mismatch")
	}
}

// RMSNorm sets dst[i] = x[i] / sqrt(mean(x²) + eps) * w[i], with the sum of squares accumulated
// in float64 as ggml does. w may be nil (no scaling). dst may alias x.
func RMSNorm(dst, x, w []float32, eps float32) {
	checkLen("RMSNorm", len(dst), len(x))
	var sum float64
	for _, v := range x {
		sum += float64(v * v)
	}
	mean := float32(sum / float64(len(x)))
	scale := 1 / float32(math.Sqrt(float64(mean+eps)))
	if w == nil {
		for i, v := range x {
			dst[i] = v * scale
		}
		return
	}
	checkLen("RMSNorm weight", len(w), len(x))
	for i, v := range x {
		dst[i] = v * scale * w[i]
	}
}

// LayerNorm sets dst[i] = (x[i] - mean) / sqrt(var + eps) * w[i] + b[i], accumulating the mean and
// variance in float64 as ggml does. w and b may be nil. dst may alias x.
func LayerNorm(dst, x, w, b []float32, eps float32) {
	checkLen("LayerNorm", len(dst), len(x))
	var sum float64
	for _, v := range x {
		sum += float64(v)
	}
	mean := float32(sum / float64(len(x)))
	var ss float64
	for i, v := range x {
		d := v - mean
		dst[i] = d
		ss += float64(d * d)
	}
	variance := float32(ss / float64(len(x)))
	scale := 1 / float32(math.Sqrt(float64(variance+eps)))
	for i := range dst {
		dst[i] *= scale
	}
	if w != nil {
		checkLen("LayerNorm weight", len(w), len(x))
		for i := range dst {
			dst[i] *= w[i]
		}
	}
	if b != nil {
		checkLen("LayerNorm bias", len(b), len(x))
		for i := range dst {
			dst[i] += b[i]
		}
	}
}

// Add sets dst[i] += x[i].
func Add(dst, x []float32) {
	checkLen("Add", len(dst), len(x))
	for i, v := range x {
		dst[i] += v
	}
}

// Mul sets dst[i] *= x[i].
func Mul(dst, x []float32) {
	checkLen("Mul", len(dst), len(x))
	for i, v := range x {
		dst[i] *= v
	}
}

// Dot returns the float32 dot product of a and b.
func Dot(a, b []float32) float32 {
	checkLen("Dot", len(a), len(b))
	var s float32
	for i, v := range a {
		s += v * b[i]
	}
	return s
}
