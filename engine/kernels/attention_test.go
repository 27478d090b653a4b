package kernels_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/attnscope/attnscope/engine/kernels"
)

// kvLayout is a key or value buffer laid out as a KV cache holds it: (pos, kvHead, headDim).
type kvLayout struct {
	nKeys, nKVHead, headDim int
	k, v                    []float32
}

func newKV(r *rand.Rand, nKeys, nKVHead, headDim int) kvLayout {
	n := nKeys * nKVHead * headDim
	return kvLayout{nKeys, nKVHead, headDim, normal(r, n, 1), normal(r, n, 1)}
}

func (l kvLayout) stride() int     { return l.nKVHead * l.headDim }
func (l kvLayout) off(kvh int) int { return kvh * l.headDim }

// attention64 is the naive float64 attention of q over the keys and values of head kvh:
// scores, softmax, weighted sum.
func attention64(q []float32, l kvLayout, kvh int, scale float32, bias []float32) (out, probs []float64) {
	s, o := l.stride(), l.off(kvh)
	scores := make([]float64, l.nKeys)
	m := math.Inf(-1)
	for j := range scores {
		for d := range q {
			scores[j] += float64(q[d]) * float64(l.k[j*s+o+d])
		}
		scores[j] *= float64(scale)
		if bias != nil {
			scores[j] += float64(bias[j])
		}
		m = math.Max(m, scores[j])
	}
	probs = make([]float64, l.nKeys)
	out = make([]float64, len(q))
	if math.IsInf(m, -1) {
		return out, probs
	}
	var sum float64
	for j, sc := range scores {
		probs[j] = math.Exp(sc - m)
		sum += probs[j]
	}
	for j := range probs {
		probs[j] /= sum
		for d := range out {
			out[d] += probs[j] * float64(l.v[j*s+o+d])
		}
	}
	return out, probs
}

// biases returns, for nKeys keys, no bias, an ALiBi slope with a causal mask (the query at
// position nKeys-3, so the last two keys are hidden), and a random mask.
func biases(r *rand.Rand, nKeys int) []namedBias {
	alibi := make([]float32, nKeys)
	qpos := max(nKeys-3, 0)
	for j := range alibi {
		alibi[j] = -0.0625 * float32(qpos-j)
		if j > qpos {
			alibi[j] = negInf
		}
	}
	mask := make([]float32, nKeys)
	for j := range mask {
		if r.IntN(4) == 0 {
			mask[j] = negInf
		}
	}
	mask[r.IntN(nKeys)] = 0
	return []namedBias{{"none", nil}, {"alibi-causal", alibi}, {"mask", mask}}
}

type namedBias struct {
	name string
	bias []float32
}

var attnKeys = []int{1, 2, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 128, 130}

func TestAttentionRow(t *testing.T) {
	r := newRand(41)
	const nHead, nKVHead, headDim = 4, 2, 64
	scale := float32(1 / math.Sqrt(headDim))
	var worstOut, worstProb float64
	for _, nKeys := range attnKeys {
		l := newKV(r, nKeys, nKVHead, headDim)
		for _, nb := range biases(r, nKeys) {
			name, bias := nb.name, nb.bias
			for h := 0; h < nHead; h++ {
				kvh := h / (nHead / nKVHead) // grouped-query: two query heads per KV head
				q := normal(r, headDim, 1)
				wantOut, wantProbs := attention64(q, l, kvh, scale, bias)
				for _, cached := range []bool{false, true} {
					out := make([]float32, headDim)
					probs := make([]float32, nKeys+3)
					for j := nKeys; j < len(probs); j++ {
						probs[j] = 42 // beyond nKeys: must stay untouched
					}
					kernels.AttentionRow(out, probs, q, l.k, l.v, nKeys, l.stride(), l.off(kvh), scale, bias, cached)
					for j := 0; j < nKeys; j++ {
						if bias != nil && math.IsInf(float64(bias[j]), -1) && probs[j] != 0 {
							t.Fatalf("n=%d %s cached=%v: masked key %d has probability %g", nKeys, name, cached, j, probs[j])
						}
						err := math.Abs(float64(probs[j]) - wantProbs[j])
						worstProb = max(worstProb, err)
						if err > 1e-5 {
							t.Errorf("n=%d %s head %d cached=%v: probs[%d] = %g, want %g", nKeys, name, h, cached, j, probs[j], wantProbs[j])
						}
					}
					for j := nKeys; j < len(probs); j++ {
						if probs[j] != 42 {
							t.Fatalf("n=%d: probs[%d] beyond nKeys was written", nKeys, j)
						}
					}
					for d := range out {
						err := math.Abs(float64(out[d]) - wantOut[d])
						worstOut = max(worstOut, err)
						if err > 1e-5 {
							t.Errorf("n=%d %s head %d cached=%v: out[%d] = %g, want %g", nKeys, name, h, cached, d, out[d], wantOut[d])
						}
					}
				}
			}
		}
	}
	t.Logf("AttentionRow: largest error %.3g in probabilities, %.3g in outputs", worstProb, worstOut)
}

