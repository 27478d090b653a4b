package model

import (
	"math"
	"runtime"
	"sort"
	"sync"

	"github.com/attnscope/attnscope/engine/backend"
	"github.com/attnscope/attnscope/engine/kernels"
	"github.com/attnscope/attnscope/engine/kvcache"
	"github.com/attnscope/attnscope/engine/quant"
)

// SelfAttention computes multi-head attention for n new queries at positions pos0 … pos0+n-1
// whose keys and values are already in cache layer `layer`. q is (n, NHead, HeadDim); out
// receives (n, NHead, HeadDim). Query head h reads KV head h / (NHead/NKVHead). Causal models
// see keys 0…pos, encoders all cached keys, both restricted further by b.Window and b.Global.
// Heads run in parallel on up to par.Threads threads (see Parallel); each head hands its rows to
// b.Attn (and pieces of rows to b.AttnPool) in position order.
//
// Two ways compute it. The exact way (kernels.AttentionRow) holds one query's whole row of
// probabilities at a time, in llama.cpp's summation order; it runs when b.ExactAttention is
// set, when b.Attn wants every row, for one query without a window, and below flashMinKeys
// keys, where a row is small and agreeing with llama.cpp to the last bit is worth more than the
// tiles. Otherwise the tiled way (kernels.Flash) computes the outputs with an online softmax,
// and only where something is captured a second pass (kernels.FlashProbs) recomputes the
// probabilities tile by tile from each row's maximum and sum, whole rows only for the positions
// in b.AttnRows. Neither ever holds n×n values. b may be nil (nothing captured, no window).
//
// An F16 cache's values are widened head by head into the worker's scratch for both ways,
// except for a decoded token (one query, no window, every value of the layer finite, vector
// kernels for the head): it reads the binary16 keys and values themselves
// (kernels.AttentionRowHalf), half the bytes.
func SelfAttention(cfg *Config, layer int, out, q []float32, cache *kvcache.Cache, pos0, n int, b *Batch, par Parallel) {
	a := attnJob{cfg: cfg, layer: layer, out: out, q: q, k: cache.K(layer), v: cache.V(layer),
		headStride: cache.HeadStride(layer), total: cache.LayerLen(layer), pos0: pos0, n: n,
		scale: float32(1 / math.Sqrt(float64(cfg.HeadDim)))}
	if cache.Type() == kvcache.F16 {
		a.k16, a.v16, a.finite = cache.K16(layer), cache.V16(layer), cache.Finite(layer)
	}
	a.mask = kernels.Mask{Causal: cfg.Causal}
	a.exact = a.total < flashMinKeys
	if b != nil {
		a.sink, a.rows, a.pool = b.Attn, b.AttnRows, b.AttnPool
		a.exact = a.exact || b.ExactAttention || (b.Attn != nil && b.AttnRows == nil)
		if b.Window > 0 {
			a.mask.Window, a.mask.Global = b.Window, b.Global
		}
	}
	// One query (a decoded token) reuses no tile and its row is O(keys) floats: the exact way is
	// faster at every length (kernels' BenchmarkAttentionDecode: 47 against 66 µs a head over
	// 2,048 keys). A window keeps the tiles, which visit only the keys it shows.
	a.exact = a.exact || n == 1 && a.mask.Window == 0
	// Rows are pooled at the cache's capacity so that a growing cache does not outgrow them.
	a.rowLen = max(a.total, cache.Capacity())
	nh := cfg.NHead
	if n*a.total*cfg.HeadDim < parallelMinWork || nh == 1 || par.Threads <= 1 {
		sc := getScratch(&a)
		for h := 0; h < nh; h++ {
			a.head(h, sc)
		}
		scratchPool.Put(sc)
		return
	}
	// par.Threads at most, each taking heads w, w+workers, … with its own scratch.
	t := headsPool.Get().(*headsTask)
	t.a, t.workers = a, min(nh, par.Threads)
	if par.Runner != nil {
		par.Runner.Run(t.workers, t)
	} else {
		var wg sync.WaitGroup
		wg.Add(t.workers - 1)
		for w := 1; w < t.workers; w++ {
			go func() {
				defer wg.Done()
				t.Run(w)
			}()
		}
		t.Run(0)
		wg.Wait()
	}
	t.a = attnJob{}
	headsPool.Put(t)
}

