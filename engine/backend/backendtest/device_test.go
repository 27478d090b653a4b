package backendtest

import (
	"testing"

	"github.com/attnscope/attnscope/engine/backend"
	"github.com/attnscope/attnscope/engine/quant"
)

// plainBackend multiplies with the float64 reference, so that the host device can be checked
// without importing a real backend.
type plainBackend struct{}

type plainWeight struct {
	Case
	name string
}

func (w *plainWeight) Name() string     { return w.name }
func (w *plainWeight) Type() quant.Type { return w.Case.Type }
func (w *plainWeight) Rows() int        { return w.Shape.Rows }
func (w *plainWeight) Cols() int        { return w.Shape.Cols }
func (w *plainWeight) Bytes() int64     { return int64(len(w.Data)) }

func (plainBackend) Name() string { return "plain" }
func (plainBackend) Close() error { return nil }
func (plainBackend) NewWeight(name string, t quant.Type, rows, cols int, data []byte) (backend.Weight, error) {
	rb, err := quant.RowBytes(t, cols)
	if err != nil {
		return nil, err
	}
	w := &plainWeight{Case: Case{Type: t, Shape: Shape{rows, cols}, Data: data, Rows: make([][]float32, rows)}, name: name}
	for r := range w.Case.Rows {
		w.Case.Rows[r] = make([]float32, cols)
		if err := quant.Dequantize(t, w.Case.Rows[r], data[r*rb:(r+1)*rb]); err != nil {
			return nil, err
		}
	}
	return w, nil
}
func (plainBackend) MatMul(dst []float32, w backend.Weight, x []float32, n int) {
	want, _ := Reference(w.(*plainWeight).Case.Rows, x, n)
	for i, v := range want {
		dst[i] = float32(v)
	}
}
func (plainBackend) Row(dst []float32, w backend.Weight, r int) {
	copy(dst, w.(*plainWeight).Case.Rows[r])
}

// The suite holds for its own reference: a check that the suite's inputs and tolerances are
// consistent, run on every machine.
func TestHostDevice(t *testing.T) {
	RunDevice(t, func() backend.Device { return HostDevice(plainBackend{}) })
}
