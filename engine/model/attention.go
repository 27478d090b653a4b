package model

import (
	"math"
	"runtime"
	"sync"

	"github.com/attnscope/attnscope/engine/kernels"
	"github.com/attnscope/attnscope/engine/kvcache"
)

// SelfAttention computes multi-head attention for n new queries at positions pos0 … pos0+n-1
// whose keys and values are already in cache layer `layer`. q is (n, NHead, HeadDim); out
// receives (n, NHead, HeadDim). Query head h reads KV head h / (NHead/NKVHead). Causal models
// see keys 0…pos, encoders all cached keys. Heads run in parallel; each head hands its rows to
// sink in position order.
func SelfAttention(cfg *Config, layer int, out, q []float32, cache *kvcache.Cache, pos0, n int, sink AttnSink) {
	a := attnJob{cfg: cfg, layer: layer, out: out, q: q, k: cache.K(layer), v: cache.V(layer),
		kvDim: cache.KVDim(), total: cache.LayerLen(layer), pos0: pos0, n: n, sink: sink,
		scale: float32(1 / math.Sqrt(float64(cfg.HeadDim)))}
	// Rows are pooled at the cache's capacity so that a growing cache does not outgrow them.
	rowLen := max(a.total, cache.Capacity())
	nh := cfg.NHead
	if n*a.total*cfg.HeadDim < 1<<15 || nh == 1 {
		pp := getProbs(rowLen)
		for h := 0; h < nh; h++ {
			a.head(h, *pp)
		}
		probsPool.Put(pp)
		return
	}
	// One goroutine per processor at most, each taking heads w, w+workers, … with its own
	// probability row.
	workers := min(nh, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	wg.Add(workers)
	for w := 0; w < workers; w++ {
		go func(a attnJob) { // a copy, so that the caller's stays on its stack
			defer wg.Done()
			pp := getProbs(rowLen)
			for h := w; h < nh; h += workers {
				a.head(h, *pp)
			}
			probsPool.Put(pp)
		}(a)
	}
	wg.Wait()
}

// attnJob is one SelfAttention call's arguments, shared by the heads.
type attnJob struct {
	cfg          *Config
	layer        int
	out, q, k, v []float32
	kvDim, total int
	pos0, n      int
	scale        float32
	sink         AttnSink
}

// head computes the n query rows of head h with probs as the probability row.
func (a *attnJob) head(h int, probs []float32) {
	cfg := a.cfg
	hd, nh := cfg.HeadDim, cfg.NHead
	off := (h / (nh / cfg.NKVHead)) * hd
	for i := 0; i < a.n; i++ {
		pos := a.pos0 + i
		nKeys := a.total
		if cfg.Causal {
			nKeys = pos + 1
		}
		qi := a.q[(i*nh+h)*hd : (i*nh+h+1)*hd]
		oi := a.out[(i*nh+h)*hd : (i*nh+h+1)*hd]
		kernels.AttentionRow(oi, probs, qi, a.k, a.v, nKeys, a.kvDim, off, a.scale, nil, cfg.Causal)
		if a.sink != nil {
			a.sink(a.layer, h, pos, probs[:nKeys])
		}
	}
}

// probsPool keeps probability rows between evaluations.
var probsPool = sync.Pool{New: func() any { return new([]float32) }}

// getProbs returns a pooled row of at least n values; put it back with probsPool.Put.
func getProbs(n int) *[]float32 {
	pp := probsPool.Get().(*[]float32)
	if cap(*pp) < n {
		*pp = make([]float32, n)
	}
	*pp = (*pp)[:n]
	return pp
}
