package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/attnscope/attnscope/engine/kernels"
	"github.com/attnscope/attnscope/engine/kvcache"
)

// attnSetup fills a cache of one layer with total random positions and returns queries for the
// last n of them.
func attnSetup(t *testing.T, cfg *Config, total, n int) (*kvcache.Cache, []float32) {
	t.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	c := kvcache.New(1, cfg.NKVHead, cfg.HeadDim, total+8)
	kv := make([]float32, total*cfg.NKVHead*cfg.HeadDim)
	vv := make([]float32, len(kv))
	for i := range kv {
		kv[i], vv[i] = float32(r.NormFloat64()), float32(r.NormFloat64())
	}
	if err := c.Append(0, kv, vv); err != nil {
		t.Fatal(err)
	}
	q := make([]float32, n*cfg.NHead*cfg.HeadDim)
	for i := range q {
		q[i] = float32(1.5 * r.NormFloat64())
	}
	return c, q
}

type captured struct {
	rows map[[3]int][]float32 // (head, pos, 0) → row
	pool map[[2]int][]float64 // (head, pos) → row assembled from pieces
}

// capture records what b's sinks receive; pooled pieces are laid into rows of total keys.
func capture(b *Batch, total int) *captured {
	c := &captured{rows: map[[3]int][]float32{}, pool: map[[2]int][]float64{}}
	var mu sync.Mutex
	b.Attn = func(layer, head, pos int, probs []float32) {
		mu.Lock()
		defer mu.Unlock()
		c.rows[[3]int{head, pos, 0}] = append([]float32(nil), probs...)
	}
	next := map[[2]int]int{}
	b.AttnPool = func(layer, head, pos, j0 int, probs []float32) {
		mu.Lock()
		defer mu.Unlock()
		k := [2]int{head, pos}
		if j0 < next[k] {
			panic("pool pieces out of order")
		}
		if c.pool[k] == nil {
			c.pool[k] = make([]float64, total)
		}
		for j, p := range probs {
			c.pool[k][j0+j] = float64(p)
		}
		next[k] = j0 + len(probs)
	}
	return c
}

// The tiled way agrees with the exact way on outputs, captured rows and pooled pieces, with and
// without a window and global tokens, for prefill and decode, grouped heads included.
func TestSelfAttentionTiledMatchesExact(t *testing.T) {
	defer func(v int) { flashMinKeys = v }(flashMinKeys)
	for _, causal := range []bool{true, false} {
		for _, win := range []struct {
			w int
			g []int
		}{{0, nil}, {9, []int{0, 40}}} {
			for _, n := range []int{1, 70} {
				cfg := &Config{NHead: 4, NKVHead: 2, HeadDim: 16, Causal: causal}
				total := 150
				cache, q := attnSetup(t, cfg, total, n)
				pos0 := total - n
				run := func(tiled bool) ([]float32, *captured) {
					flashMinKeys = 1 << 30
					if tiled {
						flashMinKeys = 0
					}
					b := &Batch{Window: win.w, Global: win.g}
					c := capture(b, total)
					b.AttnRows = []int{pos0, total - 1}
					out := make([]float32, len(q))
					SelfAttention(cfg, 0, out, q, cache, pos0, n, b, ParallelOf(nil))
					return out, c
				}
				eo, ec := run(false)
				to, tc := run(true)
				for i := range eo {
					if d := math.Abs(float64(eo[i] - to[i])); d > 2e-6 {
						t.Fatalf("causal=%v window=%d n=%d: out[%d] tiled %g exact %g", causal, win.w, n, i, to[i], eo[i])
					}
				}
				if len(ec.rows) != len(tc.rows) || len(tc.rows) != cfg.NHead*min(n, 2) {
					t.Fatalf("rows captured: exact %d, tiled %d", len(ec.rows), len(tc.rows))
				}
				for k, er := range ec.rows {
					tr := tc.rows[k]
					if len(tr) != len(er) {
						t.Fatalf("row %v: %d keys tiled, %d exact", k, len(tr), len(er))
					}
					for j := range er {
						if math.Abs(float64(er[j]-tr[j])) > 1e-6 {
							t.Fatalf("row %v key %d: tiled %g exact %g", k, j, tr[j], er[j])
						}
					}
				}
				if len(ec.pool) != cfg.NHead*n || len(tc.pool) != len(ec.pool) {
					t.Fatalf("pooled rows: exact %d, tiled %d, want %d", len(ec.pool), len(tc.pool), cfg.NHead*n)
				}
				for k, er := range ec.pool {
					tr := tc.pool[k]
					for j := range er {
						if math.Abs(er[j]-tr[j]) > 1e-6 {
							t.Fatalf("pooled %v key %d: tiled %g exact %g", k, j, tr[j], er[j])
						}
					}
					m := kernels.Mask{Causal: causal, Window: win.w, Global: win.g}
					for j := range er {
						if m.Visible(k[1], j, total) && er[j] == 0 {
							t.Fatalf("pooled %v key %d: visible key with probability 0", k, j)
						}
						if !m.Visible(k[1], j, total) && er[j] != 0 {
							t.Fatalf("pooled %v key %d: hidden key with probability %g", k, j, er[j])
						}
					}
				}
			}
		}
	}
}

