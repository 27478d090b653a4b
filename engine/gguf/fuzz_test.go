package gguf

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"testing"

	"github.com/attnscope/attnscope/internal/shareddata"
)

// fuzzSeeds are small valid files made with the Builder, plus, where the shared models are
// present, the first KiB of each and small copies of each: its metadata with arrays cut to
// 16 elements, and its two smallest tensors.
func fuzzSeeds(tb testing.TB) [][]byte {
	seeds := [][]byte{written(tb, sampleBuilder(tb)), written(tb, NewBuilder())}
	b := sampleBuilder(tb)
	must(tb, b.AddKV(KeyAlignment, ValueOf(uint32(8))))
	v2 := written(tb, b)
	v2[4] = 2
	seeds = append(seeds, v2, nested(MaxNesting))
	root := shareddata.Root()
	if root == "" {
		return seeds
	}
	paths, _ := filepath.Glob(filepath.Join(root, "models", "*.gguf"))
	for _, p := range paths {
		in, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		seeds = append(seeds, in[:min(len(in), 1024)])
		f, err := Read(bytes.NewReader(in), int64(len(in)))
		if err != nil {
			continue
		}
		c, err := FromFile(f)
		must(tb, err)
		for _, kv := range f.KVs {
			if x := reflect.ValueOf(kv.Value.V); x.Kind() == reflect.Slice && x.Len() > 16 {
				must(tb, c.SetKV(kv.Key, Value{Type: TypeArray, Elem: kv.Value.Elem, V: x.Slice(0, 16).Interface()}))
			}
		}
		kept := 0
		for _, t := range f.Tensors {
			if t.Size > 256 || kept == 2 {
				c.RemoveTensor(t.Name)
			} else {
				kept++
			}
		}
		seeds = append(seeds, written(tb, c))
	}
	return seeds
}

// FuzzRead checks that Read never panics, allocates memory in proportion to its input, and
// that whatever it accepts can be written and read back to the same header and data.
func FuzzRead(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		file, err := Read(bytes.NewReader(in), int64(len(in)))
		runtime.ReadMemStats(&after)
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > uint64(64*len(in)+(256<<10)) {
			t.Fatalf("reading %d bytes allocated %d bytes", len(in), alloc)
		}
		if err != nil {
			return
		}
		var out bytes.Buffer
		if _, err := file.WriteTo(&out); err != nil {
			t.Fatalf("a file that was read cannot be written: %v", err)
		}
		again, err := Read(bytes.NewReader(out.Bytes()), int64(out.Len()))
		if err != nil {
			t.Fatalf("a written file cannot be read: %v", err)
		}
		sameContent(t, file, again)
		var out2 bytes.Buffer
		if _, err := again.WriteTo(&out2); err != nil || !bytes.Equal(out.Bytes(), out2.Bytes()) {
			t.Fatalf("writing is not stable (%v)", err)
		}
	})
}

// sameContent compares metadata (by encoding, so NaNs compare equal), tensor infos other than
// offsets, and tensor data.
func sameContent(t *testing.T, a, b *File) {
	t.Helper()
	if len(a.KVs) != len(b.KVs) || len(a.Tensors) != len(b.Tensors) || a.Alignment != b.Alignment {
		t.Fatalf("%d keys, %d tensors, alignment %d became %d, %d, %d",
			len(a.KVs), len(a.Tensors), a.Alignment, len(b.KVs), len(b.Tensors), b.Alignment)
	}
	for i := range a.KVs {
		x, y := appendKV(nil, a.KVs[i].Key, a.KVs[i].Value), appendKV(nil, b.KVs[i].Key, b.KVs[i].Value)
		if !bytes.Equal(x, y) {
			t.Fatalf("key %q changed", a.KVs[i].Key)
		}
	}
	for i := range a.Tensors {
		p, q := &a.Tensors[i], &b.Tensors[i]
		if p.Name != q.Name || p.Type != q.Type || p.Size != q.Size || !slices.Equal(p.Dims, q.Dims) {
			t.Fatalf("tensor %d: %+v became %+v", i, *p, *q)
		}
		x, err1 := a.TensorData(p)
		y, err2 := b.TensorData(q)
		if err1 != nil || err2 != nil || !bytes.Equal(x, y) {
			t.Fatalf("tensor %q: data changed (%v, %v)", p.Name, err1, err2)
		}
	}
}
