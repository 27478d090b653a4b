package paint

// Pool says how one cell combines a block of (query, key) weights when there are more tokens
// than pixels to show them.
type Pool int

const (
	// PoolMax shows the largest weight in the block (for signed maps, the one of largest
	// magnitude): sharp patterns such as a diagonal or one attended token stay visible.
	PoolMax Pool = iota
	// PoolMean shows the mean over the block's unmasked cells: the block's average weight.
	PoolMean
)

func (p Pool) String() string {
	if p == PoolMean {
		return "mean"
	}
	return "max"
}

// Axis lays out N tokens along a line of pixels: Cells cells of Cell pixels each, every cell
// covering Pool consecutive tokens (the last cell may cover fewer).
type Axis struct {
	N, Pool, Cells, Cell int
}

// NewAxis fits n tokens into avail pixels with cells of at most maxCell pixels (0: no limit).
// When n > avail, tokens are pooled ceil(n/avail) to a cell and cells are one pixel or more.
func NewAxis(n, avail, maxCell int) Axis {
	if n <= 0 {
		return Axis{}
	}
	avail = max(avail, 1)
	pool := (n + avail - 1) / avail
	cells := (n + pool - 1) / pool
	cell := avail / cells
	if maxCell > 0 {
		cell = min(cell, maxCell)
	}
	return Axis{N: n, Pool: pool, Cells: cells, Cell: max(cell, 1)}
}

// fitAxes lays out a (rows × cols) map in an availW × availH area with square cells: both axes
// share one pool factor and one cell size.
func fitAxes(rows, cols, availW, availH, maxCell int) (Axis, Axis) {
	r, c := NewAxis(rows, availH, maxCell), NewAxis(cols, availW, maxCell)
	pool := max(r.Pool, c.Pool)
	r, c = r.withPool(pool), c.withPool(pool)
	cell := max(min(availW/max(c.Cells, 1), availH/max(r.Cells, 1)), 1)
	if maxCell > 0 {
		cell = min(cell, maxCell)
	}
	r.Cell, c.Cell = cell, cell
	return r, c
}

func (a Axis) withPool(pool int) Axis {
	if a.N == 0 {
		return a
	}
	a.Pool = pool
	a.Cells = (a.N + pool - 1) / pool
	return a
}

// Size is the length of the axis in pixels.
func (a Axis) Size() int { return a.Cells * a.Cell }

// Tokens returns the tokens [lo, hi) that cell i covers.
func (a Axis) Tokens(i int) (lo, hi int) {
	lo = i * a.Pool
	return lo, min(lo+a.Pool, a.N)
}

// CellOf returns the cell that holds token t.
func (a Axis) CellOf(t int) int { return t / max(a.Pool, 1) }

// Stride returns k such that labels extent pixels long, placed every k-th cell, do not overlap:
// 1 when each cell is at least extent pixels.
func (a Axis) Stride(extent int) int {
	if a.Cell >= extent || a.Cell <= 0 {
		return 1
	}
	return (extent + a.Cell - 1) / a.Cell
}
