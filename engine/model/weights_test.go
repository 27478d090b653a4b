package model_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/attnscope/attnscope/engine/backend"
	"github.com/attnscope/attnscope/engine/gguf"
	"github.com/attnscope/attnscope/engine/model"
	"github.com/attnscope/attnscope/engine/quant"
)

// keeper is a backend whose weights hold the very data slices NewWeight was given (which the
// Backend contract allows), or copies of them when copies is set (a backend.Copier).
type keeper struct {
	copies bool
	kept   map[string][]byte
}

type keptWeight struct {
	name       string
	t          quant.Type
	rows, cols int
	n          int
}

func (w *keptWeight) Name() string     { return w.name }
func (w *keptWeight) Type() quant.Type { return w.t }
func (w *keptWeight) Rows() int        { return w.rows }
func (w *keptWeight) Cols() int        { return w.cols }
func (w *keptWeight) Bytes() int64     { return int64(w.n) }

func (k *keeper) Name() string                                               { return "keeper" }
func (k *keeper) Close() error                                               { return nil }
func (k *keeper) MatMul(dst []float32, w backend.Weight, x []float32, n int) {}
func (k *keeper) Row(dst []float32, w backend.Weight, r int)                 {}
func (k *keeper) NewWeight(name string, t quant.Type, rows, cols int, data []byte) (backend.Weight, error) {
	if k.copies {
		data = bytes.Clone(data)
	}
	k.kept[name] = data
	return &keptWeight{name, t, rows, cols, len(data)}, nil
}

// copier is a keeper that says it copies.
type copier struct{ keeper }

func (c *copier) CopiesWeights() bool { return true }

// TestWeightsReuseOnlyForCopiers loads tensors of several sizes through Weights: a backend
// that keeps the slices it is given must find each one intact after the others were read (no
// shared buffer), and a Copier must get each tensor's own bytes too.
func TestWeightsReuseOnlyForCopiers(t *testing.T) {
	b := gguf.NewBuilder()
	rng := rand.New(rand.NewPCG(1, 2))
	want := map[string][]byte{}
	shapes := [][2]int{{64, 32}, {8, 32}, {128, 64}, {3, 32}}
	for i, s := range shapes {
		for _, typ := range []quant.Type{quant.F32, quant.Q8_0} {
			rb, _ := quant.RowBytes(typ, s[1])
			data := make([]byte, s[0]*rb)
			for j := range data {
				data[j] = byte(rng.Uint32())
			}
			if typ == quant.Q8_0 {
				for r := 0; r < len(data); r += 34 {
					data[r], data[r+1] = 0x00, 0x3c // scale 1, no NaN
				}
			} else {
				for j := 3; j < len(data); j += 4 {
					data[j] &= 0x3f // finite floats
				}
			}
			name := fmt.Sprintf("t%d.%s", i, typ)
			if err := b.AddTensor(name, typ, []uint64{uint64(s[1]), uint64(s[0])}, data); err != nil {
				t.Fatal(err)
			}
			want[name] = data
		}
	}
	var file bytes.Buffer
	if _, err := b.WriteTo(&file); err != nil {
		t.Fatal(err)
	}
	for _, be := range []interface {
		backend.Backend
		keptData() map[string][]byte
	}{&keeper{kept: map[string][]byte{}}, &copier{keeper{copies: true, kept: map[string][]byte{}}}} {
		f, err := gguf.Read(bytes.NewReader(file.Bytes()), int64(file.Len()))
		if err != nil {
			t.Fatal(err)
		}
		w := &model.Weights{F: f, B: be}
		for i, s := range shapes {
			for _, typ := range []quant.Type{quant.F32, quant.Q8_0} {
				w.Matrix(fmt.Sprintf("t%d.%s", i, typ), s[0], s[1], false)
				// Floats reads through the buffer whatever the backend.
				name := fmt.Sprintf("t%d.%s", i, quant.F32)
				got := w.Floats(name, []int{s[1], s[0]}, false)
				for j, v := range got {
					if math.Float32bits(v) != binary.LittleEndian.Uint32(want[name][4*j:]) {
						t.Fatalf("%s: Floats(%s)[%d] = %v", be.Name(), name, j, v)
					}
				}
			}
		}
		if err := w.Err(); err != nil {
			t.Fatal(err)
		}
		for name, data := range want {
			if !bytes.Equal(be.keptData()[name], data) {
				t.Errorf("%s: tensor %s changed after the load", be.Name(), name)
			}
		}
	}
}

func (k *keeper) keptData() map[string][]byte { return k.kept }
