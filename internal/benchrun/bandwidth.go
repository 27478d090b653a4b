package benchrun

import (
	"fmt"
	"strings"
	"time"

	"github.com/attnscope/attnscope/engine/backend"
	"github.com/attnscope/attnscope/engine/gguf"
	"github.com/attnscope/attnscope/engine/quant"
)

// WeightBytes is how many bytes of f's tensors generating one token reads, in the file's
// encoding: every tensor but the embedding tables, of which a token reads one row. The token
// embeddings count where they are also the output matrix (a file without output.weight).
func WeightBytes(f *gguf.File) int64 {
	tied := true
	for _, t := range f.Tensors {
		if t.Name == "output.weight" {
			tied = false
		}
	}
	var n int64
	for _, t := range f.Tensors {
		table := strings.HasSuffix(t.Name, "_embd.weight") || t.Name == "token_types.weight"
		if table && !(tied && t.Name == "token_embd.weight") {
			continue
		}
		n += t.Size
	}
	return n
}

// StreamBytes is the size of Stream's matrix: far more than any cache holds.
const StreamBytes = 128 << 20

// Stream measures how fast a backend reads memory the way generation reads weights: one
// product of a float32 matrix of StreamBytes with one vector, every byte read once. On the CPU
// this is the bandwidth that bounds generation (a token reads WeightBytes), on the threads the
// backend was made with.
type Stream struct {
	be     backend.Backend
	w      backend.Weight
	x, dst []float32
}

// NewStream makes the matrix on be.
func NewStream(be backend.Backend) (*Stream, error) {
	const cols = 1024
	rows := StreamBytes / (4 * cols)
	w, err := be.NewWeight("bandwidth probe", quant.F32, rows, cols, make([]byte, StreamBytes))
	if err != nil {
		return nil, fmt.Errorf("bandwidth probe: %w", err)
	}
	x := make([]float32, cols)
	for i := range x {
		x[i] = 1
	}
	return &Stream{be: be, w: w, x: x, dst: make([]float32, rows)}, nil
}

// GBs runs one product and returns the bytes it read per second, in GB/s (10⁹ bytes).
func (s *Stream) GBs() float64 {
	start := time.Now()
	s.be.MatMul(s.dst, s.w, s.x, 1)
	return StreamBytes / time.Since(start).Seconds() / 1e9
}
