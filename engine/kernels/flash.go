package kernels

import (
	"math"
	"sort"
)

// Tile sizes of Flash: queries are taken in blocks of flashBq, keys in tiles of flashBk, so
// that one tile of keys and values (flashBk·headDim floats each) stays in the L1 cache while
// every query of the block passes over it.
const (
	flashBq = 32
	flashBk = 128
)

// Mask says which keys a query sees. Positions are absolute: query p, key j.
//
//	visible(p, j) = (!Causal || j ≤ p) && (Window == 0 || near(p, j) || global(p) || global(j))
//
// where near(p, j) is p−Window < j ≤ p for causal models (each query sees its last Window keys,
// itself included, as Longformer's sliding window) and |p−j| < Window for bidirectional ones,
// and global(x) says x is in Global (BigBird-style global tokens: they see every key and every
// query sees them). Global only matters with a window. The zero Mask shows every key.
type Mask struct {
	Causal bool
	Window int   // 0: no window
	Global []int // ascending positions of the global tokens
}

// isGlobal reports whether position x is a global token.
func (m *Mask) isGlobal(x int) bool {
	i := sort.SearchInts(m.Global, x)
	return i < len(m.Global) && m.Global[i] == x
}

// span returns, for the query at position p over nKeys keys, the keys [0, end) the causal
// rule allows and the contiguous run [lo, hi) of them the window allows (all of [0, end) when
// there is no window or p is global); global keys outside [lo, hi) but below end are visible too.
func (m *Mask) span(p, nKeys int) (lo, hi, end int) {
	end = nKeys
	if m.Causal {
		end = min(nKeys, p+1)
	}
	if m.Window <= 0 || (len(m.Global) > 0 && m.isGlobal(p)) {
		return 0, end, end
	}
	lo = max(0, p-m.Window+1)
	hi = end
	if !m.Causal {
		hi = min(end, p+m.Window)
	}
	if lo > hi {
		lo = hi
	}
	return lo, hi, end
}

// VisibleRange returns the smallest run of keys [lo, hi) of nKeys that holds every key the query
// at position p sees (its window, and the global keys before its causal end).
func (m *Mask) VisibleRange(p, nKeys int) (lo, hi int) {
	lo, hi, end := m.span(p, nKeys)
	if lo >= hi {
		lo, hi = end, 0 // no window run
	}
	if n := sort.SearchInts(m.Global, end); n > 0 { // the global keys below end: Global[:n]
		lo = min(lo, m.Global[0])
		hi = max(hi, m.Global[n-1]+1)
	}
	if lo >= hi {
		return 0, 0
	}
	return lo, hi
}

// Visible reports whether the query at position p sees key j (of nKeys).
func (m *Mask) Visible(p, j, nKeys int) bool {
	lo, hi, end := m.span(p, nKeys)
	if j < 0 || j >= end {
		return false
	}
	return (j >= lo && j < hi) || m.isGlobal(j)
}

// Head is one attention head's operands for Flash and FlashProbs. Query i (at position Pos0+i)
// is Q[i*QStride+QOff : i*QStride+QOff+HeadDim]; key and value j are
// K[j*KVStride+KVOff : …+HeadDim] and the same of V, for j < NKeys. Scores are Scale·q·k.
type Head struct {
	Q               []float32
	QStride, QOff   int
	K, V            []float32
	KVStride, KVOff int
	HeadDim, NKeys  int
	Pos0            int
	Scale           float32
	Mask            Mask
}

// FlashWorkLen is the length of the scratch Flash and FlashProbs need for heads of size hd:
// a tile's scores and a partial output for each of AttentionRowsAtOnce queries.
func FlashWorkLen(hd int) int { return AttentionRowsAtOnce * (flashBk + hd) }

