package train

import (
	"math"

	"github.com/attnscope/attnscope/engine/kernels"
)

// normForward normalizes each of the n rows of x (n, E) into y: LayerNorm (b may be nil, mean
// removed) when layer is true, else RMSNorm; w scales. It keeps xhat (the normalized rows before
// w and b) and rstd (one per row) for normBack. Sums are taken in float64 as kernels does.
func normForward[T Float](y, xhat, rstd, x, w, b []T, n, E int, eps float64, layer bool) {
	for i := 0; i < n; i++ {
		xi, yi, hi := x[i*E:(i+1)*E], y[i*E:(i+1)*E], xhat[i*E:(i+1)*E]
		var mean T
		if layer {
			var s float64
			for _, v := range xi {
				s += float64(v)
			}
			mean = T(s / float64(E))
		}
		var ss float64
		for j, v := range xi {
			d := v - mean
			hi[j] = d
			ss += float64(d * d)
		}
		r := T(1 / math.Sqrt(float64(T(ss/float64(E)))+eps))
		rstd[i] = r
		for j := range hi {
			hi[j] *= r
			v := hi[j] * w[j]
			if b != nil {
				v += b[j]
			}
			yi[j] = v
		}
		// In float32 the output is the inference kernel's, to the bit.
		if y32, ok := any(yi).([]float32); ok {
			x32, w32 := any(xi).([]float32), any(w).([]float32)
			if layer {
				b32, _ := any(b).([]float32)
				kernels.LayerNorm(y32, x32, w32, b32, float32(eps))
			} else {
				kernels.RMSNorm(y32, x32, w32, float32(eps))
			}
		}
	}
}

// normBack accumulates the gradients of normForward given dy: dx += …, dw += dy·xhat,
// db += dy (db nil for RMSNorm).
func normBack[T Float](dx, dw, db, dy, xhat, rstd, w []T, n, E int, layer bool) {
	g := make([]T, E)
	for i := 0; i < n; i++ {
		dyi, hi, dxi := dy[i*E:(i+1)*E], xhat[i*E:(i+1)*E], dx[i*E:(i+1)*E]
		var sg, sgh T
		for j, d := range dyi {
			dw[j] += d * hi[j]
			if db != nil {
				db[j] += d
			}
			g[j] = d * w[j]
			sg += g[j]
			sgh += g[j] * hi[j]
		}
		sg /= T(E)
		sgh /= T(E)
		if !layer {
			sg = 0
		}
		r := rstd[i]
		for j := range dxi {
			dxi[j] += r * (g[j] - sg - hi[j]*sgh)
		}
	}
}

const (
	geluC = 0.79788456080286535587989211986876 // √(2/π)
	geluA = 0.044715
)

// geluForward sets a = GELU(u), the tanh form. In float32 it uses kernels.GELU, the table
// inference uses; in float64 the formula.
func geluForward[T Float](a, u []T) {
	copy(a, u)
	if a32, ok := any(a).([]float32); ok {
		kernels.GELU(a32)
		return
	}
	for i, x := range u {
		v := float64(x)
		a[i] = T(0.5 * v * (1 + math.Tanh(geluC*(v+geluA*v*v*v))))
	}
}

// geluBack sets du = da · GELU'(u) (the derivative of the tanh formula).
func geluBack[T Float](du, da, u []T) {
	for i, x := range u {
		v := float64(x)
		t := math.Tanh(geluC * (v + geluA*v*v*v))
		d := 0.5*(1+t) + 0.5*v*(1-t*t)*geluC*(1+3*geluA*v*v)
		du[i] = da[i] * T(d)
	}
}

// swigluForward sets a = SiLU(g) · u.
func swigluForward[T Float](a, g, u []T) {
	for i, x := range g {
		a[i] = T(float64(x)/(1+math.Exp(-float64(x)))) * u[i]
	}
}

// swigluBack sets dg and du from da.
func swigluBack[T Float](dg, du, da, g, u []T) {
	for i, x := range g {
		s := 1 / (1 + math.Exp(-float64(x)))
		silu := T(float64(x) * s)
		du[i] = da[i] * silu
		dg[i] = da[i] * u[i] * T(s*(1+float64(x)*(1-s)))
	}
}

// ropeTable holds cos and sin of RoPE's angles, (Ctx, HeadDim/2) each, computed from the same
// float32 angles as kernels.RoPE.
type ropeTable struct {
	half     int
	cos, sin []float64
}

