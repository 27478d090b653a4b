package kernels_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/attnscope/attnscope/engine/kernels"
	"github.com/attnscope/attnscope/engine/quant"
)

// halves rounds x to binary16 bits.
func halves(x []float32) []uint16 {
	h := make([]uint16, len(x))
	for i, v := range x {
		h[i] = quant.F32ToF16(v)
	}
	return h
}

// widened decodes binary16 bits.
func widened(h []uint16) []float32 {
	x := make([]float32, len(h))
	for i, v := range h {
		x[i] = quant.F16ToF32(v)
	}
	return x
}

// checkHalfRow runs AttentionRowHalf with the vector kernels on and off and reports the first
// bit that differs; it returns the vector kernels' result.
func checkHalfRow(t *testing.T, q []float32, k, v []uint16, nKeys, stride, off int, scale float32) (out, probs []float32) {
	t.Helper()
	hd := len(q)
	var outs, ps [2][]float32
	for i, on := range []bool{true, false} {
		restore := kernels.UseSIMD(on)
		outs[i], ps[i] = make([]float32, hd), make([]float32, nKeys+3)
		kernels.AttentionRowHalf(outs[i], ps[i], q, k, v, nKeys, stride, off, scale)
		restore()
	}
	for j := 0; j < nKeys; j++ {
		if !sameBits(ps[0][j], ps[1][j]) {
			t.Fatalf("hd=%d keys=%d: prob %d = %v with vectors, %v plain", hd, nKeys, j, ps[0][j], ps[1][j])
		}
	}
	for d := range outs[0] {
		if !sameBits(outs[0][d], outs[1][d]) {
			t.Fatalf("hd=%d keys=%d: out[%d] = %v with vectors, %v plain", hd, nKeys, d, outs[0][d], outs[1][d])
		}
	}
	return outs[0], ps[0][:nKeys]
}

// AttentionRowHalf's vector and plain paths agree bit for bit, in both layouts a cache uses, and
// both compute attention over the widened keys and values: within float32 rounding of a
// float64 evaluation, and of AttentionRow on the same values widened.
func TestAttentionRowHalf(t *testing.T) {
	for _, hd := range []int{4, 8, 12, 16, 24, 48, 64, 72, 128} {
		for _, nKeys := range []int{1, 2, 7, 8, 9, 31, 64, 100, 257} {
			t.Run(fmt.Sprintf("hd=%d/keys=%d", hd, nKeys), func(t *testing.T) {
				r := newRand(uint64(hd*1000 + nKeys))
				const nKVHead = 3
				// Head-major, as kvcache keeps it: head h's keys one run, headDim apart.
				room := nKeys + 5
				k, v := halves(normal(r, nKVHead*room*hd, 1)), halves(normal(r, nKVHead*room*hd, 1))
				q := normal(r, hd, 1)
				scale := float32(1 / math.Sqrt(float64(hd)))
				out, probs := checkHalfRow(t, q, k, v, nKeys, hd, 2*room*hd, scale)
				kw, vw := widened(k), widened(v)
				want, wantP := make([]float32, hd), make([]float32, nKeys)
				kernels.AttentionRow(want, wantP, q, kw, vw, nKeys, hd, 2*room*hd, scale, nil, true)
				for j := range probs {
					if d := math.Abs(float64(probs[j] - wantP[j])); d > 1e-6 {
						t.Fatalf("prob %d = %v, AttentionRow on the widened values %v", j, probs[j], wantP[j])
					}
				}
				// A float64 evaluation over the widened values bounds both.
				sc := make([]float64, nKeys)
				mx := math.Inf(-1)
				for j := range sc {
					for i := range q {
						sc[j] += float64(q[i]) * float64(kw[2*room*hd+j*hd+i])
					}
					sc[j] *= float64(scale)
					mx = math.Max(mx, sc[j])
				}
				sum := 0.0
				for j := range sc {
					sc[j] = math.Exp(sc[j] - mx)
					sum += sc[j]
				}
				for d := range out {
					o, abs := 0.0, 0.0
					for j := range sc {
						x := sc[j] / sum * float64(vw[2*room*hd+j*hd+d])
						o += x
						abs += math.Abs(x)
					}
					if e := math.Abs(float64(out[d]) - o); e > 1e-5*abs+1e-7 {
						t.Fatalf("out[%d] = %v, float64 %v (error %.3g, scale %.3g)", d, out[d], o, e, abs)
					}
				}
				// Position-major (kvDim apart), the layout of a contiguous K matrix.
				kp, vp := halves(normal(r, nKeys*nKVHead*hd, 1)), halves(normal(r, nKeys*nKVHead*hd, 1))
				checkHalfRow(t, q, kp, vp, nKeys, nKVHead*hd, hd, scale)
			})
		}
	}
	mustPanic(t, "kernels: AttentionRowHalf", func() {
		kernels.AttentionRowHalf(make([]float32, 8), make([]float32, 4), make([]float32, 8), make([]uint16, 8), make([]uint16, 8), 4, 8, 0, 1)
	})
}

