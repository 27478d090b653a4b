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

// StreamBytes is the size of each of Stream's matrices: far more than any cache holds.
const StreamBytes = 128 << 20

// Stream measures how fast a backend reads memory the way generation reads weights: a product
// of a float32 matrix of StreamBytes with one vector, and one of a Q8_0 matrix of StreamBytes,
// every byte read once, and the faster of the two. Both read two streams far apart (rows, resp.
// packed groups, from both halves), which this machine's cores read faster than one, but their
// loops differ, so the faster one is the better estimate of what memory allows (with the float
// rows read one after the other, the Q8_0 product read 8–17% faster). On the CPU this is the
// bandwidth that bounds generation (a token reads WeightBytes), on the threads the backend was
// made with.
type Stream struct {
	be     backend.Backend
	w      [2]backend.Weight // F32, Q8_0
	bytes  [2]int64
	x, dst []float32
}

// NewStream makes the matrices on be.
func NewStream(be backend.Backend) (*Stream, error) {
	const cols = 1024
	s := &Stream{be: be, x: make([]float32, cols)}
	for i := range s.x {
		s.x[i] = 1
	}
	for i, t := range []quant.Type{quant.F32, quant.Q8_0} {
		rb, err := quant.RowBytes(t, cols)
		if err != nil {
			return nil, err
		}
		rows := StreamBytes / rb &^ 7
		w, err := be.NewWeight("bandwidth probe", t, rows, cols, make([]byte, rows*rb))
		if err != nil {
			return nil, fmt.Errorf("bandwidth probe: %w", err)
		}
		s.w[i], s.bytes[i] = w, int64(rows*rb)
		if rows > len(s.dst) {
			s.dst = make([]float32, rows)
		}
	}
	return s, nil
}

// GBs runs both products and returns the bytes the faster one read per second, in GB/s (10⁹
// bytes).
func (s *Stream) GBs() float64 {
	best := 0.0
	for i, w := range s.w {
		start := time.Now()
		s.be.MatMul(s.dst[:w.Rows()], w, s.x, 1)
		best = max(best, float64(s.bytes[i])/time.Since(start).Seconds()/1e9)
	}
	return best
}