// check validates h for n queries.
func (h *Head) check(name string, n int) {
	hd := h.HeadDim
	if hd <= 0 || n < 0 || h.NKeys < 0 || h.Pos0 < 0 {
		panic("kernels: " + name + ": bad head shape")
	}
	if n > 0 && len(h.Q) < (n-1)*h.QStride+h.QOff+hd {
		panic("kernels: " + name + ": queries too short")
	}
	if h.NKeys > 0 && (len(h.K) < (h.NKeys-1)*h.KVStride+h.KVOff+hd || len(h.V) < (h.NKeys-1)*h.KVStride+h.KVOff+hd) {
		panic("kernels: " + name + ": keys or values too short")
	}
}

// Flash computes the attention of the n queries of h, the FlashAttention way: keys are visited
// in tiles with an online softmax (a running maximum and sum per query, the partial output
// rescaled whenever the maximum grows), so the extra memory is work (FlashWorkLen floats) and
// no n×n scores exist. Query i's output goes to out[i*QStride+QOff : …+HeadDim] (out has the
// layout of h.Q), and rowMax[i], rowSum[i] receive its softmax statistics: the probability of
// key j is e(Scale·q_i·k_j − rowMax[i]) / rowSum[i], e being softmaxExp (ExpApprox;
// expUnfused on WebAssembly), and FlashProbs computes it again. A query that sees no key gets a
// zero output and rowSum 0.
//
// It agrees with AttentionRow (same scores, the same exponential) to rounding: the exponentials
// are taken against the running maximum and rescaled, where AttentionRow takes them against the
// row's maximum. Tiles the mask hides entirely are skipped, so a sliding window of W costs
// O(n·W) rather than O(n²).
func Flash(out []float32, h *Head, n int, rowMax []float32, rowSum []float64, work []float32) {
	h.check("Flash", n)
	hd := h.HeadDim
	if n > 0 && len(out) < (n-1)*h.QStride+h.QOff+hd {
		panic("kernels: Flash: out too short")
	}
	if len(rowMax) < n || len(rowSum) < n {
		panic("kernels: Flash: row statistics too short")
	}
	if len(work) < FlashWorkLen(hd) {
		panic("kernels: Flash: work too short")
	}
	p, tmp := work[:flashBk], work[flashBk:flashBk+hd]
	negInf := float32(math.Inf(-1))
	for i := 0; i < n; i++ {
		clear(out[i*h.QStride+h.QOff : i*h.QStride+h.QOff+hd])
		rowMax[i], rowSum[i] = negInf, 0
	}
	// Without a window, four queries at a time share each key's and value's loads where the
	// platform has kernels for it (AttentionRows' own, the same bits as one query at a time).
	four := h.Mask.Window == 0 && attnRowsOn(hd)
	for i0 := 0; i0 < n; i0 += flashBq {
		i1 := min(n, i0+flashBq)
		keys := h.NKeys
		if h.Mask.Causal {
			keys = min(keys, h.Pos0+i1)
		}
		for t0 := 0; t0 < keys; t0 += flashBk {
			t1 := min(keys, t0+flashBk)
			i := i0
			for ; four && i+AttentionRowsAtOnce <= i1 && h.tileSees(i, t0); i += AttentionRowsAtOnce {
				h.tileFour(out, i, t0, t1, rowMax[i:i+AttentionRowsAtOnce], rowSum[i:i+AttentionRowsAtOnce], work)
			}
			for ; i < i1; i++ {
				c1, ok := h.tileScores(p, i, t0, t1)
				if !ok {
					continue
				}
				s := p[:c1-t0]
				o := out[i*h.QStride+h.QOff : i*h.QStride+h.QOff+hd]
				tileSoftmax(o, s, &rowMax[i], &rowSum[i])
				valuesTile(tmp, s, h.V[t0*h.KVStride:], h.KVStride, h.KVOff)
				for d := range o {
					o[d] += tmp[d]
				}
			}
		}
		for i := i0; i < i1; i++ {
			if rowSum[i] == 0 {
				continue
			}
			inv := float32(1 / rowSum[i])
			o := out[i*h.QStride+h.QOff : i*h.QStride+h.QOff+hd]
			for d := range o {
				o[d] *= inv
			}
		}
	}
}

