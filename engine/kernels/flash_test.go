package kernels_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/attnscope/attnscope/engine/kernels"
)

// flashCase is one head's problem: n queries at positions pos0… over the keys of a KV layout.
type flashCase struct {
	l       kvLayout
	kvh     int
	q       []float32 // (n, nHead=1, headDim) packed: query i at i*headDim
	n, pos0 int
	mask    kernels.Mask
	scale   float32
	nKeys   int
	headDim int
	qStride int
	qOffset int
}

func newFlashCase(r *rand.Rand, nKeys, n, hd int, mask kernels.Mask) flashCase {
	l := newKV(r, nKeys, 2, hd)
	// Queries in a (n, 3 heads, hd) layout, this head being head 1, to exercise strides.
	q := normal(r, n*3*hd, 1.5)
	return flashCase{l: l, kvh: 1, q: q, n: n, pos0: nKeys - n, mask: mask, scale: float32(1 / math.Sqrt(float64(hd))),
		nKeys: nKeys, headDim: hd, qStride: 3 * hd, qOffset: hd}
}

func (c *flashCase) head() *kernels.Head {
	return &kernels.Head{Q: c.q, QStride: c.qStride, QOff: c.qOffset, K: c.l.k, V: c.l.v, KVStride: c.l.stride(),
		KVOff: c.l.off(c.kvh), HeadDim: c.headDim, NKeys: c.nKeys, Pos0: c.pos0, Scale: c.scale, Mask: c.mask}
}

// flash runs kernels.Flash and returns the outputs (n, hd) and the row statistics.
func (c *flashCase) flash() (out []float32, rowMax []float32, rowSum []float64) {
	buf := make([]float32, len(c.q))
	for i := range buf {
		buf[i] = 7 // other heads' entries must stay untouched
	}
	rowMax, rowSum = make([]float32, c.n), make([]float64, c.n)
	kernels.Flash(buf, c.head(), c.n, rowMax, rowSum, make([]float32, kernels.FlashWorkLen(c.headDim)))
	out = make([]float32, c.n*c.headDim)
	for i := 0; i < c.n; i++ {
		for d := 0; d < c.qStride; d++ {
			inHead := d >= c.qOffset && d < c.qOffset+c.headDim
			if !inHead && buf[i*c.qStride+d] != 7 {
				panic(fmt.Sprintf("Flash wrote outside its head: query %d column %d", i, d))
			}
		}
		copy(out[i*c.headDim:], buf[i*c.qStride+c.qOffset:i*c.qStride+c.qOffset+c.headDim])
	}
	return out, rowMax, rowSum
}

// exact runs AttentionRow for query i with the mask as a -Inf bias, returning out and probs.
func (c *flashCase) exact(i int) (out, probs []float32) {
	pos := c.pos0 + i
	keys := c.nKeys
	if c.mask.Causal {
		keys = pos + 1
	}
	bias := make([]float32, keys)
	for j := range bias {
		if !c.mask.Visible(pos, j, c.nKeys) {
			bias[j] = float32(math.Inf(-1))
		}
	}
	out, probs = make([]float32, c.headDim), make([]float32, keys)
	q := c.q[i*c.qStride+c.qOffset : i*c.qStride+c.qOffset+c.headDim]
	kernels.AttentionRow(out, probs, q, c.l.k, c.l.v, keys, c.l.stride(), c.l.off(c.kvh), c.scale, bias, true)
	if math.IsInf(float64(maxOf(bias)), -1) { // nothing visible: AttentionRow leaves NaN-free zeros
		clear(out)
	}
	return out, probs
}

func maxOf(x []float32) float32 {
	m := float32(math.Inf(-1))
	for _, v := range x {
		m = max(m, v)
	}
	return m
}

var flashMasks = []struct {
	name string
	mask kernels.Mask
}{
	{"causal", kernels.Mask{Causal: true}},
	{"full", kernels.Mask{}},
	{"window7", kernels.Mask{Causal: true, Window: 7}},
	{"window70+global", kernels.Mask{Causal: true, Window: 70, Global: []int{0, 1, 90}}},
	{"bidir-window5+global", kernels.Mask{Window: 5, Global: []int{3, 64}}},
}

