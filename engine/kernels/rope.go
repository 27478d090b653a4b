package kernels

import "math"

// RoPE holds the rotation parameters of rotary position embeddings.
type RoPE struct {
	Dims  int     // number of leading head dimensions rotated (even)
	Base  float32 // frequency base θ (10000 in Llama)
	Scale float32 // linear position scale factor (1 = none); positions are multiplied by 1/Scale
	NeoX  bool    // rotate pairs (i, i+Dims/2) instead of adjacent pairs (2i, 2i+1)
}

// Thetas fills dst (length Dims/2) with the rotation angle of each pair at position pos, computed
// as ggml does: θ₀ = pos, θᵢ₊₁ = θᵢ · base^(-2/Dims), in float32.
func (r RoPE) Thetas(dst []float32, pos int) {
	checkLen("RoPE.Thetas", len(dst), r.Dims/2)
	thetaScale := float32(math.Pow(float64(r.Base), -2/float64(r.Dims)))
	theta := float32(pos)
	if r.Scale != 0 && r.Scale != 1 {
		theta /= r.Scale
	}
	for i := range dst {
		dst[i] = theta
		theta *= thetaScale
	}
}

// Apply rotates one head vector x (len ≥ Dims) in place for position pos. scratch must have
// length Dims/2.
func (r RoPE) Apply(x []float32, pos int, scratch []float32) {
	if len(x) < r.Dims {
		panic("kernels: RoPE.Apply: head shorter than the rotated dimensions")
	}
	r.Thetas(scratch, pos)
	half := r.Dims / 2
	for i, th := range scratch {
		c := float32(math.Cos(float64(th)))
		s := float32(math.Sin(float64(th)))
		a, b := 2*i, 2*i+1
		if r.NeoX {
			a, b = i, i+half
		}
		x0, x1 := x[a], x[b]
		x[a] = x0*c - x1*s
		x[b] = x0*s + x1*c
	}
}
