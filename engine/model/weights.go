package model

import (
	"fmt"

	"github.com/attnscope/attnscope/engine/backend"
	"github.com/attnscope/attnscope/engine/gguf"
	"github.com/attnscope/attnscope/engine/quant"
)

// Weights loads named tensors from a file, checking presence, shape and type.
type Weights struct {
	F     *gguf.File
	B     backend.Backend
	Bytes int64 // storage taken so far
	err   error
	buf   []byte // one tensor's bytes, reused when nothing keeps them (read)
}

// Err is the first error met.
func (w *Weights) Err() error { return w.err }

func (w *Weights) fail(err error) {
	if w.err == nil {
		w.err = err
	}
}

func (w *Weights) info(name string, optional bool) *gguf.TensorInfo {
	if w.err != nil {
		return nil
	}
	t, ok := w.F.Tensor(name)
	if !ok {
		if !optional {
			w.fail(fmt.Errorf("%w: tensor %s is missing", ErrBadModel, name))
		}
		return nil
	}
	if !quant.IsSupported(t.Type) {
		w.fail(fmt.Errorf("tensor %s: type %s is not supported (supported: %s)", name, t.Type, quant.SupportedNames()))
		return nil
	}
	return t
}

// Matrix loads a (rows, cols) matrix: in ggml order Dims = [cols, rows]. Optional tensors that are
// absent return nil.
func (w *Weights) Matrix(name string, rows, cols int, optional bool) backend.Weight {
	t := w.info(name, optional)
	if t == nil {
		return nil
	}
	if len(t.Dims) != 2 || t.Dims[0] != uint64(cols) || t.Dims[1] != uint64(rows) {
		w.fail(fmt.Errorf("%w: tensor %s has shape %v, expected [%d %d]", ErrBadModel, name, t.Dims, cols, rows))
		return nil
	}
	c, ok := w.B.(backend.Copier)
	data, err := w.read(t, ok && c.CopiesWeights())
	if err != nil {
		w.fail(err)
		return nil
	}
	m, err := w.B.NewWeight(name, t.Type, rows, cols, data)
	if err != nil {
		w.fail(err)
		return nil
	}
	w.Bytes += m.Bytes()
	return m
}

// Vector loads a 1-D tensor of n elements as float32 (any supported type is dequantized).
func (w *Weights) Vector(name string, n int, optional bool) []float32 {
	t := w.info(name, optional)
	if t == nil {
		return nil
	}
	if t.Elements() != uint64(n) || t.Dims[0] != uint64(n) {
		w.fail(fmt.Errorf("%w: tensor %s has shape %v, expected [%d]", ErrBadModel, name, t.Dims, n))
		return nil
	}
	return w.floats(t)
}

// Floats loads any tensor of the given dims (ggml order) as float32.
func (w *Weights) Floats(name string, dims []int, optional bool) []float32 {
	t := w.info(name, optional)
	if t == nil {
		return nil
	}
	ok := len(t.Dims) == len(dims)
	for i := 0; ok && i < len(dims); i++ {
		ok = t.Dims[i] == uint64(dims[i])
	}
	if !ok {
		w.fail(fmt.Errorf("%w: tensor %s has shape %v, expected %v", ErrBadModel, name, t.Dims, dims))
		return nil
	}
	return w.floats(t)
}

// read returns t's bytes: in the buffer w reuses when reuse is true (the caller keeps nothing
// of them), else in a new one.
func (w *Weights) read(t *gguf.TensorInfo, reuse bool) ([]byte, error) {
	if !reuse {
		return w.F.TensorData(t)
	}
	if int64(cap(w.buf)) < t.Size { // the size was checked against the file's length
		w.buf = make([]byte, t.Size)
	}
	w.buf = w.buf[:t.Size]
	if err := w.F.ReadTensor(t, w.buf); err != nil {
		return nil, err
	}
	return w.buf, nil
}

func (w *Weights) floats(t *gguf.TensorInfo) []float32 {
	data, err := w.read(t, true)
	if err != nil {
		w.fail(err)
		return nil
	}
	out := make([]float32, t.Elements())
	if err := quant.Dequantize(t.Type, out, data); err != nil {
		w.fail(fmt.Errorf("tensor %s: %w", t.Name, err))
		return nil
	}
	w.Bytes += int64(len(out)) * 4
	return out
}

// Linear is y = W x + b with an optional bias.
type Linear struct {
	W backend.Weight
	B []float32 // nil when the layer has no bias
}

// Linear loads name.weight (rows, cols) and an optional name.bias (rows).
func (w *Weights) Linear(name string, rows, cols int, bias bool) Linear {
	l := Linear{W: w.Matrix(name+".weight", rows, cols, false)}
	if bias {
		l.B = w.Vector(name+".bias", rows, true)
	}
	return l
}

// Apply sets dst (n, rows) = x (n, cols) · Wᵀ + b.
func (l Linear) Apply(be backend.Backend, dst, x []float32, n int) {
	be.MatMul(dst, l.W, x, n)
	l.addBias(dst, n)
}

// ApplyThree is a.Apply(be, da, x, n), b.Apply(be, db, x, n) and c.Apply(be, dc, x, n), the
// three products of the one input in one backend.MatMulShared.
func ApplyThree(be backend.Backend, a, b, c Linear, da, db, dc, x []float32, n int) {
	backend.MatMulShared(be, da, db, dc, a.W, b.W, c.W, x, n)
	a.addBias(da, n)
	b.addBias(db, n)
	c.addBias(dc, n)
}

// addBias adds b to each of the n rows of dst.
func (l Linear) addBias(dst []float32, n int) {
	if l.B == nil {
		return
	}
	rows := len(l.B)
	for i := 0; i < n; i++ {
		row := dst[i*rows : (i+1)*rows]
		for j, b := range l.B {
			row[j] += b
		}
	}
}

// Norm holds a normalization's scale and optional shift.
type Norm struct {
	W, B []float32
}

// Norm loads name.weight and, if bias, name.bias (both of length n).
func (w *Weights) Norm(name string, n int, bias bool) Norm {
	nm := Norm{W: w.Vector(name+".weight", n, false)}
	if bias {
		nm.B = w.Vector(name+".bias", n, false)
	}
	return nm
}
