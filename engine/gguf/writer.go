package gguf

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/attnscope/attnscope/engine/quant"
)

// Builder assembles a GGUF v3 file from metadata entries and tensors, kept in the order they
// were added, and writes it with WriteTo in the layout ggml and gguf-py use:
//
//	header ("GGUF", version 3, tensor count, metadata count)
//	metadata entries
//	tensor infos, offsets counted from the data section, each a multiple of the alignment
//	zero padding to the alignment, then each tensor's bytes followed by zero padding
//
// The alignment is general.alignment if set (a uint32 power of two), else DefaultAlignment.
// A file without tensors ends right after its metadata, as gguf-py writes vocabulary-only
// files (ggml would add padding that no reader needs).
//
// Dimensions are written as given (ggml drops trailing 1s when it writes; gguf-py keeps them).
// Arrays of arrays are valid GGUF and are written, but ggml itself refuses to load them.
//
// Every Add/Set method checks its input and returns an error wrapping ErrInvalid, so WriteTo
// writes only what Read accepts. The zero Builder is not usable; call NewBuilder.
type Builder struct {
	kvs     []KV
	keys    map[string]int
	tensors []pendingTensor
	names   map[string]int
	align   int
}

// pendingTensor is a tensor waiting to be written: its bytes are data or, if src is set,
// bytes [0, info.Size) of src.
type pendingTensor struct {
	info TensorInfo
	data []byte
	src  io.ReaderAt
}

// NewBuilder returns an empty Builder.
func NewBuilder() *Builder {
	return &Builder{keys: map[string]int{}, names: map[string]int{}, align: DefaultAlignment}
}