// Flash agrees with the exact path (AttentionRow over the same keys, the mask as a bias) on
// outputs and, through FlashProbs, on every probability, for prefill and decode, with strides,
// grouped heads, head sizes the SIMD score kernel takes and ones it leaves to the plain loop.
func TestFlashMatchesAttentionRow(t *testing.T) {
	r := newRand(71)
	var worstOut, worstProb float64
	for _, hd := range []int{8, 20, 48, 64} {
		for _, sh := range []struct{ nKeys, n int }{{1, 1}, {17, 17}, {100, 100}, {130, 1}, {200, 45}, {65, 64}} {
			for _, fm := range flashMasks {
				c := newFlashCase(r, sh.nKeys, sh.n, hd, fm.mask)
				out, rowMax, rowSum := c.flash()
				work := make([]float32, kernels.FlashWorkLen(hd))
				for i := 0; i < c.n; i++ {
					wantOut, wantProbs := c.exact(i)
					for d := range wantOut {
						err := math.Abs(float64(out[i*hd+d] - wantOut[d]))
						worstOut = max(worstOut, err)
						if err > 2e-6 || math.IsNaN(float64(out[i*hd+d])) {
							t.Fatalf("hd=%d keys=%d n=%d %s: query %d out[%d] = %g, exact %g", hd, sh.nKeys, sh.n, fm.name, i, d, out[i*hd+d], wantOut[d])
						}
					}
					probs := make([]float32, len(wantProbs))
					kernels.FlashProbs(probs, c.head(), i, 0, len(probs), rowMax[i], rowSum[i], work)
					for j := range probs {
						err := math.Abs(float64(probs[j] - wantProbs[j]))
						worstProb = max(worstProb, err)
						if err > 1e-6 || (wantProbs[j] == 0) != (probs[j] == 0) {
							t.Fatalf("hd=%d keys=%d n=%d %s: query %d prob[%d] = %g, exact %g", hd, sh.nKeys, sh.n, fm.name, i, j, probs[j], wantProbs[j])
						}
					}
				}
			}
		}
	}
	t.Logf("Flash vs AttentionRow: largest difference %.3g in outputs, %.3g in probabilities", worstOut, worstProb)
}

// FlashProbs over a sub-range equals the same range of the whole row.
func TestFlashProbsRange(t *testing.T) {
	r := newRand(72)
	c := newFlashCase(r, 300, 3, 48, kernels.Mask{Causal: true, Window: 100, Global: []int{5}})
	_, rowMax, rowSum := c.flash()
	work := make([]float32, kernels.FlashWorkLen(48))
	full := make([]float32, 300)
	kernels.FlashProbs(full, c.head(), 2, 0, 300, rowMax[2], rowSum[2], work)
	var sum float64
	for _, p := range full {
		sum += float64(p)
	}
	if math.Abs(sum-1) > 1e-5 {
		t.Errorf("row sums to %g", sum)
	}
	for _, rg := range [][2]int{{0, 1}, {5, 6}, {150, 213}, {199, 300}, {17, 17}} {
		part := make([]float32, rg[1]-rg[0])
		kernels.FlashProbs(part, c.head(), 2, rg[0], rg[1], rowMax[2], rowSum[2], work)
		for j := range part {
			if part[j] != full[rg[0]+j] {
				t.Fatalf("range %v: key %d %g, whole row %g", rg, rg[0]+j, part[j], full[rg[0]+j])
			}
		}
	}
}