// AttentionRow is the composition its documentation describes: scores by DotBlocked, scaled
// and biased, SoftmaxChunked (padded when cached), and the weighted sum over keys in DotLanes
// order when nKeys is a multiple of 16, else in DotBlocked order unless cached; for heads
// narrower and wider than the vector kernels' 64 values, with them and without.
func TestAttentionRowComposition(t *testing.T) {
	for _, headDim := range []int{8, 32, 48, 64, 72, 128, 192} {
		for _, on := range []bool{true, false} {
			restore := kernels.UseSIMD(on)
			t.Run(fmt.Sprintf("hd=%d/simd=%v", headDim, on), func(t *testing.T) { attentionRowComposition(t, headDim) })
			restore()
		}
	}
}

func attentionRowComposition(t *testing.T, headDim int) {
	r := newRand(42 + uint64(headDim))
	const nKVHead = 3
	for _, nKeys := range attnKeys {
		l := newKV(r, nKeys, nKVHead, headDim)
		s := l.stride()
		for _, nb := range biases(r, nKeys) {
			name, bias := nb.name, nb.bias
			for _, cached := range []bool{false, true} {
				kvh := r.IntN(nKVHead)
				o := l.off(kvh)
				q := normal(r, headDim, 1)
				const scale = 0.17
				p := make([]float32, nKeys)
				for j := range p {
					p[j] = float32(kernels.DotBlocked(q, l.k[j*s+o:j*s+o+headDim]) * scale)
					if bias != nil {
						p[j] += bias[j]
					}
				}
				kernels.SoftmaxChunked(p, cached)
				want := make([]float32, headDim)
				col := make([]float32, nKeys)
				for d := range want {
					for j := range col {
						col[j] = l.v[j*s+o+d]
					}
					if cached || nKeys%16 == 0 {
						want[d] = kernels.DotLanes(p, col)
					} else {
						want[d] = kernels.DotBlocked(p, col)
					}
				}
				out, probs := make([]float32, headDim), make([]float32, nKeys)
				kernels.AttentionRow(out, probs, q, l.k, l.v, nKeys, s, o, scale, bias, cached)
				for j := range probs {
					if math.Float32bits(probs[j]) != math.Float32bits(p[j]) {
						t.Fatalf("n=%d %s cached=%v: probs[%d] = %g, composition gives %g", nKeys, name, cached, j, probs[j], p[j])
					}
				}
				if cached && nKeys%16 != 0 {
					continue // the padded order: TestAttentionRowCachedPaddedOrder
				}
				for d := range out {
					if math.Float32bits(out[d]) != math.Float32bits(want[d]) {
						t.Fatalf("n=%d %s cached=%v: out[%d] = %g, composition gives %g", nKeys, name, cached, d, out[d], want[d])
					}
				}
			}
		}
	}
}