func newRopeTable(ctx, headDim int, base float64) *ropeTable {
	half := headDim / 2
	t := &ropeTable{half: half, cos: make([]float64, ctx*half), sin: make([]float64, ctx*half)}
	r := kernels.RoPE{Dims: headDim, Base: float32(base), Scale: 1}
	th := make([]float32, half)
	for p := 0; p < ctx; p++ {
		r.Thetas(th, p)
		for i, a := range th {
			t.cos[p*half+i] = math.Cos(float64(a))
			t.sin[p*half+i] = math.Sin(float64(a))
		}
	}
	return t
}

// rotate turns the adjacent pairs of one head vector x by the angles of position pos; inverse
// turns them back (the backward pass of a rotation).
func rotate[T Float](t *ropeTable, x []T, pos int, inverse bool) {
	for i := 0; i < t.half; i++ {
		c, s := T(t.cos[pos*t.half+i]), T(t.sin[pos*t.half+i])
		if inverse {
			s = -s
		}
		x0, x1 := x[2*i], x[2*i+1]
		x[2*i] = x0*c - x1*s
		x[2*i+1] = x0*s + x1*c
	}
}

// attnForward computes causal attention for one sequence. qkv is (n, 3E): queries, keys and
// values of every head; out gets (n, E); probs gets (H, n, n), row i holding keys 0…i.
func attnForward[T Float](out, probs, qkv []T, n, E, H int) {
	hd := E / H
	scale := 1 / math.Sqrt(float64(hd))
	if q32, ok := any(qkv).([]float32); ok {
		// The inference kernel, with the summation orders of a KV cache.
		out32, p32 := any(out).([]float32), any(probs).([]float32)
		for h := 0; h < H; h++ {
			for i := 0; i < n; i++ {
				kernels.AttentionRow(out32[i*E+h*hd:i*E+(h+1)*hd], p32[(h*n+i)*n:(h*n+i+1)*n],
					q32[i*3*E+h*hd:i*3*E+(h+1)*hd], q32[E:], q32[2*E:], i+1, 3*E, h*hd, float32(scale), nil, true)
			}
		}
		return
	}
	for h := 0; h < H; h++ {
		for i := 0; i < n; i++ {
			qi := qkv[i*3*E+h*hd : i*3*E+(h+1)*hd]
			row := probs[(h*n+i)*n : (h*n+i)*n+i+1]
			mx := math.Inf(-1)
			for j := range row {
				s := float64(dot(qi, qkv[j*3*E+E+h*hd:j*3*E+E+(h+1)*hd])) * scale
				row[j] = T(s)
				mx = max(mx, float64(row[j]))
			}
			var sum float64
			for j, s := range row {
				e := math.Exp(float64(s) - mx)
				row[j] = T(e)
				sum += e
			}
			oi := out[i*E+h*hd : i*E+(h+1)*hd]
			clear(oi)
			inv := 1 / sum
			for j := range row {
				row[j] = T(float64(row[j]) * inv)
				axpy(oi, row[j], qkv[j*3*E+2*E+h*hd:j*3*E+2*E+(h+1)*hd])
			}
		}
	}
}

// attnBack accumulates dqkv (n, 3E) from dout (n, E), given attnForward's qkv and probs.
func attnBack[T Float](dqkv, dout, probs, qkv []T, n, E, H int) {
	hd := E / H
	scale := T(1 / math.Sqrt(float64(hd)))
	dp := make([]T, n)
	for h := 0; h < H; h++ {
		for i := 0; i < n; i++ {
			row := probs[(h*n+i)*n : (h*n+i)*n+i+1]
			doi := dout[i*E+h*hd : i*E+(h+1)*hd]
			var s T
			for j, p := range row {
				vj := qkv[j*3*E+2*E+h*hd : j*3*E+2*E+(h+1)*hd]
				axpy(dqkv[j*3*E+2*E+h*hd:j*3*E+2*E+(h+1)*hd], p, doi)
				dp[j] = dot(doi, vj)
				s += p * dp[j]
			}
			qi := qkv[i*3*E+h*hd : i*3*E+(h+1)*hd]
			dqi := dqkv[i*3*E+h*hd : i*3*E+(h+1)*hd]
			for j, p := range row {
				ds := p * (dp[j] - s) * scale
				if ds == 0 {
					continue
				}
				axpy(dqi, ds, qkv[j*3*E+E+h*hd:j*3*E+E+(h+1)*hd])
				axpy(dqkv[j*3*E+E+h*hd:j*3*E+E+(h+1)*hd], ds, qi)
			}
		}
	}
}
