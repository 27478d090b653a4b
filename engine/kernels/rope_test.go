package kernels_test

import (
	"math"
	"slices"
	"testing"

	"github.com/attnscope/attnscope/engine/kernels"
)

// ropes are the configurations tested: Llama-style adjacent pairs, NeoX halves, a partial
// rotation (the first 32 of 64 dimensions) and a linear position scale.
var ropes = []struct {
	name    string
	r       kernels.RoPE
	headDim int
}{
	{"adjacent", kernels.RoPE{Dims: 64, Base: 10000}, 64},
	{"neox", kernels.RoPE{Dims: 64, Base: 10000, NeoX: true}, 64},
	{"partial-neox", kernels.RoPE{Dims: 32, Base: 10000, NeoX: true}, 64},
	{"partial-adjacent", kernels.RoPE{Dims: 16, Base: 500000}, 48},
	{"scaled", kernels.RoPE{Dims: 128, Base: 10000, Scale: 4}, 128},
}

// pairs returns the index pairs the rotation acts on.
func pairs(r kernels.RoPE) [][2]int {
	p := make([][2]int, r.Dims/2)
	for i := range p {
		if r.NeoX {
			p[i] = [2]int{i, i + r.Dims/2}
		} else {
			p[i] = [2]int{2 * i, 2*i + 1}
		}
	}
	return p
}

func applied(r kernels.RoPE, x []float32, pos int) []float32 {
	y := slices.Clone(x)
	r.Apply(y, pos, make([]float32, r.Dims/2))
	return y
}

func TestRoPEThetas(t *testing.T) {
	for _, c := range ropes {
		scale := float64(c.r.Scale)
		if scale == 0 {
			scale = 1
		}
		th := make([]float32, c.r.Dims/2)
		for _, pos := range []int{0, 1, 2, 17, 255, 4000} {
			c.r.Thetas(th, pos)
			if th[0] != float32(pos)/float32(scale) {
				t.Errorf("%s pos %d: θ₀ = %g, want %g", c.name, pos, th[0], float32(pos)/float32(scale))
			}
			for i, v := range th {
				want := float64(pos) / scale * math.Pow(float64(c.r.Base), -2*float64(i)/float64(c.r.Dims))
				// i float32 multiplications by a rounded ratio: about (i+2)·u relative each.
				if math.Abs(float64(v)-want) > float64(2*i+4)*u32*want {
					t.Errorf("%s pos %d: θ%d = %g, want %g", c.name, pos, i, v, want)
				}
			}
		}
	}
}

func TestRoPEApply(t *testing.T) {
	r := newRand(31)
	for _, c := range ropes {
		th := make([]float32, c.r.Dims/2)
		for _, pos := range []int{0, 1, 3, 100, 1023} {
			x := normal(r, c.headDim, 1)
			y := applied(c.r, x, pos)
			c.r.Thetas(th, pos)
			rotated := make([]bool, c.headDim)
			for i, p := range pairs(c.r) {
				a, b := p[0], p[1]
				rotated[a], rotated[b] = true, true
				if pos == 0 {
					// Position 0 is the identity, bit for bit.
					if math.Float32bits(y[a]) != math.Float32bits(x[a]) || math.Float32bits(y[b]) != math.Float32bits(x[b]) {
						t.Fatalf("%s pos 0: pair (%d, %d) changed from (%g, %g) to (%g, %g)", c.name, a, b, x[a], x[b], y[a], y[b])
					}
				}
				// The rotation keeps each pair's length.
				n0 := math.Hypot(float64(x[a]), float64(x[b]))
				n1 := math.Hypot(float64(y[a]), float64(y[b]))
				if math.Abs(n1-n0) > 1e-6*n0 {
					t.Errorf("%s pos %d: pair (%d, %d) length %g became %g", c.name, pos, a, b, n0, n1)
				}
				// And it is the rotation by θᵢ.
				cs, sn := math.Cos(float64(th[i])), math.Sin(float64(th[i]))
				wa := float64(x[a])*cs - float64(x[b])*sn
				wb := float64(x[a])*sn + float64(x[b])*cs
				if math.Abs(float64(y[a])-wa) > 1e-6*n0 || math.Abs(float64(y[b])-wb) > 1e-6*n0 {
					t.Errorf("%s pos %d: pair (%d, %d) = (%g, %g), rotation by %g gives (%g, %g)", c.name, pos, a, b, y[a], y[b], th[i], wa, wb)
				}
			}
			// Dimensions past Dims are not touched.
			for d := range rotated {
				if !rotated[d] && math.Float32bits(y[d]) != math.Float32bits(x[d]) {
					t.Errorf("%s pos %d: unrotated dimension %d changed from %g to %g", c.name, pos, d, x[d], y[d])
				}
			}
		}
	}
}