// FromFile returns a Builder holding all of f's metadata and tensors, in f's order; the tensor
// bytes are read from f when the Builder is written, so f must stay open until then. Values
// share their slices with f. Change the copy with SetKV, SetTensor and the Remove methods.
func FromFile(f *File) (*Builder, error) {
	if f.r == nil {
		return nil, fmt.Errorf("gguf: FromFile: the File was not made by Read or Open: %w", ErrInvalid)
	}
	b := NewBuilder()
	for _, kv := range f.KVs {
		if err := b.AddKV(kv.Key, kv.Value); err != nil {
			return nil, err
		}
	}
	for i := range f.Tensors {
		t := &f.Tensors[i]
		src := io.NewSectionReader(f.r, f.DataOffset+int64(t.Offset), t.Size)
		if err := b.AddTensorFrom(t.Name, t.Type, t.Dims, src); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// WriteTo writes f's metadata and tensors as a GGUF v3 file (see Builder for the layout).
// A file laid out as ggml lays it out is reproduced byte for byte.
func (f *File) WriteTo(w io.Writer) (int64, error) {
	b, err := FromFile(f)
	if err != nil {
		return 0, err
	}
	return b.WriteTo(w)
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("gguf: %s: %w", fmt.Sprintf(format, args...), ErrInvalid)
}

// AddKV appends a metadata entry. The key must be new and v well-formed (see Value).
func (b *Builder) AddKV(key string, v Value) error {
	if _, dup := b.keys[key]; dup {
		return invalid("metadata %q is already set", key)
	}
	return b.SetKV(key, v)
}

// SetKV sets a metadata entry, replacing the value of an existing key in place or appending
// a new one.
func (b *Builder) SetKV(key string, v Value) error {
	if err := checkKey(key); err != nil {
		return invalid("%v", err)
	}
	if err := checkValue(v, 0); err != nil {
		return invalid("metadata %q: %v", key, err)
	}
	if key == KeyAlignment {
		a, err := alignmentOf(v)
		if err != nil {
			return invalid("%v", err)
		}
		b.align = a
	}
	if i, ok := b.keys[key]; ok {
		b.kvs[i].Value = v
		return nil
	}
	b.keys[key] = len(b.kvs)
	b.kvs = append(b.kvs, KV{Key: key, Value: v})
	return nil
}

// RemoveKV removes a metadata entry and reports whether it was there.
func (b *Builder) RemoveKV(key string) bool {
	i, ok := b.keys[key]
	if !ok {
		return false
	}
	b.kvs = slices.Delete(b.kvs, i, i+1)
	reindex(b.keys, len(b.kvs), func(j int) string { return b.kvs[j].Key })
	if key == KeyAlignment {
		b.align = DefaultAlignment
	}
	return true
}

// Alignment is the data alignment the file will be written with.
func (b *Builder) Alignment() int { return b.align }

// AddTensor appends a tensor of type typ and shape dims (ggml order, row length first) whose
// bytes are data, which must be exactly as long as the shape needs. data is not copied: leave
// it unchanged until the Builder is written.
func (b *Builder) AddTensor(name string, typ quant.Type, dims []uint64, data []byte) error {
	return b.putTensor(name, typ, dims, data, nil, false)
}

// AddTensorFrom appends a tensor whose bytes are read from src, starting at offset 0, when the
// Builder is written (use an io.SectionReader for a range of a larger reader).
func (b *Builder) AddTensorFrom(name string, typ quant.Type, dims []uint64, src io.ReaderAt) error {
	if src == nil {
		return invalid("tensor %q: nil source", name)
	}
	return b.putTensor(name, typ, dims, nil, src, false)
}

// SetTensor replaces the tensor called name in place (its position in the file stays) or, if
// there is none, appends it. Its type and shape may change.
func (b *Builder) SetTensor(name string, typ quant.Type, dims []uint64, data []byte) error {
	return b.putTensor(name, typ, dims, data, nil, true)
}

// RemoveTensor removes a tensor and reports whether it was there.
func (b *Builder) RemoveTensor(name string) bool {
	i, ok := b.names[name]
	if !ok {
		return false
	}
	b.tensors = slices.Delete(b.tensors, i, i+1)
	reindex(b.names, len(b.tensors), func(j int) string { return b.tensors[j].info.Name })
	return true
}

func (b *Builder) putTensor(name string, typ quant.Type, dims []uint64, data []byte, src io.ReaderAt, replace bool) error {
	i, exists := b.names[name]
	if exists && !replace {
		return invalid("tensor %q is already added", name)
	}
	if err := checkTensorName(name); err != nil {
		return invalid("%v", err)
	}
	if !typ.Known() {
		return invalid("tensor %q: type %d is not a ggml type", name, uint32(typ))
	}
	size, err := tensorSize(typ, dims)
	if err != nil {
		return invalid("tensor %q: %v", name, err)
	}
	if src == nil && int64(len(data)) != size {
		return invalid("tensor %q: %d bytes of data for %s%v, which needs %d", name, len(data), typ, dims, size)
	}
	t := pendingTensor{info: TensorInfo{Name: name, Dims: slices.Clone(dims), Type: typ, Size: size}, data: data, src: src}
	if exists {
		b.tensors[i] = t
		return nil
	}
	b.names[name] = len(b.tensors)
	b.tensors = append(b.tensors, t)
	return nil
}

func reindex(idx map[string]int, n int, name func(int) string) {
	clear(idx)
	for j := range n {
		idx[name(j)] = j
	}
}

// header encodes everything before the tensor data, with the padding after it.
func (b *Builder) header() ([]byte, error) {
	h := []byte(Magic)
	h = appendU32(h, 3)
	h = appendU64(h, uint64(len(b.tensors)))
	h = appendU64(h, uint64(len(b.kvs)))
	for _, kv := range b.kvs {
		h = appendKV(h, kv.Key, kv.Value)
	}
	var off int64
	for i := range b.tensors {
		t := &b.tensors[i].info
		if t.Size > math.MaxInt64-off-int64(b.align) {
			return nil, invalid("tensor %q: the data section would exceed 2^63-1 bytes", t.Name)
		}
		t.Offset = uint64(off)
		h = appendTensorInfo(h, t)
		off = alignUp(off+t.Size, b.align)
	}
	if len(b.tensors) > 0 {
		h = append(h, make([]byte, alignUp(int64(len(h)), b.align)-int64(len(h)))...)
	}
	return h, nil
}

// WriteTo writes the file to w and returns the number of bytes written.
func (b *Builder) WriteTo(w io.Writer) (int64, error) {
	h, err := b.header()
	if err != nil {
		return 0, err
	}
	cw := &countingWriter{w: w}
	if _, err := cw.Write(h); err != nil {
		return cw.n, fmt.Errorf("gguf: writing the header: %w", err)
	}
	var zeros, buf []byte
	for i := range b.tensors {
		t := &b.tensors[i]
		if err := t.write(cw, &buf); err != nil {
			return cw.n, err
		}
		if pad := alignUp(t.info.Size, b.align) - t.info.Size; pad > 0 {
			if zeros == nil {
				zeros = make([]byte, b.align)
			}
			if _, err := cw.Write(zeros[:pad]); err != nil {
				return cw.n, fmt.Errorf("gguf: writing tensor %q: %w", t.info.Name, err)
			}
		}
	}
	return cw.n, nil
}

func (t *pendingTensor) write(w io.Writer, buf *[]byte) error {
	if t.src == nil {
		if _, err := w.Write(t.data); err != nil {
			return fmt.Errorf("gguf: writing tensor %q: %w", t.info.Name, err)
		}
		return nil
	}
	if *buf == nil {
		*buf = make([]byte, 1<<20)
	}
	n, err := io.CopyBuffer(w, io.NewSectionReader(t.src, 0, t.info.Size), *buf)
	if err == nil && n < t.info.Size {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		var we *writeError
		if errors.As(err, &we) {
			return fmt.Errorf("gguf: writing tensor %q: %w", t.info.Name, we.err)
		}
		return fmt.Errorf("gguf: tensor %q: reading its %d bytes from the source: got %d: %w", t.info.Name, t.info.Size, n, err)
	}
	return nil
}

// countingWriter counts bytes written and marks write errors, to tell them from read errors
// during a copy.
type countingWriter struct {
	w io.Writer
	n int64
}

type writeError struct{ err error }

func (e *writeError) Error() string { return e.err.Error() }
func (e *writeError) Unwrap() error { return e.err }

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	if err != nil {
		return n, &writeError{err}
	}
	return n, nil
}