// Parallel is how SelfAttention runs heads side by side: on Threads at most, on the backend's
// own threads where Runner is set (nothing started or allocated for a decoded token), else on
// goroutines.
type Parallel struct {
	Threads int
	Runner  backend.Runner
}

// ParallelOf is the Parallel of backend be: as many threads as it runs a product on (its
// Threads method), or GOMAXPROCS where it does not say, so that a backend made for one thread
// computes attention on one too; be itself as the Runner where it is one.
func ParallelOf(be any) Parallel {
	p := Parallel{Threads: runtime.GOMAXPROCS(0)}
	if t, ok := be.(interface{ Threads() int }); ok && t.Threads() > 0 {
		p.Threads = t.Threads()
	}
	if r, ok := be.(backend.Runner); ok {
		p.Runner = r
	}
	return p
}

// headsTask is a SelfAttention call's heads for a backend.Runner: part w takes heads w,
// w+workers, … with its own scratch.
type headsTask struct {
	a       attnJob
	workers int
}

func (t *headsTask) Run(w int) {
	sc := getScratch(&t.a)
	for h := w; h < t.a.cfg.NHead; h += t.workers {
		t.a.head(h, sc)
	}
	scratchPool.Put(sc)
}

// headsPool keeps headsTasks between calls.
var headsPool = sync.Pool{New: func() any { return new(headsTask) }}

// parallelMinWork is the least work (queries × keys × head values) whose heads SelfAttention
// spreads over threads. A decoded token's heads over a few hundred keys are worth it: two
// threads decoded s15m Q8_0 at 618 instead of 566 tok/s and s110m Q8_0 at 105 instead of 102
// (means of five alternating runs, 128 + 64 tokens) with 1<<12 instead of 1<<15, on new
// goroutines; on the backend's workers (Parallel.Runner) a handoff costs less still.
const parallelMinWork = 1 << 12

// flashMinKeys is the fewest keys for which SelfAttention uses the tiled way. Below it the
// exact way's rows are a few KiB, and its summation order keeps logits as close to llama.cpp as
// the reference tests measure (the tiled way's last-bit differences grow to 1e-3 in the logits
// of the synthetic GPT-2 model).
var flashMinKeys = 512

// attnJob is one SelfAttention call's arguments, shared by the heads.
type attnJob struct {
	cfg          *Config
	layer        int
	out, q, k, v []float32
	k16, v16     []uint16 // an F16 cache's keys and values instead of k and v
	finite       bool     // every binary16 value of k16 and v16 is finite
	headStride   int      // from one KV head's keys to the next one's; a head's keys are headDim apart
	total        int
	pos0, n      int
	scale        float32
	mask         kernels.Mask
	exact        bool
	rowLen       int
	sink         AttnSink
	rows         []int
	pool         AttnPool
}

// scratch is one worker's buffers: probability rows (the exact way, four queries at a time, and
// whole captured rows) and a bias row, the tiled way's work and per-query statistics, and a
// head's keys and values widened from an F16 cache.
type scratch struct {
	kw, vw []float32 // (keys, headDim)
	probs  []float32 // (rowLen, AttentionRowsAtOnce of them for the exact way)
	bias   []float32 // (rowLen)
	work   []float32 // (FlashWorkLen)
	rowMax []float32 // (n)
	rowSum []float64 // (n)
}

