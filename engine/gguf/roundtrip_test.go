package gguf

import (
	"bytes"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/attnscope/attnscope/engine/quant"
)

// Every shared file, written by ggml or gguf-py, comes out of read → write byte for byte.
func TestRoundTripSharedFilesByteIdentical(t *testing.T) {
	for _, p := range sharedModels(t) {
		t.Run(filepath.Base(p), func(t *testing.T) {
			in := readFile(t, p)
			f := readBytes(t, in)
			var out bytes.Buffer
			if _, err := f.WriteTo(&out); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(in, out.Bytes()) {
				i := 0
				for i < min(len(in), out.Len()) && in[i] == out.Bytes()[i] {
					i++
				}
				t.Fatalf("output differs from input at byte %d (sizes %d and %d, data at %d)", i, len(in), out.Len(), f.DataOffset)
			}
		})
	}
}

func TestSharedFilesLayout(t *testing.T) {
	for _, p := range sharedModels(t) {
		f, err := Open(p)
		if err != nil {
			t.Fatal(err)
		}
		if f.Version != 3 || len(f.KVs) == 0 || f.Architecture() == "" {
			t.Errorf("%s: version %d, %d keys, architecture %q", p, f.Version, len(f.KVs), f.Architecture())
		}
		if len(f.Tensors) == 0 && f.DataOffset != f.Size {
			t.Errorf("%s: no tensors, but the data section starts at %d of %d bytes", p, f.DataOffset, f.Size)
		}
		f.Close()
	}
}

func TestSampleRoundTrip(t *testing.T) {
	b := sampleBuilder(t)
	out := written(t, b)
	f := readBytes(t, out)
	if f.Version != 3 || f.Alignment != DefaultAlignment || f.DataOffset%32 != 0 {
		t.Fatalf("version %d alignment %d data offset %d", f.Version, f.Alignment, f.DataOffset)
	}
	if len(f.KVs) != len(b.kvs) {
		t.Fatalf("%d keys, want %d", len(f.KVs), len(b.kvs))
	}
	for i, kv := range f.KVs {
		want := appendKV(nil, b.kvs[i].Key, b.kvs[i].Value)
		if got := appendKV(nil, kv.Key, kv.Value); !bytes.Equal(got, want) {
			t.Errorf("key %q: read back as %v, wrote %v", kv.Key, kv.Value, b.kvs[i].Value)
		}
	}
	var next uint64
	for i, ti := range f.Tensors {
		want := b.tensors[i]
		if ti.Name != want.info.Name || ti.Type != want.info.Type || ti.Offset != next {
			t.Errorf("tensor %d: %s %s at %d, want %s %s at %d", i, ti.Name, ti.Type, ti.Offset, want.info.Name, want.info.Type, next)
		}
		data, err := f.TensorData(&ti)
		must(t, err)
		if !bytes.Equal(data, want.data) {
			t.Errorf("tensor %q: data differs", ti.Name)
		}
		end := f.DataOffset + int64(ti.Offset) + ti.Size
		for _, c := range out[end:alignUp(end, 32)] {
			if c != 0 {
				t.Errorf("tensor %q: padding is not zero", ti.Name)
			}
		}
		next = uint64(alignUp(int64(ti.Offset)+ti.Size, 32))
	}
	if int64(len(out)) != f.DataOffset+int64(next) {
		t.Errorf("file is %d bytes, want %d", len(out), f.DataOffset+int64(next))
	}
	// Writing the parsed file again gives the same bytes.
	var again bytes.Buffer
	_, err := f.WriteTo(&again)
	must(t, err)
	if !bytes.Equal(again.Bytes(), out) {
		t.Error("read → write changed the sample file")
	}
}

func TestAlignmentKey(t *testing.T) {
	b := sampleBuilder(t)
	must(t, b.AddKV(KeyAlignment, ValueOf(uint32(256))))
	f := readBytes(t, written(t, b))
	if f.Alignment != 256 || f.DataOffset%256 != 0 {
		t.Fatalf("alignment %d, data at %d", f.Alignment, f.DataOffset)
	}
	for _, ti := range f.Tensors {
		if ti.Offset%256 != 0 {
			t.Errorf("tensor %q at %d", ti.Name, ti.Offset)
		}
	}
	if !b.RemoveKV(KeyAlignment) || b.Alignment() != DefaultAlignment {
		t.Fatal("RemoveKV did not restore the default alignment")
	}
}