func TestAttentionRowEdges(t *testing.T) {
	r := newRand(43)
	l := newKV(r, 20, 1, 8)
	q := normal(r, 8, 1)
	out, probs := make([]float32, 8), make([]float32, 20)
	// Every key masked: no probability anywhere and a zero output.
	all := make([]float32, 20)
	for j := range all {
		all[j] = negInf
	}
	for _, cached := range []bool{false, true} {
		kernels.AttentionRow(out, probs, q, l.k, l.v, 20, 8, 0, 1, all, cached)
		for j, p := range probs {
			if p != 0 {
				t.Fatalf("cached=%v: all keys masked, probs[%d] = %g", cached, j, p)
			}
		}
		for d, v := range out {
			if v != 0 {
				t.Fatalf("cached=%v: all keys masked, out[%d] = %g", cached, d, v)
			}
		}
	}
	// One key: probability 1 and the output is its value.
	kernels.AttentionRow(out, probs, q, l.k, l.v, 1, 8, 0, 1, nil, false)
	if probs[0] != 1 {
		t.Errorf("one key: probability %g", probs[0])
	}
	for d := range out {
		if out[d] != l.v[d] {
			t.Errorf("one key: out[%d] = %g, want the value %g", d, out[d], l.v[d])
		}
	}
	mustPanic(t, "kernels: AttentionRow out", func() {
		kernels.AttentionRow(make([]float32, 7), probs, q, l.k, l.v, 20, 8, 0, 1, nil, false)
	})
	mustPanic(t, "kernels: AttentionRow", func() {
		kernels.AttentionRow(out, probs, q, l.k, l.v, 21, 8, 0, 1, nil, false)
	})
	mustPanic(t, "kernels: AttentionRow", func() {
		kernels.AttentionRow(out, probs[:19], q, l.k, l.v, 20, 8, 0, 1, nil, false)
	})
	mustPanic(t, "kernels: AttentionRow", func() {
		kernels.AttentionRow(out, probs, q, l.k, l.v[:159], 20, 8, 0, 1, nil, false)
	})
}

// With cached keys the key axis is padded with masked entries to a multiple of 16 (llama.cpp
// pads to 32), and the weighted sum over it is a tiled product in lane order, as AttentionRow's
// comment says: DotLanes over the zero-padded probabilities and values, every key in lane
// j mod 16 and no tail.
func TestAttentionRowCachedPaddedOrder(t *testing.T) {
	r := newRand(44)
	for _, headDim := range []int{32, 64, 136, 192} {
		for _, on := range []bool{true, false} {
			restore := kernels.UseSIMD(on)
			for _, nKeys := range attnKeys {
				l := newKV(r, nKeys, 1, headDim)
				q := normal(r, headDim, 1)
				out, probs := make([]float32, headDim), make([]float32, nKeys)
				kernels.AttentionRow(out, probs, q, l.k, l.v, nKeys, headDim, 0, 0.2, nil, true)
				padded := (nKeys + 31) / 32 * 32
				p, col := make([]float32, padded), make([]float32, padded)
				copy(p, probs)
				for d := range out {
					for j := 0; j < nKeys; j++ {
						col[j] = l.v[j*headDim+d]
					}
					if want := kernels.DotLanes(p, col); math.Float32bits(out[d]) != math.Float32bits(want) {
						restore()
						t.Fatalf("hd=%d simd=%v n=%d: out[%d] = %g, padded lane order gives %g", headDim, on, nKeys, d, out[d], want)
					}
				}
			}
			restore()
		}
	}
}

// A bias shorter than nKeys is a bad length and panics with the package's prefix.
func TestAttentionRowShortBias(t *testing.T) {
	r := newRand(45)
	l := newKV(r, 10, 1, 8)
	mustPanic(t, "kernels: AttentionRow", func() {
		kernels.AttentionRow(make([]float32, 8), make([]float32, 10), normal(r, 8, 1), l.k, l.v, 10, 8, 0, 1, make([]float32, 9), false)
	})
}