func TestCheckBatchMaskAndRows(t *testing.T) {
	cfg := &Config{NVocab: 10, NHead: 1, NKVHead: 1, HeadDim: 4}
	c := kvcache.New(1, 1, 4, 16)
	for _, b := range []*Batch{
		{Tokens: []int32{1}, Cache: c, Window: -1},
		{Tokens: []int32{1}, Cache: c, Window: 4, Global: []int{3, 2}},
		{Tokens: []int32{1}, Cache: c, Window: 4, Global: []int{16}},
		{Tokens: []int32{1}, Cache: c, AttnRows: []int{-1}},
		{Tokens: []int32{1}, Cache: c, AttnRows: []int{4, 4}},
	} {
		if err := CheckBatch(cfg, b); err == nil {
			t.Errorf("window %d global %v rows %v: accepted", b.Window, b.Global, b.AttnRows)
		}
	}
	if err := CheckBatch(cfg, &Batch{Tokens: []int32{1}, Cache: c, Window: 4, Global: []int{0, 15}, AttnRows: []int{0, 3}}); err != nil {
		t.Error(err)
	}
}

// halfPair returns an F16 cache of one layer and a float32 cache holding the same values rounded
// to binary16, total random positions each (big, when set, is stored in one value of each
// cache: beyond binary16's range), and queries for the last n positions.
func halfPair(t *testing.T, cfg *Config, total, n int, big float32) (half, rounded *kvcache.Cache, q []float32) {
	t.Helper()
	r := rand.New(rand.NewPCG(5, 6))
	half = kvcache.NewOf(kvcache.F16, 1, cfg.NKVHead, cfg.HeadDim, total+8)
	rounded = kvcache.New(1, cfg.NKVHead, cfg.HeadDim, total+8)
	d := cfg.NKVHead * cfg.HeadDim
	k, v := make([]float32, total*d), make([]float32, total*d)
	for i := range k {
		k[i], v[i] = float32(r.NormFloat64()), float32(r.NormFloat64())
	}
	if big != 0 {
		v[(total/2)*d+3] = big
	}
	if err := half.Append(0, k, v); err != nil {
		t.Fatal(err)
	}
	kr, vr := make([]float32, total*d), make([]float32, total*d)
	half.Positions(0, 0, total, kr, vr)
	if err := rounded.Append(0, kr, vr); err != nil {
		t.Fatal(err)
	}
	q = make([]float32, n*cfg.NHead*cfg.HeadDim)
	for i := range q {
		q[i] = float32(1.5 * r.NormFloat64())
	}
	return half, rounded, q
}

// Attention over an F16 cache is attention over its values widened: the same bits as a float32
// cache holding them for prompts, windows and tiles (the same kernels on the widened values),
// and within float32 rounding for a decoded token, which reads the binary16 values itself
// (AttentionRowHalf) — except where a value is infinite, when it too widens them, to the bit.
func TestSelfAttentionHalfCache(t *testing.T) {
	defer func(v int) { flashMinKeys = v }(flashMinKeys)
	for _, big := range []float32{0, 1e6} {
		for _, causal := range []bool{true, false} {
			for _, win := range []int{0, 9} {
				for _, n := range []int{1, 70} {
					for _, tiled := range []bool{false, true} {
						cfg := &Config{NHead: 4, NKVHead: 2, HeadDim: 16, Causal: causal}
						total := 150
						half, rounded, q := halfPair(t, cfg, total, n, big)
						pos0 := total - n
						flashMinKeys = 1 << 30
						if tiled {
							flashMinKeys = 0
						}
						run := func(c *kvcache.Cache) ([]float32, *captured) {
							b := &Batch{Window: win}
							cp := capture(b, total)
							b.AttnRows = []int{pos0, total - 1}
							out := make([]float32, len(q))
							SelfAttention(cfg, 0, out, q, c, pos0, n, b, ParallelOf(nil))
							return out, cp
						}
						ho, hc := run(half)
						ro, rc := run(rounded)
						exact := n > 1 || win > 0 || big != 0
						tol := 0.0
						if !exact {
							tol = 2e-6
						}
						name := func() string {
							return fmt.Sprintf("big=%g causal=%v window=%d n=%d tiled=%v", big, causal, win, n, tiled)
						}
						for i := range ho {
							if !near(ho[i], ro[i], tol) {
								t.Fatalf("%s: out[%d] F16 cache %g, its values in float32 %g", name(), i, ho[i], ro[i])
							}
						}
						if len(hc.rows) != len(rc.rows) || len(hc.pool) != len(rc.pool) || len(hc.rows) == 0 {
							t.Fatalf("%s: captured %d rows and %d pooled, against %d and %d", name(), len(hc.rows), len(hc.pool), len(rc.rows), len(rc.pool))
						}
						for key, row := range rc.rows {
							for j := range row {
								if !near(hc.rows[key][j], row[j], tol) {
									t.Fatalf("%s: row %v key %d: %g against %g", name(), key, j, hc.rows[key][j], row[j])
								}
							}
						}
					}
				}
			}
		}
	}
}

// near reports x and y within tol, or the same bits (NaN included) for tol 0.
func near(x, y float32, tol float64) bool {
	if tol == 0 {
		return math.Float32bits(x) == math.Float32bits(y) || x != x && y != y
	}
	return math.Abs(float64(x-y)) <= tol
}