// GGUF v2 has v3's layout for little-endian files; it is read, and written back as v3.
func TestVersion2(t *testing.T) {
	out := written(t, sampleBuilder(t))
	out[4] = 2
	f := readBytes(t, out)
	if f.Version != 2 {
		t.Fatalf("version %d", f.Version)
	}
	var buf bytes.Buffer
	_, err := f.WriteTo(&buf)
	must(t, err)
	out[4] = 3
	if !bytes.Equal(buf.Bytes(), out) {
		t.Error("v2 → v3 changed more than the version")
	}
}

func TestNoTensors(t *testing.T) {
	b := NewBuilder()
	must(t, b.AddKV("general.architecture", ValueOf("gpt2")))
	out := written(t, b)
	if len(out) != 24+8+len("general.architecture")+4+8+4 {
		t.Fatalf("%d bytes: a file without tensors must end after its metadata", len(out))
	}
	f := readBytes(t, out)
	if f.DataOffset != int64(len(out)) {
		t.Fatalf("data offset %d", f.DataOffset)
	}
}

// A quantizer's path: copy a file, change one tensor's type and a key, keep the rest.
func TestFromFileEdit(t *testing.T) {
	src := readBytes(t, written(t, sampleBuilder(t)))
	b, err := FromFile(src)
	must(t, err)
	must(t, b.SetTensor("tok", quant.F16, []uint64{3, 2}, filled(12, 9)))
	must(t, b.SetKV(KeyFileType, ValueOf(uint32(1))))
	must(t, b.SetTensor("extra", quant.I8, []uint64{4}, []byte{1, 2, 3, 4}))
	if !b.RemoveTensor("blk.0.n") || b.RemoveTensor("blk.0.n") {
		t.Fatal("RemoveTensor")
	}
	f := readBytes(t, written(t, b))
	var names []string
	for _, ti := range f.Tensors {
		names = append(names, ti.Name)
	}
	if got := names; len(got) != 4 || got[0] != "tok" || got[1] != "blk.0.w" || got[2] != "blk.0.k" || got[3] != "extra" {
		t.Fatalf("tensor order %v", got)
	}
	if ti, _ := f.Tensor("tok"); ti.Type != quant.F16 || ti.Size != 12 {
		t.Errorf("tok: %s, %d bytes", ti.Type, ti.Size)
	}
	if ft, _ := f.Uint(KeyFileType); ft != 1 || f.KVs[len(f.KVs)-1].Key != KeyFileType {
		t.Errorf("file type %d, or the key moved", ft)
	}
	for _, name := range []string{"blk.0.w", "blk.0.k"} {
		a, _ := src.Tensor(name)
		c, _ := f.Tensor(name)
		da, _ := src.TensorData(a)
		dc, _ := f.TensorData(c)
		if !bytes.Equal(da, dc) {
			t.Errorf("%s: data changed", name)
		}
	}
}

// Read reads the header once, front to back, and not the tensor data.
func TestReadTouchesHeaderOnce(t *testing.T) {
	for _, name := range []string{"stories260K.gguf", "tiny-bert-synthetic.gguf", "ggml-vocab-gpt-2.gguf"} {
		p := sharedModels(t)[0]
		p = filepath.Join(filepath.Dir(p), name)
		in := readFile(t, p)
		c := &countingReaderAt{r: bytes.NewReader(in)}
		f, err := Read(c, int64(len(in)))
		must(t, err)
		total, end, overlap := c.stats()
		t.Logf("%s: header %d bytes, read %d bytes in %d calls", name, f.DataOffset, total, len(c.ranges))
		if overlap {
			t.Errorf("%s: some bytes were read twice", name)
		}
		if limit := min(f.DataOffset+headerBuffer, f.Size); end > limit {
			t.Errorf("%s: read up to byte %d; the header ends at %d", name, end, f.DataOffset)
		}
	}
}

func TestReadTensorErrors(t *testing.T) {
	in := written(t, sampleBuilder(t))
	f := readBytes(t, in)
	f.r = bytes.NewReader(in[:len(in)-40]) // the file shrank after Read
	ti, _ := f.Tensor("blk.0.k")
	_, err := f.TensorData(ti)
	if !errors.Is(err, io.ErrUnexpectedEOF) || !strings.Contains(err.Error(), `tensor "blk.0.k": read`) {
		t.Fatalf("got %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Error("a wrong buffer size did not panic")
		}
	}()
	f.ReadTensor(ti, make([]byte, 3))
}
