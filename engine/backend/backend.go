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
