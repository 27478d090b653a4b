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
	hd, nh := cfg.HeadDim, cfg.NHead
	group := nh / cfg.NKVHead
	kvDim := cache.KVDim()
	k, v := cache.K(layer), cache.V(layer)
	total := cache.LayerLen(layer)
	scale := float32(1 / math.Sqrt(float64(hd)))
	head := func(h int, probs []float32) {
		off := (h / group) * hd
		for i := 0; i < n; i++ {
			pos := pos0 + i
			nKeys := total
			if cfg.Causal {
				nKeys = pos + 1
			}
			qi := q[(i*nh+h)*hd : (i*nh+h+1)*hd]
			oi := out[(i*nh+h)*hd : (i*nh+h+1)*hd]
			kernels.AttentionRow(oi, probs, qi, k, v, nKeys, kvDim, off, scale, nil, cfg.Causal)
			if sink != nil {
				sink(layer, h, pos, probs[:nKeys])
			}
		}
	}
	if n*total*hd < 1<<15 || nh == 1 {
		pp := getProbs(total)
		for h := 0; h < nh; h++ {
			head(h, *pp)
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
		go func() {
			defer wg.Done()
			pp := getProbs(total)
			for h := w; h < nh; h += workers {
				head(h, *pp)
			}
			probsPool.Put(pp)
		}()
	}
	wg.Wait()
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
