package kernels

import (
	"fmt"

	"github.com/attnscope/attnscope/engine/quant"
)

// The packed products above take one or two inputs at a time and gather each group's eight
// row sums across a vector (horizontal sums), which costs as much as the products. A prompt
// brings many inputs at once; ActTile lays sixteen of them side by side instead, so that a
// vector's lanes are inputs: four activation bytes of each of eight inputs per 32-byte vector,
// multiplied by four quants of one row repeated across it. Each lane then adds up one input's
// sum for that row, and nothing is gathered until a row is done. For Q4_0 no signs need
// handling either (a nibble is the unsigned operand of the byte products, and the offset of 8
// comes off once per block), so a block of sixteen inputs costs about 0.6 times the operations
// of VecDotRowsPacked for each of them.

// TileInputs is how many inputs an ActTile group holds side by side.
const TileInputs = 16

// ActTile holds Q8_0 activations of several inputs rearranged for VecDotRowsPackedTile, in
// groups of TileInputs inputs (only whole groups; the inputs after the last whole group are
// left to VecDotRowsPacked and VecDotRowsPacked2). The zero value is empty; Set fills it and
// reuses its memory.
type ActTile struct {
	n, nb int
	// For group g and block b, from (g·nb + b) on: y holds 512 bytes, two halves of eight
	// inputs, in which the 32 bytes at 32k (k < 8) are activations 4k…4k+3 of each input of
	// the half; dy the 16 inputs' scales (float32 bits) and off 8·Σ of their 32 activations
	// (what Q4_0's offset of 8 takes away).
	y   []byte
	dy  []uint32
	off []int32
	act []byte   // the inputs as given (for the plain path)
	as  []uint32 // their scales
}

// Set arranges the n inputs in act (n rows of Q8_0 blocks, as QuantizeQ8_0Activations writes)
// with their block scales as (ActScales) into t, for the kernels in use when it is called (only
// the AVX2 kernel reads an arrangement; the others read act and as). It keeps references to act
// and as, which must not change while t is used.
func (t *ActTile) Set(act []byte, as []uint32, n int) {
	if n <= 0 || len(as)%n != 0 || len(act) != len(as)*q8_0Bytes {
		panic(fmt.Sprintf("kernels: ActTile.Set: %d inputs, %d bytes, %d scales", n, len(act), len(as)))
	}
	nb := len(as) / n
	t.n, t.nb, t.act, t.as = n, nb, act, as
	if !tileArranged || !TileKernel(quant.Q4_0) {
		return // the kernels that run here read the inputs as they are
	}
	groups := n / TileInputs
	t.y = grow(t.y, groups*nb*512)
	t.dy = grow(t.dy, groups*nb*TileInputs)
	t.off = grow(t.off, groups*nb*TileInputs)
	setTileSIMD(t, groups)
}

// grow returns s with length n, reallocated only when its capacity is short.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// Groups is the number of whole groups of TileInputs inputs in t.
func (t *ActTile) Groups() int { return t.n / TileInputs }

// TileKernel reports whether VecDotRowsPackedTile has a vector kernel for type t in this build
// and on this CPU: Q4_0 with AVX2, Q8_0 in WebAssembly. Elsewhere it runs
// VecDotRowsPacked input by input, and a caller gains nothing from a tile.
func TileKernel(t quant.Type) bool { return packedIntOn() && tileType(t) }

// VecDotRowsPackedTile sets dst[i·stride + r] = VecDot(p.Type, row r, input i) for the inputs i
// of group g of t (TileInputs·g … TileInputs·(g+1)−1) and the rows r0 ≤ r < r1 (r0 a multiple
// of PackRows): the bits of VecDotRowsPacked.
func VecDotRowsPackedTile(dst []float32, stride int, p *Packed, r0, r1 int, t *ActTile, g int) {
	p.checkProduct("VecDotRowsPackedTile", r0, r1-r0, t.nb*qk)
	if g < 0 || g >= t.Groups() {
		panic(fmt.Sprintf("kernels: VecDotRowsPackedTile: group %d of %d", g, t.Groups()))
	}
	i0 := g * TileInputs
	if stride < p.Rows || len(dst) < (i0+TileInputs-1)*stride+p.Rows {
		panic(fmt.Sprintf("kernels: VecDotRowsPackedTile: destination of %d values, stride %d, for inputs %d… of %d rows", len(dst), stride, i0, p.Rows))
	}
	if r0 == r1 {
		return
	}
	if TileKernel(p.Type) {
		vecDotRowsPackedTileSIMD(dst, stride, p, r0, r1, t, g)
		return
	}
	ab := t.nb * q8_0Bytes
	for i := i0; i < i0+TileInputs; i++ {
		VecDotRowsPacked(dst[i*stride+r0:i*stride+r1], p, r0, t.act[i*ab:(i+1)*ab], t.as[i*t.nb:(i+1)*t.nb])
	}
}
