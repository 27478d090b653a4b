package backendtest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/attnscope/attnscope/engine/backend"
	"github.com/attnscope/attnscope/engine/quant"
)

// refBackend is the smallest Backend there is: quant.DotRow per output, quant.Dequantize per
// row lookup. The suite must accept it.
type refBackend struct{}

type refWeight struct {
	name       string
	t          quant.Type
	rows, cols int
	rb         int
	data       []byte
}

func (w *refWeight) Name() string     { return w.name }
func (w *refWeight) Type() quant.Type { return w.t }
func (w *refWeight) Rows() int        { return w.rows }
func (w *refWeight) Cols() int        { return w.cols }
func (w *refWeight) Bytes() int64     { return int64(len(w.data)) }

func (refBackend) Name() string { return "ref" }
func (refBackend) Close() error { return nil }

func (refBackend) NewWeight(name string, t quant.Type, rows, cols int, data []byte) (backend.Weight, error) {
	if !quant.IsSupported(t) {
		return nil, fmt.Errorf("tensor %q: type %s is not supported", name, t)
	}
	rb, err := quant.RowBytes(t, cols)
	if err != nil || rows < 0 || len(data) != rows*rb {
		return nil, fmt.Errorf("tensor %q: %d bytes do not hold %d×%d %s", name, len(data), rows, cols, t)
	}
	return &refWeight{name, t, rows, cols, rb, data}, nil
}

func (refBackend) weight(w backend.Weight) *refWeight {
	rw, ok := w.(*refWeight)
	if !ok {
		panic("ref: weight from another backend")
	}
	return rw
}

func (b refBackend) MatMul(dst []float32, w backend.Weight, x []float32, n int) {
	rw := b.weight(w)
	if len(dst) != n*rw.rows || len(x) != n*rw.cols {
		panic("ref: MatMul: bad lengths")
	}
	for i := 0; i < n; i++ {
		for r := 0; r < rw.rows; r++ {
			dst[i*rw.rows+r] = quant.DotRow(rw.t, rw.data[r*rw.rb:(r+1)*rw.rb], x[i*rw.cols:(i+1)*rw.cols])
		}
	}
}

func (b refBackend) Row(dst []float32, w backend.Weight, r int) {
	rw := b.weight(w)
	if len(dst) != rw.cols || r < 0 || r >= rw.rows {
		panic("ref: Row: bad row or length")
	}
	if err := quant.Dequantize(rw.t, dst, rw.data[r*rw.rb:(r+1)*rw.rb]); err != nil {
		panic("ref: " + err.Error())
	}
}

func TestReferenceBackend(t *testing.T) {
	Run(t, func() backend.Backend { return refBackend{} })
}

// Every supported type gets weights of moderate, finite size that are not all zero.
func TestRandomWeights(t *testing.T) {
	for _, c := range Cases(t) {
		var maxAbs float64
		for _, row := range c.Rows {
			for _, v := range row {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					t.Fatalf("%s: non-finite weight %g", c, v)
				}
				maxAbs = max(maxAbs, math.Abs(float64(v)))
			}
		}
		if maxAbs == 0 || maxAbs > 100 {
			t.Errorf("%s: largest weight %g", c, maxAbs)
		}
	}
}

// The fallback for types without a generator draws rows of finite values (for block types,
// whose random scales are finite most of the time).
func TestRandomRows(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, typ := range []quant.Type{quant.Q4_K, quant.Q8_0, quant.Q5_1} {
		rb, _ := quant.RowBytes(typ, 256)
		data := randomRows(typ, make([]byte, 4*rb), rb, 256, r)
		if data == nil {
			t.Fatalf("%s: no rows", typ)
		}
		vals := make([]float32, 256)
		for off := 0; off < len(data); off += rb {
			quant.Dequantize(typ, vals, data[off:off+rb])
			for _, v := range vals {
				if math.IsNaN(float64(v)) || math.Abs(float64(v)) > 1e6 {
					t.Fatalf("%s: weight %g", typ, v)
				}
			}
		}
	}
	// A type that cannot be decoded gives nil.
	if randomRows(quant.IQ2_XXS, make([]byte, 66), 66, 256, r) != nil {
		t.Error("randomRows made rows of a type it cannot decode")
	}
}
