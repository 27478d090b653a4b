package benchrun

import (
	"testing"

	"github.com/attnscope/attnscope/engine/backend/cpu"
	"github.com/attnscope/attnscope/engine/gguf"
)

// WeightBytes counts every tensor a token reads whole: not the embedding tables, except the
// token embeddings where they are the output matrix too.
func TestWeightBytes(t *testing.T) {
	ts := func(sizes map[string]int64) *gguf.File {
		f := &gguf.File{}
		for name, size := range sizes {
			f.Tensors = append(f.Tensors, gguf.TensorInfo{Name: name, Size: size})
		}
		return f
	}
	for _, c := range []struct {
		name  string
		sizes map[string]int64
		want  int64
	}{
		{"llama", map[string]int64{"token_embd.weight": 1000, "output.weight": 900, "blk.0.attn_q.weight": 40, "output_norm.weight": 2}, 942},
		{"tied", map[string]int64{"token_embd.weight": 1000, "blk.0.attn_q.weight": 40}, 1040},
		{"gpt2", map[string]int64{"token_embd.weight": 1000, "position_embd.weight": 300, "output.weight": 900, "blk.0.attn_qkv.weight": 60}, 960},
		{"bert", map[string]int64{"token_embd.weight": 1000, "position_embd.weight": 300, "token_types.weight": 20, "output.weight": 5, "blk.0.attn_q.weight": 40}, 45},
	} {
		if got := WeightBytes(ts(c.sizes)); got != c.want {
			t.Errorf("%s: WeightBytes = %d, want %d", c.name, got, c.want)
		}
	}
}

// Stream's products read their matrices and give a rate.
func TestStream(t *testing.T) {
	s, err := NewStream(cpu.New(1))
	if err != nil {
		t.Fatal(err)
	}
	if g := s.GBs(); !(g > 0) {
		t.Errorf("GBs = %g", g)
	}
	if s.dst[0] != 0 || s.dst[len(s.dst)-1] != 0 {
		t.Errorf("a zero matrix times ones gave %g, %g", s.dst[0], s.dst[len(s.dst)-1])
	}
	if s.w[0].Rows()*4096 != int(s.bytes[0]) || s.w[1].Rows()*1088 != int(s.bytes[1]) || s.bytes[1] > StreamBytes || s.bytes[1] < StreamBytes-8*1088 {
		t.Errorf("matrices of %d and %d rows for %d and %d bytes", s.w[0].Rows(), s.w[1].Rows(), s.bytes[0], s.bytes[1])
	}
}
