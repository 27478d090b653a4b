package trace

import "fmt"

// What attention probabilities a trace holds (Trace.Capture).
const (
	// CaptureNone: no attention.
	CaptureNone = "none"
	// CaptureExact: every query's whole row, in Attn.
	CaptureExact = "exact"
	// CapturePooled: a pooled map per layer and head, in Pooled, and the whole rows of the query
	// positions in Rows, in RowAttn.
	CapturePooled = "pooled"
)

// MaxCells is the most cells a pooled map has along each axis.
const MaxCells = 512

// Pooled is one head's attention probabilities pooled into square cells: cell (r, c) covers
// the queries [r·Cell, (r+1)·Cell) and the keys [c·Cell, (c+1)·Cell), clipped to the N tokens
// covered, and holds the sum and the maximum of the probabilities of its (query, key) pairs,
// pairs a mask hides counting as 0 (as in Trace.Dense). Cells grow with N, and when they would
// exceed Limit along an axis, Cell grows and neighbouring cells merge (sums add, maxima take the
// larger), which gives the same map as pooling at the larger cell from the start.
type Pooled struct {
	N     int // tokens covered along both axes
	Cell  int // tokens per cell along each axis
	Cells int // cells along each axis: ⌈N / Cell⌉
	Limit int // the most cells along an axis (≤ MaxCells)
	// Sum and Max are (Cells, Cells), row-major: queries down, keys across.
	Sum []float32
	Max []float32
}

// NewPooled returns an empty map of at most limit cells along an axis (1 ≤ limit ≤ MaxCells)
// with cells of at least minCell tokens.
func NewPooled(limit, minCell int) (*Pooled, error) {
	if limit < 1 || limit > MaxCells {
		return nil, fmt.Errorf("trace: a pooled map has 1 to %d cells along an axis, not %d", MaxCells, limit)
	}
	if minCell < 1 {
		minCell = 1
	}
	return &Pooled{Cell: minCell, Limit: limit}, nil
}

// Cover makes the map cover n tokens (n ≥ N), adding cells and, when they would exceed Limit,
// merging them into larger ones.
func (p *Pooled) Cover(n int) {
	if n <= p.N {
		return
	}
	cells := ceilDiv(n, p.Cell)
	if cells > p.Limit {
		f := ceilDiv(cells, p.Limit) // merge f×f cells into one
		p.merge(f)
		cells = ceilDiv(n, p.Cell)
	}
	if cells != p.Cells {
		p.Sum, p.Max = regrid(p.Sum, p.Cells, cells), regrid(p.Max, p.Cells, cells)
		p.Cells = cells
	}
	p.N = n
}

// regrid returns the (old, old) map m laid out as (cells, cells), cells > old, the new cells 0:
// in place when m's capacity holds it (see Expect), else in a new array.
func regrid(m []float32, old, cells int) []float32 {
	need := cells * cells
	if cap(m) < need {
		g := make([]float32, need)
		for r := 0; r < old; r++ {
			copy(g[r*cells:], m[r*old:(r+1)*old])
		}
		return g
	}
	m = m[:need]
	// Rows move to later places: the last first, so that none is overwritten before it moves.
	for r := old - 1; r >= 0; r-- {
		copy(m[r*cells:r*cells+old], m[r*old:(r+1)*old])
		clear(m[r*cells+old : (r+1)*cells])
	}
	clear(m[old*cells:])
	return m
}

// Expect prepares the map for n tokens to come (n ≥ N): the cells take the size that covering
// all n at once gives (merging those held), and Sum and Max the room for all of them, so that
// covering the tokens a few at a time moves the map in place instead of allocating it again at
// every new cell.
func (p *Pooled) Expect(n int) {
	if n <= p.N {
		return
	}
	if cells := ceilDiv(n, p.Cell); cells > p.Limit {
		p.merge(ceilDiv(cells, p.Limit))
	}
	cells := ceilDiv(n, p.Cell)
	for _, m := range []*[]float32{&p.Sum, &p.Max} {
		if cap(*m) < cells*cells {
			g := make([]float32, len(*m), cells*cells)
			copy(g, *m)
			*m = g
		}
	}
}

// merge makes every cell f times larger along each axis.
func (p *Pooled) merge(f int) {
	if f <= 1 {
		return
	}
	cells := ceilDiv(p.Cells, f)
	sum, mx := make([]float32, cells*cells), make([]float32, cells*cells)
	for r := 0; r < p.Cells; r++ {
		for c := 0; c < p.Cells; c++ {
			i, o := r*p.Cells+c, (r/f)*cells+c/f
			sum[o] += p.Sum[i]
			mx[o] = max(mx[o], p.Max[i])
		}
	}
	p.Sum, p.Max, p.Cells, p.Cell = sum, mx, cells, p.Cell*f
}

// Add accumulates the probabilities of query q over the keys j0 … j0+len(probs)-1.
func (p *Pooled) Add(q, j0 int, probs []float32) {
	if q < 0 || q >= p.N || j0 < 0 || j0+len(probs) > p.N {
		panic(fmt.Sprintf("trace: Pooled.Add: query %d, keys %d…%d outside the %d tokens covered", q, j0, j0+len(probs)-1, p.N))
	}
	row := (q / p.Cell) * p.Cells
	for len(probs) > 0 {
		c := j0 / p.Cell
		k := min(len(probs), (c+1)*p.Cell-j0) // the keys of probs in cell c
		s, m := p.Sum[row+c], p.Max[row+c]
		for _, v := range probs[:k] {
			s += v
			m = max(m, v)
		}
		p.Sum[row+c], p.Max[row+c] = s, m
		probs, j0 = probs[k:], j0+k
	}
}

// span is the number of tokens of cell index i (the last cell may be partial).
func (p *Pooled) span(i int) int { return min(p.Cell, p.N-i*p.Cell) }

// Mean is the mean probability of cell (r, c): its sum over the number of (query, key) pairs
// it covers.
func (p *Pooled) Mean(r, c int) float32 {
	return float32(float64(p.Sum[r*p.Cells+c]) / (float64(p.span(r)) * float64(p.span(c))))
}

// MeanMap returns the means of all cells, (Cells, Cells) row by row.
func (p *Pooled) MeanMap() [][]float32 {
	out := make([][]float32, p.Cells)
	for r := range out {
		out[r] = make([]float32, p.Cells)
		for c := range out[r] {
			out[r][c] = p.Mean(r, c)
		}
	}
	return out
}

// MaxMap returns the maxima of all cells, (Cells, Cells) row by row.
func (p *Pooled) MaxMap() [][]float32 {
	out := make([][]float32, p.Cells)
	for r := range out {
		out[r] = append([]float32(nil), p.Max[r*p.Cells:(r+1)*p.Cells]...)
	}
	return out
}

// Bytes is the memory the map's cells take.
func (p *Pooled) Bytes() int64 { return int64(8 * len(p.Sum)) }

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// PooledJSON is a pooled map as attnscope's JSON shows it: the cell size, the number of cells
// along each axis, the tokens covered, and mean and max per cell, (cells, cells) queries down.
type PooledJSON struct {
	Cell  int         `json:"cell"`
	Cells int         `json:"cells"`
	N     int         `json:"n"`
	Mean  [][]float32 `json:"mean"`
	Max   [][]float32 `json:"max"`
}

// JSON returns the map in its JSON layout.
func (p *Pooled) JSON() PooledJSON {
	return PooledJSON{Cell: p.Cell, Cells: p.Cells, N: p.N, Mean: p.MeanMap(), Max: p.MaxMap()}
}
