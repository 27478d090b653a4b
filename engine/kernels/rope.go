package kernels

import "math"

// RoPE holds the rotation parameters of rotary position embeddings.
type RoPE struct {
	Dims  int     // number of leading head dimensions rotated (even)
	Base  float32 // frequency base θ (10000 in Llama)
	Scale float32 // linear position scale factor (1 = none); positions are multiplied by 1/Scale
	NeoX  bool    // rotate pairs (i, i+Dims/2) instead of adjacent pairs (2i, 2i+1)
}

// ratio is the factor between the angles of neighbouring pairs, base^(-2/Dims), in float32.
func (r RoPE) ratio() float32 {
	return float32(math.Pow(float64(r.Base), -2/float64(r.Dims)))
}

// angle0 is the angle of the first pair at position pos: pos, divided by Scale when it is set.
func (r RoPE) angle0(pos int) float32 {
	theta := float32(pos)
	if r.Scale != 0 && r.Scale != 1 {
		theta /= r.Scale
	}
	return theta
}

// Thetas fills dst (length Dims/2) with the rotation angle of each pair at position pos, computed
// as ggml does: θ₀ = pos, θᵢ₊₁ = θᵢ · base^(-2/Dims), in float32.
func (r RoPE) Thetas(dst []float32, pos int) {
	checkLen("RoPE.Thetas", len(dst), r.Dims/2)
	thetaScale := r.ratio()
	theta := r.angle0(pos)
	for i := range dst {
		dst[i] = theta
		theta *= thetaScale
	}
}

// Apply rotates one head vector x (len ≥ Dims) in place for position pos. scratch must have
// length Dims/2. It computes the angles and their cosines and sines on every call; Table and
// Rotate give the same result with the cosines and sines computed once per position.
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
		x[a] = float32(x0*c) - float32(x1*s)
		x[b] = float32(x0*s) + float32(x1*c)
	}
}

// Table fills tab (length n·Dims) with the cosines and sines of the angles of positions pos0 …
// pos0+n−1, laid out (position, pair, 2): tab[(p·Dims/2 + i)·2] = cos θᵢ(pos0+p) and the entry
// after it sin θᵢ(pos0+p). They are the values Apply uses, float32 of the float64 cosine and
// sine of the float32 angles Thetas gives, and the layout the backends' RoPE tables have.
func (r RoPE) Table(tab []float32, pos0, n int) {
	checkLen("RoPE.Table", len(tab), n*r.Dims)
	thetaScale := r.ratio()
	for p := 0; p < n; p++ {
		row := tab[p*r.Dims : (p+1)*r.Dims]
		theta := r.angle0(pos0 + p)
		for i := 0; i < len(row); i += 2 {
			row[i] = float32(math.Cos(float64(theta)))
			row[i+1] = float32(math.Sin(float64(theta)))
			theta *= thetaScale
		}
	}
}

// Rotate rotates one head vector x (len ≥ Dims) in place by the angles of one position, cs being
// that position's Dims entries of a Table. The result is Apply's, bit for bit:
//
//	x[a] = x[a]·cos θᵢ − x[b]·sin θᵢ,  x[b] = x[a]·sin θᵢ + x[b]·cos θᵢ
//
// with (a, b) = (2i, 2i+1), or (i, i+Dims/2) for NeoX, each product and sum rounded to float32.
func (r RoPE) Rotate(x, cs []float32) {
	if len(x) < r.Dims {
		panic("kernels: RoPE.Rotate: head shorter than the rotated dimensions")
	}
	checkLen("RoPE.Rotate", len(cs), r.Dims)
	half := r.Dims / 2
	if r.NeoX {
		lo, hi := x[:half], x[half:r.Dims]
		for i := range lo {
			c, s := cs[2*i], cs[2*i+1]
			x0, x1 := lo[i], hi[i]
			lo[i] = float32(x0*c) - float32(x1*s)
			hi[i] = float32(x0*s) + float32(x1*c)
		}
		return
	}
	// The products are rounded before they are added (the conversions keep the compiler from
	// fusing them, as it may on arm64), so every platform gives the same bits.
	x = x[:r.Dims]
	for i := 0; i < len(x); i += 2 {
		c, s := cs[i], cs[i+1]
		x0, x1 := x[i], x[i+1]
		x[i] = float32(x0*c) - float32(x1*s)
		x[i+1] = float32(x0*s) + float32(x1*c)
	}
}
