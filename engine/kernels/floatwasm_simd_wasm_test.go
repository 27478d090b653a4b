//go:build goexperiment.simd

package kernels

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/attnscope/attnscope/engine/quant"
)

// The v128 float kernels give the unfused plain loops' bits (run with GOOS=js GOARCH=wasm and
// go_js_wasm_exec).
func TestF32x4MatchesPlain(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{0, 1, 15, 16, 17, 64, 288, 771} {
		a, b := make([]float32, n), make([]float32, n)
		for i := range a {
			a[i], b[i] = float32(r.NormFloat64()), float32(r.NormFloat64()*3)
		}
		if g, w := dotLanesF32x4(a, b), dotLanesPlain(a, b); math.Float32bits(g) != math.Float32bits(w) {
			t.Errorf("n=%d: dotLanesF32x4 %g, plain %g", n, g, w)
		}
	}
	for _, n := range []int{64, 65, 100, 127, 128, 192, 288, 771, 4096} {
		a, b := make([]float32, n), make([]float32, n)
		for i := range a {
			a[i], b[i] = float32(r.NormFloat64()), float32(r.NormFloat64()*3)
		}
		if g, w := dotBlockedF32x4(a, b), dotBlockedPlain(a, b); math.Float32bits(g) != math.Float32bits(w) {
			t.Errorf("n=%d: dotBlockedF32x4 %g, plain %g", n, g, w)
		}
	}
	for _, typ := range []quant.Type{quant.Q8_0, quant.Q4_0} {
		for _, cols := range []int{32, 288, 768} {
			x := make([]float32, cols)
			for i := range x {
				x[i] = float32(r.NormFloat64() * 2)
			}
			rb, _ := quant.RowBytes(typ, cols)
			row := make([]byte, rb)
			if err := quant.Quantize(typ, row, x); err != nil {
				t.Fatal(err)
			}
			if g, w := dotQLanesF32x4(typ, row, x), dotQLanesPlain(typ, row, x); math.Float32bits(g) != math.Float32bits(w) {
				t.Errorf("%s cols=%d: dotQLanesF32x4 %g, plain %g", typ, cols, g, w)
			}
		}
	}
}

// attnValuesSIMD gives dotLanesStrided's bits for every d it does.
func TestAttnValuesF32x4MatchesPlain(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{1, 15, 16, 17, 48, 100} {
		for _, hd := range []int{4, 7, 48} {
			const stride, off = 70, 3
			p := make([]float32, n)
			v := make([]float32, (n-1)*stride+off+hd)
			for i := range p {
				p[i] = float32(r.Float64())
			}
			for i := range v {
				v[i] = float32(r.NormFloat64())
			}
			out := make([]float32, hd)
			done := attnValuesSIMD(out, p, v, stride, off)
			if done != hd&^3 {
				t.Fatalf("n=%d hd=%d: did %d", n, hd, done)
			}
			for d := 0; d < done; d++ {
				if w := dotLanesStrided(p, v, stride, off+d, true); math.Float32bits(out[d]) != math.Float32bits(w) {
					t.Fatalf("n=%d hd=%d d=%d: %g, plain %g", n, hd, d, out[d], w)
				}
			}
		}
	}
}

// attnScoresSIMD gives DotBlocked's bits times the scale for heads shorter than 64.
func TestAttnScoresF32x4MatchesPlain(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, n := range []int{1, 4, 7, 33} {
		for _, hd := range []int{8, 48, 63, 64} {
			const stride, off = 130, 5
			q := make([]float32, hd)
			k := make([]float32, (n-1)*stride+off+hd)
			for i := range q {
				q[i] = float32(r.NormFloat64())
			}
			for i := range k {
				k[i] = float32(r.NormFloat64())
			}
			p := make([]float32, n)
			done := attnScoresSIMD(p, q, k, stride, off, 0.125)
			if want := n &^ 3; hd >= 64 {
				want = 0
				if done != want {
					t.Fatalf("n=%d hd=%d: did %d, want %d", n, hd, done, want)
				}
			} else if done != want {
				t.Fatalf("n=%d hd=%d: did %d, want %d", n, hd, done, want)
			}
			for j := 0; j < done; j++ {
				if w := dotBlockedPlain(q, k[j*stride+off:j*stride+off+hd]) * 0.125; math.Float32bits(p[j]) != math.Float32bits(w) {
					t.Fatalf("n=%d hd=%d j=%d: %g, plain %g", n, hd, j, p[j], w)
				}
			}
		}
	}
}