// tileSoftmax is the online softmax's step for one query's scores s of a tile: the running
// maximum m and sum move to the tile's, the partial output o rescaled when the maximum grows,
// and s becomes the exponentials (expSum) that the tile's values are weighted by.
func tileSoftmax(o, s []float32, m *float32, sum *float64) {
	tmax := largest(s)
	if tmax > *m {
		if *sum != 0 {
			alpha := softmaxExp(*m - tmax)
			*sum *= float64(alpha)
			for d := range o {
				o[d] *= alpha
			}
		}
		*m = tmax
	}
	*sum += expSum(s, *m)
}

// tileSees reports whether query i sees key t0 (and so the tile from t0 on) under the causal
// rule: with queries in position order, so do the queries after it.
func (h *Head) tileSees(i, t0 int) bool {
	_, _, end := h.Mask.span(h.Pos0+i, h.NKeys)
	return t0 < end
}

// tileFour is Flash's step for queries i … i+3 over the tile [t0, t1) without a window, each
// query's operations those of the one-query step: the scores by attnScoresRowsSIMD (each key's
// loads shared) and DotBlocked past them, the values by attnValuesRowsSIMD. Every query sees
// key t0 (tileSees).
func (h *Head) tileFour(out []float32, i, t0, t1 int, rowMax []float32, rowSum []float64, work []float32) {
	const four = AttentionRowsAtOnce
	hd := h.HeadDim
	var ps, qs, tmp [four][]float32
	maxKeys := 0
	for r := range four {
		_, _, end := h.Mask.span(h.Pos0+i+r, h.NKeys)
		c1 := min(t1, end)
		ps[r] = work[r*flashBk : r*flashBk+c1-t0]
		tmp[r] = work[four*flashBk+r*hd : four*flashBk+(r+1)*hd]
		qs[r] = h.Q[(i+r)*h.QStride+h.QOff : (i+r)*h.QStride+h.QOff+hd]
		maxKeys = max(maxKeys, c1-t0)
	}
	k := h.K[t0*h.KVStride:]
	j0 := attnScoresRowsSIMD(&ps, &qs, k, h.KVStride, h.KVOff, h.Scale, maxKeys)
	for r := range four {
		s := ps[r]
		for j := j0; j < len(s); j++ {
			kb := j*h.KVStride + h.KVOff
			s[j] = DotBlocked(qs[r], k[kb:kb+hd]) * h.Scale
		}
		o := out[(i+r)*h.QStride+h.QOff : (i+r)*h.QStride+h.QOff+hd]
		tileSoftmax(o, s, &rowMax[r], &rowSum[r])
	}
	attnValuesRowsSIMD(&tmp, &ps, h.V[t0*h.KVStride:], h.KVStride, h.KVOff)
	for r := range four {
		o := out[(i+r)*h.QStride+h.QOff : (i+r)*h.QStride+h.QOff+hd]
		for d := range o {
			o[d] += tmp[r][d]
		}
	}
}

// FlashProbs writes the attention probabilities of query i of h over the keys [j0, j1) to
// probs[:j1-j0], from the statistics Flash returned for it: softmaxExp(Scale·q·k_j − rowMax) /
// rowSum, 0 for the keys the mask hides. It is the second pass of a capture that never holds a
// whole row of scores for more than one tile; probs needs no more than the keys asked for.
func FlashProbs(probs []float32, h *Head, i, j0, j1 int, rowMax float32, rowSum float64, work []float32) {
	h.check("FlashProbs", i+1)
	if j0 < 0 || j1 < j0 || j1 > h.NKeys || len(probs) < j1-j0 {
		panic("kernels: FlashProbs: key range out of bounds")
	}
	if len(work) < FlashWorkLen(h.HeadDim) {
		panic("kernels: FlashProbs: work too short")
	}
	p := work[:flashBk]
	inv := float32(0)
	if rowSum > 0 {
		inv = float32(1 / rowSum)
	}
	for t0 := j0; t0 < j1; t0 += flashBk {
		t1 := min(j1, t0+flashBk)
		dst := probs[t0-j0 : t1-j0]
		c1, ok := h.tileScores(p, i, t0, t1)
		if !ok || inv == 0 {
			clear(dst)
			continue
		}
		s := p[:c1-t0]
		expSum(s, rowMax)
		for j := range s {
			dst[j] = s[j] * inv
		}
		clear(dst[len(s):])
	}
}