// scratchPool keeps workers' buffers between evaluations.
var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// getScratch returns pooled buffers sized for a; put them back with scratchPool.Put.
func getScratch(a *attnJob) *scratch {
	sc := scratchPool.Get().(*scratch)
	rows := 1
	if a.exact {
		rows = kernels.AttentionRowsAtOnce // queries four at a time
	}
	sc.probs = grow(sc.probs, rows*a.rowLen)
	if a.exact && a.mask.Window > 0 {
		sc.bias = grow(sc.bias, a.rowLen)
	}
	if !a.exact {
		sc.work = grow(sc.work, kernels.FlashWorkLen(a.cfg.HeadDim))
		sc.rowMax = grow(sc.rowMax, a.n)
		if cap(sc.rowSum) < a.n {
			sc.rowSum = make([]float64, a.n)
		}
		sc.rowSum = sc.rowSum[:a.n]
	}
	return sc
}

func grow(x []float32, n int) []float32 {
	if cap(x) < n {
		return make([]float32, n)
	}
	return x[:n]
}

// keys is the number of keys the query at pos may see under the causal rule.
func (a *attnJob) keys(pos int) int {
	if a.cfg.Causal {
		return pos + 1
	}
	return a.total
}

// wantsRow reports whether the sink takes the whole row of the query at pos.
func (a *attnJob) wantsRow(pos int) bool {
	if a.sink == nil {
		return false
	}
	if a.rows == nil {
		return true
	}
	i := sort.SearchInts(a.rows, pos)
	return i < len(a.rows) && a.rows[i] == pos
}

// kv returns the keys and values query head h reads and the offset of its KV head's first
// key in them (a head's keys are headDim apart): the cache's storage, or for an F16 cache the
// head's keys and values widened into sc.
func (a *attnJob) kv(h int, sc *scratch) (k, v []float32, off int) {
	cfg := a.cfg
	off = (h / (cfg.NHead / cfg.NKVHead)) * a.headStride
	if a.k16 == nil {
		return a.k, a.v, off
	}
	m := a.total * cfg.HeadDim
	sc.kw, sc.vw = grow(sc.kw, m), grow(sc.vw, m)
	widen(sc.kw, a.k16[off:off+m], a.finite)
	widen(sc.vw, a.v16[off:off+m], a.finite)
	return sc.kw, sc.vw, 0
}

// widen decodes binary16 bits src into dst: finite ones on the vector kernels, any exactly.
func widen(dst []float32, src []uint16, finite bool) {
	if finite {
		kernels.WidenFiniteHalves(dst, src)
		return
	}
	for i, h := range src {
		dst[i] = quant.F16ToF32(h)
	}
}