// The SIMD kernels Flash dispatches to return the same bits as their plain versions.
func TestFlashSIMDMatchesPlain(t *testing.T) {
	r := newRand(73)
	for _, hd := range []int{16, 40, 48, 64} {
		for _, fm := range flashMasks {
			c := newFlashCase(r, 150, 40, hd, fm.mask)
			out, mx, sm := c.flash()
			restore := kernels.UseSIMD(false)
			pout, pmx, psm := c.flash()
			restore()
			for i := range out {
				if math.Float32bits(out[i]) != math.Float32bits(pout[i]) {
					t.Fatalf("hd=%d %s: out[%d] simd %g plain %g", hd, fm.name, i, out[i], pout[i])
				}
			}
			for i := range mx {
				if mx[i] != pmx[i] || sm[i] != psm[i] {
					t.Fatalf("hd=%d %s: row %d statistics differ", hd, fm.name, i)
				}
			}
		}
	}
}

// A query's output and statistics do not depend on the queries evaluated with it: Flash over a
// block (four queries at a time where there is no window) gives each query the bits of Flash
// over that query alone.
func TestFlashQueriesIndependent(t *testing.T) {
	r := newRand(74)
	for _, hd := range []int{8, 48, 64, 128} {
		for _, fm := range flashMasks {
			c := newFlashCase(r, 300, 37, hd, fm.mask)
			out, mx, sm := c.flash()
			for i := 0; i < c.n; i++ {
				one := c
				one.q, one.n, one.pos0 = c.q[i*c.qStride:(i+1)*c.qStride], 1, c.pos0+i
				o, m, s := one.flash()
				for d := range o {
					if math.Float32bits(o[d]) != math.Float32bits(out[i*hd+d]) {
						t.Fatalf("hd=%d %s: query %d out[%d] = %g in the block, %g alone", hd, fm.name, i, d, out[i*hd+d], o[d])
					}
				}
				if m[0] != mx[i] || s[0] != sm[i] {
					t.Fatalf("hd=%d %s: query %d statistics differ in the block", hd, fm.name, i)
				}
			}
		}
	}
}

func TestMaskVisible(t *testing.T) {
	m := kernels.Mask{Causal: true, Window: 3, Global: []int{0, 6}}
	// Query 5 sees its last three keys 3, 4, 5 and the global key 0; query 6 (global) sees all.
	for j, want := range []bool{true, false, false, true, true, true, false} {
		if got := m.Visible(5, j, 10); got != want {
			t.Errorf("causal window: Visible(5, %d) = %v, want %v", j, got, want)
		}
	}
	for j := 0; j <= 6; j++ {
		if !m.Visible(6, j, 10) {
			t.Errorf("global query 6 does not see key %d", j)
		}
	}
	if m.Visible(6, 7, 10) {
		t.Error("global query 6 sees the later key 7 in a causal model")
	}
	b := kernels.Mask{Window: 2}
	for j, want := range []bool{false, false, true, true, true, false} {
		if got := b.Visible(3, j, 6); got != want {
			t.Errorf("bidirectional window: Visible(3, %d) = %v, want %v", j, got, want)
		}
	}
	var none kernels.Mask
	if !none.Visible(0, 9, 10) || none.Visible(0, 10, 10) {
		t.Error("the zero mask must show every key and nothing beyond them")
	}
}

// VisibleRange is the tightest range around the visible keys.
func TestMaskVisibleRange(t *testing.T) {
	for _, fm := range flashMasks {
		for _, nKeys := range []int{1, 5, 100, 150} {
			for p := 0; p < nKeys; p++ {
				lo, hi := fm.mask.VisibleRange(p, nKeys)
				first, last := -1, -1
				for j := 0; j < nKeys; j++ {
					if fm.mask.Visible(p, j, nKeys) {
						if first < 0 {
							first = j
						}
						last = j
					}
				}
				want := [2]int{first, last + 1}
				if first < 0 {
					want = [2]int{0, 0}
				}
				if [2]int{lo, hi} != want {
					t.Fatalf("%s, %d keys, query %d: VisibleRange [%d, %d), visible keys span [%d, %d)", fm.name, nKeys, p, lo, hi, want[0], want[1])
				}
			}
		}
	}
}