// tileScores sets p[j-t0] = Scale·q_i·k_j for the keys j in [t0, c1) of the tile [t0, t1),
// where c1 ≤ t1 is the end of what the causal rule lets query i see, and -Inf for the keys of
// [t0, c1) the window hides (unless global). ok is false when query i sees no key of the tile.
func (h *Head) tileScores(p []float32, i, t0, t1 int) (c1 int, ok bool) {
	pos := h.Pos0 + i
	lo, hi, end := h.Mask.span(pos, h.NKeys)
	c1 = min(t1, end)
	if c1 <= t0 {
		return c1, false
	}
	// The run of keys [a, b) of the tile that the window shows; the rest need a global key.
	a, b := max(t0, lo), min(c1, hi)
	g := 0
	if a > t0 || b < c1 {
		g = sort.SearchInts(h.Mask.Global, t0)
		if a >= b && (g == len(h.Mask.Global) || h.Mask.Global[g] >= c1) {
			return c1, false
		}
	}
	s := p[:c1-t0]
	hd := h.HeadDim
	q := h.Q[i*h.QStride+h.QOff : i*h.QStride+h.QOff+hd]
	j0 := 0
	if simdLevel != simdNone || wasmFloatSIMD {
		j0 = attnScoresSIMD(s, q, h.K[t0*h.KVStride:], h.KVStride, h.KVOff, h.Scale)
	}
	for j := j0; j < len(s); j++ {
		kb := (t0+j)*h.KVStride + h.KVOff
		s[j] = DotBlocked(q, h.K[kb:kb+hd]) * h.Scale
	}
	if a > t0 || b < c1 {
		negInf := float32(math.Inf(-1))
		gl := h.Mask.Global[g:]
		for j := t0; j < c1; j++ {
			if j >= a && j < b {
				continue
			}
			for len(gl) > 0 && gl[0] < j {
				gl = gl[1:]
			}
			if len(gl) > 0 && gl[0] == j {
				continue
			}
			s[j-t0] = negInf
		}
	}
	return c1, true
}

// expSum replaces each s[j] by softmaxExp(s[j] − m) (-Inf becomes 0) and returns their sum,
// added in chunks of 16 (the last one padded with zeros), each chunk reduced pairwise and
// added to a float64 total, as SoftmaxChunked sums a padded row.
func expSum(s []float32, m float32) float64 {
	var sum float64
	i0 := 0
	if floatLanesOn() {
		i0 = len(s) &^ 15
		sum = softmaxChunksSIMD(s, i0, m)
	} else if wasmFloatSIMD {
		i0 = len(s) &^ 15
		sum = softmaxChunksV128(s, i0, m)
	}
	var chunk [16]float32
	for i := i0; i < len(s); i += 16 {
		for l := range chunk {
			chunk[l] = 0
			if i+l < len(s) {
				e := softmaxExp(s[i+l] - m)
				s[i+l] = e
				chunk[l] = e
			}
		}
		sum += float64(reduce16(&chunk))
	}
	return sum
}

// valuesTile sets out[d] = Σ_j p[j]·v_j[d] over the keys of a tile, v_j = v[j*stride+off:],
// the keys in 16 lanes (key j to lane j mod 16) as AttentionRow sums a cached row.
func valuesTile(out, p, v []float32, stride, off int) {
	d0 := 0
	if simdLevel != simdNone || wasmFloatSIMD {
		d0 = attnValuesSIMD(out, p, v, stride, off)
	}
	for d := d0; d < len(out); d++ {
		out[d] = dotLanesStrided(p, v, stride, off+d, true)
	}
}
