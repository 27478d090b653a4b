package backendtest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/attnscope/attnscope/engine/backend"
	"github.com/attnscope/attnscope/engine/quant"
)

// Shape is a weight matrix shape: Rows outputs of Cols inputs.
type Shape struct{ Rows, Cols int }

// Shapes are the weight shapes the suite multiplies with: a single row, odd row counts (uneven
// splits between workers) and columns of one to several 256-value super-blocks. Shapes whose
// columns are not a multiple of a type's block size are skipped for that type.
var Shapes = []Shape{{1, 32}, {7, 64}, {33, 256}, {64, 512}}

// Batches are the numbers of input rows multiplied at once: 37 is two groups of sixteen side
// by side (kernels.ActTile) and five more, two at a time and one.
var Batches = []int{1, 3, 8, 37}

// Run checks the backend that newBackend returns against the plain-Go reference. Each subtest
// takes a fresh backend and closes it.
func Run(t *testing.T, newBackend func() backend.Backend) {
	t.Run("MatMul", func(t *testing.T) { testMatMul(t, newBackend) })
	t.Run("Row", func(t *testing.T) { testRow(t, newBackend) })
	t.Run("EmptyBatch", func(t *testing.T) { testEmptyBatch(t, newBackend) })
	t.Run("BadLengths", func(t *testing.T) { testBadLengths(t, newBackend) })
	t.Run("NewWeightErrors", func(t *testing.T) { testNewWeightErrors(t, newBackend) })
}

// open returns a fresh backend that is closed when the test ends.
func open(t *testing.T, newBackend func() backend.Backend) backend.Backend {
	t.Helper()
	b := newBackend()
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("%s: Close: %v", b.Name(), err)
		}
	})
	return b
}

// seed derives a fixed random source from a type and a shape.
func seed(typ quant.Type, s Shape) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(typ)<<32|uint64(s.Rows)<<16|uint64(s.Cols), 0x6a09e667f3bcc908))
}

// Case is one weight matrix of the suite, with its encoding and its rows dequantized.
type Case struct {
	Type  quant.Type
	Shape Shape
	Data  []byte
	Rows  [][]float32 // row r as quant.Dequantize decodes it
}

// Cases returns a case for every type in quant.Supported() and every shape its block size
// allows, with weights from RandomWeights. It fails t for a type it cannot make weights for.
func Cases(t testing.TB) []Case {
	t.Helper()
	var cases []Case
	for _, typ := range quant.Supported() {
		for _, s := range Shapes {
			if s.Cols%typ.BlockSize() != 0 {
				continue
			}
			data := RandomWeights(typ, s.Rows, s.Cols, seed(typ, s))
			if data == nil {
				t.Errorf("%s: no random weights with finite values could be made", typ)
				continue
			}
			rb, _ := quant.RowBytes(typ, s.Cols)
			c := Case{Type: typ, Shape: s, Data: data, Rows: make([][]float32, s.Rows)}
			for r := range c.Rows {
				c.Rows[r] = make([]float32, s.Cols)
				if err := quant.Dequantize(typ, c.Rows[r], data[r*rb:(r+1)*rb]); err != nil {
					t.Fatalf("%s: %v", typ, err)
				}
			}
			cases = append(cases, c)
		}
	}
	return cases
}

func (c Case) String() string { return fmt.Sprintf("%s/%dx%d", c.Type, c.Shape.Rows, c.Shape.Cols) }

// Inputs returns n rows of cols normally distributed activations.
func Inputs(n, cols int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 0xbb67ae8584caa73b))
	x := make([]float32, n*cols)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	return x
}

// DotBound is the largest error allowed for a float32 dot product of n terms whose absolute
// products sum to abs, against an exact (float64) value: every term passes through at most
// n+1 roundings (its product and the additions above it in any summation tree, each counted
// twice for a fused multiply-add emulated through float64), so the error is within γ_{n+1}·abs,
// plus the float64 reference's own n·2⁻⁵³·abs and half a subnormal spacing per rounding.
func DotBound(n int, abs float64) float64 {
	const u = 0x1p-24 + 0x1p-52
	k := float64(n+1) * u
	return (k/(1-k)+float64(n)*0x1p-53)*abs + float64(n+1)*0x1p-150
}