// head computes the n query rows of head h.
func (a *attnJob) head(h int, sc *scratch) {
	if a.k16 != nil && a.finite && a.n == 1 && a.mask.Window == 0 && kernels.HalfVectors(a.cfg.HeadDim) {
		// A decoded token reads the binary16 keys and values themselves: half the bytes.
		cfg := a.cfg
		hd, nh := cfg.HeadDim, cfg.NHead
		nKeys := a.keys(a.pos0)
		probs := sc.probs[:nKeys]
		kernels.AttentionRowHalf(a.out[h*hd:(h+1)*hd], probs, a.q[h*hd:(h+1)*hd], a.k16, a.v16, nKeys, hd,
			(h/(nh/cfg.NKVHead))*a.headStride, a.scale)
		a.deliver(h, a.pos0, probs)
		return
	}
	k, v, off := a.kv(h, sc)
	if a.exact {
		a.headExact(h, sc, k, v, off)
		return
	}
	cfg := a.cfg
	hd, nh := cfg.HeadDim, cfg.NHead
	kh := &kernels.Head{Q: a.q, QStride: nh * hd, QOff: h * hd, K: k, V: v, KVStride: hd,
		KVOff: off, HeadDim: hd, NKeys: a.total, Pos0: a.pos0, Scale: a.scale, Mask: a.mask}
	kernels.Flash(a.out, kh, a.n, sc.rowMax, sc.rowSum, sc.work)
	if a.pool == nil && a.sink == nil {
		return
	}
	for i := 0; i < a.n; i++ {
		pos := a.pos0 + i
		nKeys := a.keys(pos)
		if a.wantsRow(pos) {
			row := sc.probs[:nKeys]
			kernels.FlashProbs(row, kh, i, 0, nKeys, sc.rowMax[i], sc.rowSum[i], sc.work)
			a.sink(a.layer, h, pos, row)
			if a.pool != nil {
				a.pool(a.layer, h, pos, 0, row)
			}
			continue
		}
		if a.pool == nil {
			continue
		}
		// Piece by piece over the run of keys the row can see (hidden keys add nothing to a
		// pooled map), so that a sliding window costs O(window) per row here too.
		lo, hi := a.mask.VisibleRange(pos, a.total)
		hi = min(hi, nKeys)
		for j0 := lo; j0 < hi; j0 += poolPiece {
			j1 := min(hi, j0+poolPiece)
			piece := sc.probs[:j1-j0]
			kernels.FlashProbs(piece, kh, i, j0, j1, sc.rowMax[i], sc.rowSum[i], sc.work)
			a.pool(a.layer, h, pos, j0, piece)
		}
	}
}

// poolPiece is the most keys of one row handed to a pool at once.
const poolPiece = 256

// headExact computes the n query rows of head h one whole row at a time, its keys and values
// in k and v from off (kv).
func (a *attnJob) headExact(h int, sc *scratch, k, v []float32, off int) {
	cfg := a.cfg
	hd, nh := cfg.HeadDim, cfg.NHead
	negInf := float32(math.Inf(-1))
	i := 0
	if a.mask.Window == 0 {
		// Four queries at a time share the keys' loads (the same bits as one at a time).
		const four = kernels.AttentionRowsAtOnce
		var outs, probs, qs [four][]float32
		var nKeys [four]int
		for ; i+four <= a.n; i += four {
			for r := range four {
				pos := a.pos0 + i + r
				nKeys[r] = a.keys(pos)
				qs[r] = a.q[((i+r)*nh+h)*hd : ((i+r)*nh+h+1)*hd]
				outs[r] = a.out[((i+r)*nh+h)*hd : ((i+r)*nh+h+1)*hd]
				probs[r] = sc.probs[r*a.rowLen : r*a.rowLen+nKeys[r]]
			}
			kernels.AttentionRows(outs[:], probs[:], qs[:], k, v, nKeys[:], hd, off, a.scale, cfg.Causal)
			for r := range four {
				a.deliver(h, a.pos0+i+r, probs[r])
			}
		}
	}
	for ; i < a.n; i++ {
		pos := a.pos0 + i
		nKeys := a.keys(pos)
		var bias []float32
		if a.mask.Window > 0 {
			bias = sc.bias[:nKeys]
			for j := range bias {
				bias[j] = 0
				if !a.mask.Visible(pos, j, a.total) {
					bias[j] = negInf
				}
			}
		}
		qi := a.q[(i*nh+h)*hd : (i*nh+h+1)*hd]
		oi := a.out[(i*nh+h)*hd : (i*nh+h+1)*hd]
		probs := sc.probs[:nKeys]
		kernels.AttentionRow(oi, probs, qi, k, v, nKeys, hd, off, a.scale, bias, cfg.Causal)
		a.deliver(h, pos, probs)
	}
}

// deliver hands the probabilities of the query at pos, head h, to the sink (when it wants the
// row) and the pooled map.
func (a *attnJob) deliver(h, pos int, probs []float32) {
	if a.wantsRow(pos) {
		a.sink(a.layer, h, pos, probs)
	}
	if a.pool != nil {
		a.pool(a.layer, h, pos, 0, probs)
	}
}
