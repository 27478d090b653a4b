package gguf

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"

	"github.com/attnscope/attnscope/engine/quant"
	"github.com/attnscope/attnscope/internal/shareddata"
)

// sharedModels returns the paths of all shared .gguf files (skipping if they are absent).
func sharedModels(t testing.TB) []string {
	t.Helper()
	dir := filepath.Dir(shareddata.Model(t, "stories260K.gguf"))
	paths, err := filepath.Glob(filepath.Join(dir, "*.gguf"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no .gguf files in %s (%v)", dir, err)
	}
	return paths
}

func readBytes(t testing.TB, data []byte) *File {
	t.Helper()
	f, err := Read(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func written(t testing.TB, b *Builder) []byte {
	t.Helper()
	var buf bytes.Buffer
	n, err := b.WriteTo(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(buf.Len()) {
		t.Fatalf("WriteTo reported %d bytes, wrote %d", n, buf.Len())
	}
	return buf.Bytes()
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// filled returns n bytes of a recognisable pattern.
func filled(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i*7)
	}
	return b
}

// sampleBuilder holds every value type, nested arrays, and tensors of several types whose
// sizes are not multiples of the alignment.
func sampleBuilder(t testing.TB) *Builder {
	t.Helper()
	b := NewBuilder()
	kvs := []struct {
		k string
		v any
	}{
		{"general.architecture", "llama"}, {"general.name", "sample"},
		{"s.u8", uint8(200)}, {"s.i8", int8(-5)}, {"s.u16", uint16(60000)}, {"s.i16", int16(-3000)},
		{"s.u32", uint32(1 << 31)}, {"s.i32", int32(-1 << 30)}, {"s.f32", float32(math.NaN())},
		{"s.bool", true}, {"s.u64", uint64(1 << 63)}, {"s.i64", int64(-1 << 62)}, {"s.f64", math.Inf(-1)},
		{"a.u8", []uint8{1, 2}}, {"a.i8", []int8{-1}}, {"a.u16", []uint16{}}, {"a.i16", []int16{-2, 3}},
		{"a.u32", []uint32{7}}, {"a.i32", []int32{1, 2, 3}}, {"a.f32", []float32{0.5, -0.25}},
		{"a.bool", []bool{true, false}}, {"a.str", []string{"", "héllo", "\x00\xff"}},
		{"a.u64", []uint64{9}}, {"a.i64", []int64{-9}}, {"a.f64", []float64{1e300}},
		{"a.nested", []Value{ValueOf([]int32{1, 2}), ValueOf([]string{"x"}), ValueOf([]Value{ValueOf([]bool{true})})}},
		{KeyFileType, uint32(7)},
	}
	for _, kv := range kvs {
		must(t, b.AddKV(kv.k, ValueOf(kv.v)))
	}
	must(t, b.AddTensor("tok", quant.F32, []uint64{3, 2}, filled(24, 1)))
	must(t, b.AddTensor("blk.0.w", quant.Q8_0, []uint64{64, 3}, filled(6*34, 2)))
	must(t, b.AddTensor("blk.0.n", quant.F16, []uint64{5}, filled(10, 3)))
	must(t, b.AddTensor("blk.0.k", quant.Q4_K, []uint64{256, 1, 1, 2}, filled(2*144, 4)))
	return b
}

// raw assembles GGUF bytes by hand, for inputs the Builder refuses to make.
type raw struct{ b []byte }

func header(version uint32, nTensors, nKV uint64) *raw {
	r := &raw{b: []byte(Magic)}
	return r.u32(version).u64(nTensors).u64(nKV)
}

func (r *raw) u8(x uint8) *raw   { r.b = append(r.b, x); return r }
func (r *raw) u32(x uint32) *raw { r.b = binary.LittleEndian.AppendUint32(r.b, x); return r }
func (r *raw) u64(x uint64) *raw { r.b = binary.LittleEndian.AppendUint64(r.b, x); return r }
func (r *raw) str(s string) *raw { return r.u64(uint64(len(s))).bytes([]byte(s)) }

func (r *raw) bytes(p []byte) *raw { r.b = append(r.b, p...); return r }

// kv adds a scalar uint32 entry.
func (r *raw) kvU32(key string, x uint32) *raw { return r.str(key).u32(uint32(TypeUint32)).u32(x) }

// tensor adds a tensor info.
func (r *raw) tensor(name string, typ quant.Type, off uint64, dims ...uint64) *raw {
	r.str(name).u32(uint32(len(dims)))
	for _, d := range dims {
		r.u64(d)
	}
	return r.u32(uint32(typ)).u64(off)
}

// data pads to align and appends n bytes of tensor data.
func (r *raw) data(align, n int) *raw {
	for len(r.b)%align != 0 {
		r.b = append(r.b, 0)
	}
	r.b = append(r.b, make([]byte, n)...)
	return r
}

// countingReaderAt records the byte ranges read through it.
type countingReaderAt struct {
	r      *bytes.Reader
	mu     sync.Mutex
	ranges [][2]int64
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.mu.Lock()
	c.ranges = append(c.ranges, [2]int64{off, off + int64(n)})
	c.mu.Unlock()
	return n, err
}

// stats returns the bytes read, the end of the furthest read and whether any byte was read
// twice.
func (c *countingReaderAt) stats() (total, end int64, overlap bool) {
	rs := append([][2]int64(nil), c.ranges...)
	sort.Slice(rs, func(i, j int) bool { return rs[i][0] < rs[j][0] })
	for i, r := range rs {
		total += r[1] - r[0]
		if i > 0 && r[0] < end {
			overlap = true
		}
		end = max(end, r[1])
	}
	return total, end, overlap
}