// Reference returns x (n, cols) · Wᵀ in float64 for the dequantized rows w, and beside it
// Σ|w·x| of each entry.
func Reference(w [][]float32, x []float32, n int) (dst, abs []float64) {
	rows := len(w)
	dst, abs = make([]float64, n*rows), make([]float64, n*rows)
	for i := 0; i < n; i++ {
		for r, row := range w {
			xi := x[i*len(row) : (i+1)*len(row)]
			var s, a float64
			for j, v := range row {
				p := float64(v) * float64(xi[j]) // exact
				s += p
				a += math.Abs(p)
			}
			dst[i*rows+r], abs[i*rows+r] = s, a
		}
	}
	return dst, abs
}

func newWeight(t *testing.T, b backend.Backend, c Case) backend.Weight {
	t.Helper()
	name := "blk.0." + c.String()
	w, err := b.NewWeight(name, c.Type, c.Shape.Rows, c.Shape.Cols, c.Data)
	if err != nil {
		t.Fatalf("NewWeight %s: %v", c, err)
	}
	if w.Name() != name || w.Type() != c.Type || w.Rows() != c.Shape.Rows || w.Cols() != c.Shape.Cols {
		t.Fatalf("NewWeight %s: got weight %q %s %d×%d", c, w.Name(), w.Type(), w.Rows(), w.Cols())
	}
	if w.Bytes() <= 0 {
		t.Errorf("NewWeight %s: Bytes() = %d", c, w.Bytes())
	}
	return w
}

func testMatMul(t *testing.T, newBackend func() backend.Backend) {
	b := open(t, newBackend)
	var worst float64 // largest error as a fraction of its bound
	for _, c := range Cases(t) {
		w := newWeight(t, b, c)
		for _, n := range Batches {
			x := Inputs(n, c.Shape.Cols, uint64(n))
			want, abs := Reference(c.Rows, x, n)
			dst := make([]float32, n*c.Shape.Rows)
			for i := range dst {
				dst[i] = float32(math.NaN()) // every entry must be written
			}
			b.MatMul(dst, w, x, n)
			if xs := Inputs(n, c.Shape.Cols, uint64(n)); !equalBits(x, xs) {
				t.Errorf("%s n=%d: MatMul changed its input", c, n)
			}
			bad := 0
			for k, got := range dst {
				bound := DotBound(c.Shape.Cols, abs[k])
				err := math.Abs(float64(got) - want[k])
				if !(err <= bound) { // NaN fails too
					if bad++; bad <= 3 {
						t.Errorf("%s n=%d: dst[%d] (input %d, row %d) = %g, want %g (error %.3g, bound %.3g)",
							c, n, k, k/c.Shape.Rows, k%c.Shape.Rows, got, want[k], err, bound)
					}
				} else if bound > 0 {
					worst = max(worst, err/bound)
				}
			}
			if bad > 3 {
				t.Errorf("%s n=%d: %d of %d entries out of bounds", c, n, bad, len(dst))
			}
		}
	}
	t.Logf("%s: largest MatMul error %.3g of its bound", b.Name(), worst)
}

func equalBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

func testRow(t *testing.T, newBackend func() backend.Backend) {
	b := open(t, newBackend)
	for _, c := range Cases(t) {
		w := newWeight(t, b, c)
		dst := make([]float32, c.Shape.Cols)
		for r, want := range c.Rows {
			for i := range dst {
				dst[i] = float32(math.NaN())
			}
			b.Row(dst, w, r)
			if !equalBits(dst, want) {
				for i := range dst {
					if math.Float32bits(dst[i]) != math.Float32bits(want[i]) {
						t.Errorf("%s: Row(%d)[%d] = %g, quant.Dequantize gives %g", c, r, i, dst[i], want[i])
						break
					}
				}
			}
		}
	}
}

// A batch of no rows is a product with nothing to do.
func testEmptyBatch(t *testing.T, newBackend func() backend.Backend) {
	b := open(t, newBackend)
	for _, c := range Cases(t) {
		w := newWeight(t, b, c)
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("%s: MatMul with n=0 panicked: %v", c, r)
				}
			}()
			b.MatMul([]float32{}, w, []float32{}, 0)
		}()
	}
}

// expectPanic fails t unless f panics with a message that starts with the backend's name.
func expectPanic(t *testing.T, b backend.Backend, what string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Errorf("%s: no panic", what)
			return
		}
		msg := fmt.Sprint(r)
		if !strings.HasPrefix(msg, b.Name()+": ") {
			t.Errorf("%s: panic %q does not start with %q", what, msg, b.Name()+": ")
		}
	}()
	f()
}

// foreign is a Weight that no backend made.
type foreign struct{}