// The score of a rotated query and key depends only on their distance.
func TestRoPERelativePosition(t *testing.T) {
	r := newRand(32)
	for _, c := range ropes {
		q, k := normal(r, c.headDim, 1), normal(r, c.headDim, 1)
		var qn, kn float64
		for i := range q {
			qn += float64(q[i]) * float64(q[i])
			kn += float64(k[i]) * float64(k[i])
		}
		scale := math.Sqrt(qn * kn)
		for _, d := range []int{0, 1, 5, 37, -3} {
			var first float64
			for j, m := range []int{40, 41, 77, 150, 300} {
				s, _ := dot64(applied(c.r, q, m), applied(c.r, k, m-d))
				if j == 0 {
					first = s
					continue
				}
				if math.Abs(s-first) > 1e-4*scale {
					t.Errorf("%s distance %d: score %g at query %d, %g at query 40", c.name, d, s, m, first)
				}
			}
		}
		// Different distances give different scores (the test above is not vacuous).
		s1, _ := dot64(applied(c.r, q, 50), applied(c.r, k, 49))
		s2, _ := dot64(applied(c.r, q, 50), applied(c.r, k, 40))
		if math.Abs(s1-s2) < 1e-3*scale {
			t.Errorf("%s: scores at distances 1 and 10 agree (%g, %g)", c.name, s1, s2)
		}
	}
}

// A unit vector on one dimension of pair i moves only within that pair: (i, i+Dims/2) for NeoX,
// (2i, 2i+1) otherwise, to exactly (cos θᵢ, sin θᵢ).
func TestRoPEPairing(t *testing.T) {
	for _, neox := range []bool{false, true} {
		rp := kernels.RoPE{Dims: 16, Base: 10000, NeoX: neox}
		th := make([]float32, 8)
		const pos = 7
		rp.Thetas(th, pos)
		for i := 0; i < 8; i++ {
			a, b := 2*i, 2*i+1
			if neox {
				a, b = i, i+8
			}
			x := make([]float32, 16)
			x[a] = 1
			y := applied(rp, x, pos)
			for d, v := range y {
				var want float32
				switch d {
				case a:
					want = float32(math.Cos(float64(th[i])))
				case b:
					want = float32(math.Sin(float64(th[i])))
				}
				if v != want {
					t.Errorf("neox=%v pair %d: dimension %d = %g, want %g", neox, i, d, v, want)
				}
			}
		}
	}
}

func TestRoPEPanics(t *testing.T) {
	r := kernels.RoPE{Dims: 8, Base: 10000}
	mustPanic(t, "kernels: RoPE.Apply", func() { r.Apply(make([]float32, 6), 1, make([]float32, 4)) })
	mustPanic(t, "kernels: RoPE.Thetas", func() { r.Apply(make([]float32, 8), 1, make([]float32, 3)) })
	mustPanic(t, "kernels: RoPE.Thetas", func() { r.Thetas(make([]float32, 8), 1) })
}