// FuzzAttentionRowHalf: any finite binary16 keys and values (subnormals, zeros, ±65504), any
// head a multiple of 8 up to 160 values, any key count: the vector and plain paths agree bit for
// bit.
func FuzzAttentionRowHalf(f *testing.F) {
	f.Add(uint8(7), uint16(40), uint64(1), float32(1))
	f.Add(uint8(0), uint16(1), uint64(2), float32(1e4))
	f.Add(uint8(15), uint16(300), uint64(3), float32(1e-3))
	f.Fuzz(func(t *testing.T, hd8 uint8, keys uint16, seed uint64, qScale float32) {
		hd := 8 * (int(hd8)%20 + 1)
		nKeys := int(keys)%400 + 1
		if !(qScale > 1e-8 && qScale < 1e8) {
			qScale = 1
		}
		r := rand.New(rand.NewPCG(seed, 7))
		anyHalf := func(n int) []uint16 {
			h := make([]uint16, n)
			for i := range h {
				for {
					h[i] = uint16(r.Uint32())
					if h[i]&0x7c00 != 0x7c00 { // finite
						break
					}
				}
				if r.IntN(4) != 0 { // mostly ordinary sizes, the rest any finite half
					h[i] = quant.F32ToF16(float32(r.NormFloat64()))
				}
			}
			return h
		}
		k, v := anyHalf(nKeys*hd), anyHalf(nKeys*hd)
		q := normal(r, hd, float64(qScale))
		checkHalfRow(t, q, k, v, nKeys, hd, 0, float32(1/math.Sqrt(float64(hd))))
	})
}

// WidenFiniteHalves gives quant.F16ToF32's bits for every finite half, with the vector kernels
// on and off, at every length.
func TestWidenFiniteHalves(t *testing.T) {
	var src []uint16
	for h := 0; h < 1<<16; h++ {
		if h&0x7c00 != 0x7c00 {
			src = append(src, uint16(h))
		}
	}
	for _, on := range []bool{true, false} {
		restore := kernels.UseSIMD(on)
		for _, n := range []int{0, 1, 7, 8, 9, 61, len(src)} {
			dst := make([]float32, n+2)
			kernels.WidenFiniteHalves(dst, src[len(src)-n:])
			for i, h := range src[len(src)-n:] {
				if !sameBits(dst[i], quant.F16ToF32(h)) {
					restore()
					t.Fatalf("simd=%v n=%d: %#04x widened to %v, want %v", on, n, h, dst[i], quant.F16ToF32(h))
				}
			}
		}
		restore()
	}
}

// BenchmarkAttentionRowHalf: one decoded token's attention for a head of 64 values over an F16
// cache, vector kernels against plain Go, and beside it AttentionRow over the same values as
// float32 (twice the bytes; its summation orders are llama.cpp's). The data sit in the caches:
// in a model the halved bytes count for more.
func BenchmarkAttentionRowHalf(b *testing.B) {
	const hd = 64
	for _, n := range []int{192, 1024} {
		r := newRand(77)
		k32, v32 := normal(r, n*hd, 1), normal(r, n*hd, 1)
		k, v := halves(k32), halves(v32)
		q := normal(r, hd, 1)
		out, probs := make([]float32, hd), make([]float32, n)
		scale := float32(1 / math.Sqrt(hd))
		b.Run(fmt.Sprint("f16/n=", n), func(b *testing.B) {
			sides(b, func(b *testing.B) {
				b.SetBytes(int64(4 * hd * n))
				for b.Loop() {
					kernels.AttentionRowHalf(out, probs, q, k, v, n, hd, 0, scale)
				}
				flops(b, 4*hd*float64(n))
			})
		})
		b.Run(fmt.Sprint("f32/n=", n), func(b *testing.B) {
			b.SetBytes(int64(8 * hd * n))
			for b.Loop() {
				kernels.AttentionRow(out, probs, q, k32, v32, n, hd, 0, scale, nil, true)
			}
			flops(b, 4*hd*float64(n))
		})
	}
}