func (foreign) Name() string     { return "foreign" }
func (foreign) Type() quant.Type { return quant.F32 }
func (foreign) Rows() int        { return 2 }
func (foreign) Cols() int        { return 4 }
func (foreign) Bytes() int64     { return 32 }

func testBadLengths(t *testing.T, newBackend func() backend.Backend) {
	b := open(t, newBackend)
	for _, typ := range []quant.Type{quant.F32, quant.Q8_0, quant.Q4_K} {
		const rows, cols, n = 5, 256, 3
		c := Case{Type: typ, Shape: Shape{rows, cols}, Data: RandomWeights(typ, rows, cols, seed(typ, Shape{rows, cols}))}
		w := newWeight(t, b, c)
		x, dst := make([]float32, n*cols), make([]float32, n*rows)
		expectPanic(t, b, typ.String()+": MatMul dst short", func() { b.MatMul(dst[:n*rows-1], w, x, n) })
		expectPanic(t, b, typ.String()+": MatMul dst long", func() { b.MatMul(append(dst, 0), w, x, n) })
		expectPanic(t, b, typ.String()+": MatMul x short", func() { b.MatMul(dst, w, x[:n*cols-1], n) })
		expectPanic(t, b, typ.String()+": MatMul x long", func() { b.MatMul(dst, w, append(x, 0), n) })
		expectPanic(t, b, typ.String()+": MatMul n too large", func() { b.MatMul(dst, w, x, n+1) })
		expectPanic(t, b, typ.String()+": Row dst short", func() { b.Row(make([]float32, cols-1), w, 0) })
		expectPanic(t, b, typ.String()+": Row dst long", func() { b.Row(make([]float32, cols+1), w, 0) })
		expectPanic(t, b, typ.String()+": Row -1", func() { b.Row(make([]float32, cols), w, -1) })
		expectPanic(t, b, typ.String()+": Row past the end", func() { b.Row(make([]float32, cols), w, rows) })
	}
	expectPanic(t, b, "MatMul with a foreign weight", func() { b.MatMul(make([]float32, 2), foreign{}, make([]float32, 4), 1) })
	expectPanic(t, b, "Row of a foreign weight", func() { b.Row(make([]float32, 4), foreign{}, 0) })
}

func testNewWeightErrors(t *testing.T, newBackend func() backend.Backend) {
	b := open(t, newBackend)
	expectErr := func(what, name string, typ quant.Type, rows, cols int, data []byte, mention ...string) {
		t.Helper()
		w, err := b.NewWeight(name, typ, rows, cols, data)
		if err == nil {
			t.Errorf("%s: NewWeight accepted it (weight %v)", what, w)
			return
		}
		for _, m := range append(mention, name) {
			if !strings.Contains(err.Error(), m) {
				t.Errorf("%s: error %q does not mention %q", what, err, m)
			}
		}
	}
	// Types that cannot be multiplied: known to ggml but not supported, and unknown.
	for _, typ := range []quant.Type{quant.IQ2_XXS, quant.IQ4_NL, quant.Q8_1, quant.Q8_K, quant.TQ1_0} {
		if quant.IsSupported(typ) {
			continue
		}
		rb, _ := quant.RowBytes(typ, 256)
		expectErr("unsupported "+typ.String(), "blk.1.ffn_up.weight", typ, 2, 256, make([]byte, 2*rb), typ.String())
	}
	expectErr("unknown type", "tok_embd.weight", quant.Type(99), 2, 32, make([]byte, 64), "type(99)")
	// Data lengths that do not match the shape.
	for _, typ := range []quant.Type{quant.F32, quant.F16, quant.Q4_0, quant.Q6_K} {
		const rows, cols = 3, 256
		rb, _ := quant.RowBytes(typ, cols)
		for _, size := range []int{0, rows*rb - 1, rows*rb + 1, (rows - 1) * rb, (rows + 1) * rb} {
			expectErr(fmt.Sprintf("%s with %d bytes", typ, size), "output.weight", typ, rows, cols, make([]byte, size))
		}
	}
	// Shapes that are not a whole number of blocks, or negative.
	expectErr("Q4_0 with 48 columns", "blk.2.attn_k.weight", quant.Q4_0, 2, 48, make([]byte, 2*27))
	expectErr("Q4_K with 128 columns", "blk.2.attn_v.weight", quant.Q4_K, 1, 128, make([]byte, 72))
	expectErr("negative rows", "blk.3.attn_q.weight", quant.F32, -1, 4, nil)
	expectErr("negative columns", "blk.3.attn_q.weight", quant.F32, 1, -4, nil)
}