// TestAttentionRowsMatchRow checks that AttentionRows gives AttentionRow's bits for each of its
// queries: heads with and without the transposed scores (under and from 64 values), keys a
// cache's (padded) or not, consecutive causal rows and arbitrary key counts, shortest first and
// last, with the vector kernels and without.
func TestAttentionRowsMatchRow(t *testing.T) {
	for _, hd := range []int{8, 16, 48, 56, 64, 72, 128} {
		for _, counts := range [][4]int{{1, 2, 3, 4}, {13, 14, 15, 16}, {31, 32, 33, 34}, {64, 7, 100, 17}, {128, 129, 130, 131}, {16, 32, 48, 64}} {
			for _, cached := range []bool{true, false} {
				name := fmt.Sprintf("hd=%d/keys=%v/cached=%v", hd, counts, cached)
				t.Run(name, func(t *testing.T) {
					const nKVHead = 2
					r := newRand(uint64(hd*1000 + counts[0]))
					maxKeys := slices.Max(counts[:])
					// A cache holds rows up to the next multiple of 32 (its padding).
					l := newKV(r, (maxKeys+31)&^31, nKVHead, hd)
					scale := float32(1 / math.Sqrt(float64(hd)))
					for _, on := range []bool{true, false} {
						restore := kernels.UseSIMD(on)
						outs, probs, qs := make([][]float32, 4), make([][]float32, 4), make([][]float32, 4)
						for i := range outs {
							outs[i], probs[i], qs[i] = make([]float32, hd), make([]float32, counts[i]+5), normal(r, hd, 1)
						}
						kernels.AttentionRows(outs, probs, qs, l.k, l.v, counts[:], l.stride(), l.off(1), scale, cached)
						for i := range outs {
							out, p := make([]float32, hd), make([]float32, counts[i])
							kernels.AttentionRow(out, p, qs[i], l.k, l.v, counts[i], l.stride(), l.off(1), scale, nil, cached)
							for j := range p {
								if !sameBits(p[j], probs[i][j]) {
									restore()
									t.Fatalf("simd=%v query %d: prob %d = %v, AttentionRow %v", on, i, j, probs[i][j], p[j])
								}
							}
							for d := range out {
								if !sameBits(out[d], outs[i][d]) {
									restore()
									t.Fatalf("simd=%v query %d: out[%d] = %v, AttentionRow %v", on, i, d, outs[i][d], out[d])
								}
							}
						}
						restore()
					}
				})
			}
		}
	}
}

// FuzzAttentionRows checks AttentionRows against AttentionRow, query by query, bit for bit, for
// heads of any multiple of 8 up to 80 values, any key counts and values of any scale.
func FuzzAttentionRows(f *testing.F) {
	f.Add(uint8(5), uint32(0x04030201), uint8(1), float32(1), uint64(1))
	f.Add(uint8(7), uint32(0x11213141), uint8(0), float32(30), uint64(2))
	f.Add(uint8(2), uint32(0xff10200f), uint8(1), float32(1e-3), uint64(3))
	f.Fuzz(func(t *testing.T, hd8 uint8, counts uint32, flags uint8, sigma float32, seed uint64) {
		hd := 8 * (int(hd8)%10 + 1)
		var nKeys [4]int
		for i := range nKeys {
			nKeys[i] = int(counts>>(8*i)&0xff)%160 + 1
		}
		cached := flags&1 != 0
		if !(sigma > 1e-6 && sigma < 1e6) {
			sigma = 1
		}
		r := newRand(seed)
		l := newKV(r, (slices.Max(nKeys[:])+31)&^31, 1, hd)
		for i := range l.k {
			l.k[i] *= sigma
		}
		scale := float32(1 / math.Sqrt(float64(hd)))
		outs, probs, qs := make([][]float32, 4), make([][]float32, 4), make([][]float32, 4)
		for i := range outs {
			outs[i], probs[i], qs[i] = make([]float32, hd), make([]float32, nKeys[i]), normal(r, hd, 1)
		}
		kernels.AttentionRows(outs, probs, qs, l.k, l.v, nKeys[:], hd, 0, scale, cached)
		for i := range outs {
			out, p := make([]float32, hd), make([]float32, nKeys[i])
			kernels.AttentionRow(out, p, qs[i], l.k, l.v, nKeys[i], hd, 0, scale, nil, cached)
			for j := range p {
				if !sameBits(p[j], probs[i][j]) {
					t.Fatalf("hd=%d keys=%v query %d: prob %d = %v, AttentionRow %v", hd, nKeys, i, j, probs[i][j], p[j])
				}
			}
			for d := range out {
				if !sameBits(out[d], outs[i][d]) {
					t.Fatalf("hd=%d keys=%v query %d: out[%d] = %v, AttentionRow %v", hd, nKeys, i, d, outs[i][d], out[d])
				}
			}
		}
	})
}
