package backend

import (
	"errors"

	"github.com/attnscope/attnscope/engine/quant"
)

// ErrUnavailable is returned when a backend cannot run on this machine (no driver, no device).
var ErrUnavailable = errors.New("backend unavailable")

// Weight is a weight matrix of Rows rows of Cols elements each, stored by a backend.
type Weight interface {
	Name() string
	Type() quant.Type
	Rows() int
	Cols() int
	Bytes() int64 // storage the backend holds for it
}

// A Copier is a Backend whose NewWeight never keeps the data it is given, so that the caller
// may read the next tensor into the same buffer. Loading through one buffer leaves no tensor's
// bytes behind as garbage, which would otherwise raise the peak memory of a load by up to the
// weights' size again (until collected) and come back as memory to be cleared for the next
// allocations.
type Copier interface {
	CopiesWeights() bool
}

// SharedMatMuler is a Backend that multiplies one input by two or three weights in one call
// (a layer's query, key and value projections, or its gate and up projections): the CPU
// backend prepares the input once and hands its threads all the products' rows before it waits
// for them, once.
type SharedMatMuler interface {
	// MatMulShared is MatMul(d0, w0, x, n), MatMul(d1, w1, x, n) and, where w2 is not nil,
	// MatMul(d2, w2, x, n), with the same results.
	MatMulShared(d0, d1, d2 []float32, w0, w1, w2 Weight, x []float32, n int)
}

// MatMulShared calls be's MatMulShared where it has one, else MatMul for each weight.
func MatMulShared(be Backend, d0, d1, d2 []float32, w0, w1, w2 Weight, x []float32, n int) {
	if s, ok := be.(SharedMatMuler); ok {
		s.MatMulShared(d0, d1, d2, w0, w1, w2, x, n)
		return
	}
	be.MatMul(d0, w0, x, n)
	be.MatMul(d1, w1, x, n)
	if w2 != nil {
		be.MatMul(d2, w2, x, n)
	}
}

// Runner is a Backend whose threads take other work between products: Run calls t.Run(i)
// for every i < n, spread over at most its threads (i = 0 on the caller's), and returns when
// all have returned. The CPU backend's threads poll for work for a while after each product,
// so handing them a task starts no goroutine and wakes none from sleep.
type Runner interface {
	Run(n int, t Task)
}

// Task is work a Runner spreads: part i of it.
type Task interface {
	Run(i int)
}

// Backend runs the weight products of a model.
type Backend interface {
	// Name is a short identifier ("cpu", "cuda").
	Name() string
	// NewWeight takes a matrix of rows×cols elements of type t in ggml's layout (row-major, each
	// row RowBytes(t, cols) long). The backend may keep data or copy it.
	NewWeight(name string, t quant.Type, rows, cols int, data []byte) (Weight, error)
	// MatMul sets dst (n, w.Rows()) = x (n, w.Cols()) · Wᵀ, row by row.
	MatMul(dst []float32, w Weight, x []float32, n int)
	// Row writes row r of w, dequantized, into dst (len w.Cols()): an embedding lookup.
	Row(dst []float32, w Weight, r int)
	// Close releases what the backend holds.
	Close() error
}