// Table and Rotate give Apply's results bit for bit, and the table holds the cosines and sines
// of Thetas' angles.
func TestRoPETableRotate(t *testing.T) {
	r := newRand(33)
	var positions []int
	for p := 0; p < 300; p++ {
		positions = append(positions, p)
	}
	for p := 300; p < 70000; p = p*9/8 + 1 {
		positions = append(positions, p)
	}
	positions = append(positions, 1<<20, 1<<24-1, 1<<24, 1<<24+1, 1<<28)
	var checked int
	for _, dims := range []int{2, 4, 6, 10, 16, 32, 64, 80, 128} {
		for _, neox := range []bool{false, true} {
			for _, scale := range []float32{0, 1, 0.25, 0.5, 1.5, 2, 4, 8, 32} {
				for _, base := range []float32{10000, 500000, 1e6} {
					rp := kernels.RoPE{Dims: dims, Base: base, Scale: scale, NeoX: neox}
					headDim := dims + 2*(dims%3) // sometimes a partial rotation
					for j := 0; j < len(positions); j += 1 + r.IntN(4) {
						pos0 := positions[j]
						n := 1 + r.IntN(3)
						tab := make([]float32, n*dims)
						rp.Table(tab, pos0, n)
						th := make([]float32, dims/2)
						for p := 0; p < n; p++ {
							cs := tab[p*dims : (p+1)*dims]
							rp.Thetas(th, pos0+p)
							for i, a := range th {
								c, s := float32(math.Cos(float64(a))), float32(math.Sin(float64(a)))
								if math.Float32bits(cs[2*i]) != math.Float32bits(c) || math.Float32bits(cs[2*i+1]) != math.Float32bits(s) {
									t.Fatalf("%+v pos %d pair %d: table (%g, %g), want (%g, %g)", rp, pos0+p, i, cs[2*i], cs[2*i+1], c, s)
								}
							}
							x := normal(r, headDim, 3)
							want := applied(rp, x, pos0+p)
							got := slices.Clone(x)
							rp.Rotate(got, cs)
							for d := range got {
								if math.Float32bits(got[d]) != math.Float32bits(want[d]) {
									t.Fatalf("%+v pos %d dimension %d: Rotate %g, Apply %g", rp, pos0+p, d, got[d], want[d])
								}
							}
							checked++
						}
					}
				}
			}
		}
	}
	t.Logf("%d rotations compared", checked)
}

func FuzzRoPERotate(f *testing.F) {
	f.Add([]byte{}, uint32(0), uint8(8), false)
	f.Add([]byte{1, 0, 16, 2, 0, 16, 3, 0, 16, 4, 0, 16}, uint32(12345), uint8(4), true)
	f.Fuzz(func(t *testing.T, data []byte, pos uint32, dims uint8, neox bool) {
		x, _ := fuzzVectors(data)
		d := 2 * (int(dims) % 65)
		if d == 0 || len(x) < d {
			return
		}
		rp := kernels.RoPE{Dims: d, Base: 10000, NeoX: neox, Scale: float32(pos%5) / 2}
		p := int(pos >> 4)
		want := applied(rp, x, p)
		tab := make([]float32, d)
		rp.Table(tab, p, 1)
		got := slices.Clone(x)
		rp.Rotate(got, tab)
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%+v pos %d dimension %d: Rotate %g, Apply %g", rp, p, i, got[i], want[i])
			}
		}
	})
}

func TestRoPETablePanics(t *testing.T) {
	r := kernels.RoPE{Dims: 8, Base: 10000}
	mustPanic(t, "kernels: RoPE.Table", func() { r.Table(make([]float32, 15), 0, 2) })
	mustPanic(t, "kernels: RoPE.Rotate", func() { r.Rotate(make([]float32, 6), make([]float32, 8)) })
	mustPanic(t, "kernels: RoPE.Rotate", func() { r.Rotate(make([]float32, 8), make([]float32, 6)) })
}