func TestFlashBadLengths(t *testing.T) {
	r := newRand(74)
	c := newFlashCase(r, 10, 4, 8, kernels.Mask{Causal: true})
	w := make([]float32, kernels.FlashWorkLen(8))
	mx, sm := make([]float32, 4), make([]float64, 4)
	out := make([]float32, len(c.q))
	mustPanic(t, "kernels: Flash", func() { kernels.Flash(out[:5], c.head(), 4, mx, sm, w) })
	mustPanic(t, "kernels: Flash", func() { kernels.Flash(out, c.head(), 4, mx[:3], sm, w) })
	mustPanic(t, "kernels: Flash", func() { kernels.Flash(out, c.head(), 4, mx, sm, w[:3]) })
	mustPanic(t, "kernels: Flash", func() { kernels.Flash(out, c.head(), 5, mx, sm, w) })
	h := c.head()
	h.NKeys = 11
	mustPanic(t, "kernels: Flash", func() { kernels.Flash(out, h, 4, mx, sm, w) })
	mustPanic(t, "kernels: FlashProbs", func() { kernels.FlashProbs(make([]float32, 3), c.head(), 0, 0, 4, 0, 1, w) })
	mustPanic(t, "kernels: FlashProbs", func() { kernels.FlashProbs(make([]float32, 30), c.head(), 0, 0, 11, 0, 1, w) })
}

// FuzzFlash checks Flash and FlashProbs against float64 attention on fuzzed shapes, masks and
// values, and the SIMD kernels against the plain ones bit for bit.
func FuzzFlash(f *testing.F) {
	f.Add(uint16(70), uint8(5), uint8(48), uint8(0), uint8(0), uint64(1))
	f.Add(uint16(1), uint8(1), uint8(8), uint8(1), uint8(3), uint64(2))
	f.Add(uint16(300), uint8(40), uint8(20), uint8(9), uint8(5), uint64(3))
	f.Fuzz(func(t *testing.T, nKeys16 uint16, n8, hd8, window, flags uint8, seed uint64) {
		nKeys := int(nKeys16)%400 + 1
		n := min(int(n8)%64+1, nKeys)
		hd := int(hd8)%64 + 1
		r := newRand(seed)
		mask := kernels.Mask{Causal: flags&1 == 0, Window: int(window) % 80}
		if flags&2 != 0 {
			for g := r.IntN(3); g < nKeys; g += 1 + r.IntN(50) {
				mask.Global = append(mask.Global, g)
			}
		}
		c := newFlashCase(r, nKeys, n, hd, mask)
		if flags&4 != 0 && !mask.Causal {
			c.pos0 = r.IntN(nKeys - n + 1) // encoder queries anywhere
		}
		out, rowMax, rowSum := c.flash()
		work := make([]float32, kernels.FlashWorkLen(hd))
		for i := 0; i < n; i++ {
			pos := c.pos0 + i
			bias := make([]float32, nKeys)
			for j := range bias {
				if !mask.Visible(pos, j, nKeys) {
					bias[j] = float32(math.Inf(-1))
				}
			}
			q := c.q[i*c.qStride+c.qOffset : i*c.qStride+c.qOffset+hd]
			wantOut, wantProbs := attention64(q, c.l, c.kvh, c.scale, bias)
			for d := range wantOut {
				if err := math.Abs(float64(out[i*hd+d]) - wantOut[d]); !(err <= 1e-5) {
					t.Fatalf("keys=%d n=%d hd=%d %+v: query %d out[%d] = %g, want %g", nKeys, n, hd, mask, i, d, out[i*hd+d], wantOut[d])
				}
			}
			probs := make([]float32, nKeys)
			kernels.FlashProbs(probs, c.head(), i, 0, nKeys, rowMax[i], rowSum[i], work)
			for j := range probs {
				if err := math.Abs(float64(probs[j]) - wantProbs[j]); !(err <= 1e-6) {
					t.Fatalf("keys=%d n=%d hd=%d %+v: query %d prob[%d] = %g, want %g", nKeys, n, hd, mask, i, j, probs[j], wantProbs[j])
				}
			}
		}
		restore := kernels.UseSIMD(false)
		pout, _, _ := c.flash()
		restore()
		for i := range out {
			if math.Float32bits(out[i]) != math.Float32bits(pout[i]) {
				t.Fatalf("keys=%d n=%d hd=%d: out[%d] simd %g plain %g", nKeys, n, hd, i, out[i], pout[i])
			}
		}
	})
}

// BenchmarkAttentionPrefill evaluates one head's causal prefill of n tokens (n queries over n
// keys, head size 48, a KV layout of 6 heads as in s15m) with Flash and with the exact path
// (AttentionRow per query into an n-long probability row). extra-B/op is the memory each needs
// besides its operands and outputs: Flash's scratch and row statistics, the exact path's row.
func BenchmarkAttentionPrefill(b *testing.B) {
	const hd, nKVHead = 48, 6
	for _, n := range []int{512, 2048, 10000} {
		r := newRand(75)
		l := newKV(r, n, nKVHead, hd)
		q := normal(r, n*hd, 1)
		out := make([]float32, n*hd)
		scale := float32(1 / math.Sqrt(hd))
		pairs := float64(n) * float64(n+1) / 2
		b.Run(fmt.Sprint("flash/n=", n), func(b *testing.B) {
			h := &kernels.Head{Q: q, QStride: hd, K: l.k, V: l.v, KVStride: l.stride(), HeadDim: hd, NKeys: n, Scale: scale,
				Mask: kernels.Mask{Causal: true}}
			work := make([]float32, kernels.FlashWorkLen(hd))
			rowMax, rowSum := make([]float32, n), make([]float64, n)
			b.ReportAllocs()
			for b.Loop() {
				kernels.Flash(out, h, n, rowMax, rowSum, work)
			}
			b.ReportMetric(float64(4*len(work)+4*n+8*n), "extra-B/op")
			flops(b, 4*hd*pairs)
		})
		if n > 2048 && testing.Short() {
			continue
		}
		b.Run(fmt.Sprint("exact/n=", n), func(b *testing.B) {
			probs := make([]float32, n)
			b.ReportAllocs()
			for b.Loop() {
				for i := 0; i < n; i++ {
					kernels.AttentionRow(out[i*hd:(i+1)*hd], probs, q[i*hd:(i+1)*hd], l.k, l.v, i+1, l.stride(), 0, scale, nil, true)
				}
			}
			b.ReportMetric(float64(4*n), "extra-B/op")
			flops(b, 4*hd*pairs)
		})
	}
}

// BenchmarkAttentionDecode evaluates one head's decode step: one query over n cached keys, with
// Flash and with the exact path.
func BenchmarkAttentionDecode(b *testing.B) {
	const hd, nKVHead = 48, 6
	for _, n := range []int{512, 2048, 10000} {
		r := newRand(76)
		l := newKV(r, n, nKVHead, hd)
		q := normal(r, hd, 1)
		out := make([]float32, hd)
		scale := float32(1 / math.Sqrt(hd))
		b.Run(fmt.Sprint("flash/n=", n), func(b *testing.B) {
			h := &kernels.Head{Q: q, QStride: hd, K: l.k, V: l.v, KVStride: l.stride(), HeadDim: hd, NKeys: n, Pos0: n - 1,
				Scale: scale, Mask: kernels.Mask{Causal: true}}
			work := make([]float32, kernels.FlashWorkLen(hd))
			rowMax, rowSum := make([]float32, 1), make([]float64, 1)
			b.ReportAllocs()
			for b.Loop() {
				kernels.Flash(out, h, 1, rowMax, rowSum, work)
			}
			b.ReportMetric(float64(4*len(work)+12), "extra-B/op")
			flops(b, 4*hd*float64(n))
		})
		b.Run(fmt.Sprint("exact/n=", n), func(b *testing.B) {
			probs := make([]float32, n)
			b.ReportAllocs()
			for b.Loop() {
				kernels.AttentionRow(out, probs, q, l.k, l.v, n, l.stride(), 0, scale, nil, true)
			}
			b.ReportMetric(float64(4*n), "extra-B/op")
			flops(b, 4*hd*float64(n))
		})
	}
}
