package gguf

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/attnscope/attnscope/engine/quant"
)

// Magic is the first four bytes of every GGUF file.
const Magic = "GGUF"

// DefaultAlignment is used when the file has no general.alignment key.
const DefaultAlignment = 32

// Limits on what a file may declare. They bound every allocation made from a file's counts.
const (
	MaxDims          = 4         // ggml tensors have at most four dimensions
	MaxStringLen     = 1 << 26   // longest metadata string accepted (64 MiB)
	MaxNameLen       = 1<<16 - 1 // longest metadata key (the GGUF specification's limit)
	MaxTensorNameLen = 63        // longest tensor name ggml accepts (GGML_MAX_NAME less the NUL)
	MaxNesting       = 8         // deepest array-of-array nesting accepted
	MaxAlignment     = 1 << 20   // largest general.alignment accepted (as ggml)
)

// Sentinel errors. Read wraps them in errors that name the entry, the file position and the
// cause; Builder wraps ErrInvalid.
var (
	ErrNotGGUF     = errors.New("not a GGUF file (magic bytes are not \"GGUF\")")
	ErrVersion     = errors.New("unsupported GGUF version")
	ErrTruncated   = errors.New("file is truncated")
	ErrCorrupt     = errors.New("file is corrupt")
	ErrUnknownType = errors.New("unknown tensor type")
	ErrInvalid     = errors.New("invalid GGUF content")
)

// TensorInfo describes one tensor. Dims are in ggml order: Dims[0] is the length of a row
// (the fastest-varying dimension), so a matrix with r rows of c columns has Dims = [c, r].
type TensorInfo struct {
	Name   string
	Dims   []uint64
	Type   quant.Type
	Offset uint64 // from the start of the data section; a multiple of the alignment
	Size   int64  // bytes of data
}

// Elements is the product of the dimensions.
func (t *TensorInfo) Elements() uint64 {
	n := uint64(1)
	for _, d := range t.Dims {
		n *= d
	}
	return n
}

// Rows is the number of rows: the product of Dims[1:].
func (t *TensorInfo) Rows() uint64 { return t.Elements() / t.Dims[0] }

// File is a parsed GGUF header with access to the tensor data through the underlying reader.
type File struct {
	Version    uint32
	Alignment  int
	KVs        []KV
	Tensors    []TensorInfo
	DataOffset int64 // absolute offset of the data section
	Size       int64 // total size of the file

	r      io.ReaderAt
	closer io.Closer
	kvIdx  map[string]int
	tIdx   map[string]int
}

// Open opens and parses a GGUF file on disk. Close it when done.
func Open(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := fh.Stat()
	if err != nil {
		fh.Close()
		return nil, err
	}
	f, err := read(fh, st.Size())
	if err != nil {
		fh.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	f.closer = fh
	return f, nil
}

// Close closes the file opened by Open (a no-op for files from Read).
func (f *File) Close() error {
	if f.closer != nil {
		return f.closer.Close()
	}
	return nil
}

// Read parses the GGUF header from r (size bytes long). It reads the header once, front to
// back, and not the tensor data, which ReadTensor fetches on demand. Every count, length,
// offset and size is checked against size before it is used.
func Read(r io.ReaderAt, size int64) (*File, error) {
	f, err := read(r, size)
	if err != nil {
		return nil, fmt.Errorf("gguf: %w", err)
	}
	return f, nil
}

func read(r io.ReaderAt, size int64) (*File, error) {
	if size < 0 {
		return nil, fmt.Errorf("negative file size %d", size)
	}
	d := newDecoder(r, size)
	if size < int64(len(Magic)) {
		return nil, fmt.Errorf("%w: the file is %d bytes long", ErrNotGGUF, size)
	}
	magic := d.fixed(len(Magic))
	if d.err != nil {
		return nil, d.err
	}
	if string(magic) != Magic {
		return nil, fmt.Errorf("%w: it starts with %q", ErrNotGGUF, magic)
	}
	f := &File{r: r, Size: size, Alignment: DefaultAlignment}
	f.Version = d.u32()
	if d.err != nil {
		return nil, d.err
	}
	if err := checkVersion(f.Version); err != nil {
		return nil, err
	}
	// The smallest tensor info: name length 8, n_dims 4, one dimension 8, type 4, offset 8.
	nTensors := d.count("tensor", 32)
	// The smallest key-value pair: key length 8, value type 4, a one-byte value.
	nKV := d.count("metadata entry", 13)
	if d.err != nil {
		return nil, d.err
	}
	if err := f.readKVs(d, nKV); err != nil {
		return nil, err
	}
	if err := f.readTensorInfos(d, nTensors); err != nil {
		return nil, err
	}
	// Writers pad the header to the alignment only when tensor data follows it.
	f.DataOffset = d.pos
	if nTensors > 0 {
		f.DataOffset = alignUp(d.pos, f.Alignment)
	}
	if err := f.checkLayout(); err != nil {
		return nil, err
	}
	return f, nil
}

func checkVersion(v uint32) error {
	switch {
	case v == 2 || v == 3:
		return nil
	case v == 1:
		return fmt.Errorf("%w 1: GGUF v1 (32-bit counts) is no longer supported; convert the model again with a current llama.cpp", ErrVersion)
	case v&0xFFFF == 0:
		return fmt.Errorf("%w %d (%#08x): the file looks big-endian, which is not supported", ErrVersion, v, v)
	}
	return fmt.Errorf("%w %d (supported: 2, 3)", ErrVersion, v)
}

func (f *File) readKVs(d *decoder, n int) error {
	f.KVs = make([]KV, 0, min(n, maxPrealloc))
	f.kvIdx = make(map[string]int, min(n, maxPrealloc))
	for i := range n {
		at := d.pos
		key := d.str("metadata key", MaxNameLen)
		if d.err != nil {
			return fmt.Errorf("metadata entry %d: %w", i, d.err)
		}
		if err := checkKey(key); err != nil {
			return fmt.Errorf("metadata entry %d at byte %d: %v: %w", i, at, err, ErrCorrupt)
		}
		v := d.value(ValueType(d.u32()), 0)
		if d.err != nil {
			return fmt.Errorf("metadata %q: %w", key, d.err)
		}
		if _, dup := f.kvIdx[key]; dup {
			return fmt.Errorf("metadata %q at byte %d: the key appears twice: %w", key, at, ErrCorrupt)
		}
		if key == KeyAlignment {
			a, err := alignmentOf(v)
			if err != nil {
				return fmt.Errorf("%v: %w", err, ErrCorrupt)
			}
			f.Alignment = a
		}
		f.kvIdx[key] = len(f.KVs)
		f.KVs = append(f.KVs, KV{Key: key, Value: v})
	}
	return nil
}

func (f *File) readTensorInfos(d *decoder, n int) error {
	f.Tensors = make([]TensorInfo, 0, min(n, maxPrealloc))
	f.tIdx = make(map[string]int, min(n, maxPrealloc))
	for i := range n {
		at := d.pos
		t, err := d.tensorInfo()
		if err != nil {
			if t.Name == "" {
				return fmt.Errorf("tensor %d (at byte %d): %w", i, at, err)
			}
			return fmt.Errorf("tensor %q: %w", t.Name, err)
		}
		if j, dup := f.tIdx[t.Name]; dup {
			return fmt.Errorf("tensor %q: the name is used by tensors %d and %d: %w", t.Name, j, i, ErrCorrupt)
		}
		f.tIdx[t.Name] = len(f.Tensors)
		f.Tensors = append(f.Tensors, t)
	}
	return nil
}

// tensorInfo reads one tensor info and checks its name, shape and type.
func (d *decoder) tensorInfo() (TensorInfo, error) {
	var t TensorInfo
	at := d.pos
	t.Name = d.str("tensor name", MaxTensorNameLen)
	if d.err != nil {
		return TensorInfo{}, d.err
	}
	if err := checkTensorName(t.Name); err != nil {
		return TensorInfo{}, fmt.Errorf("at byte %d: %v: %w", at, err, ErrCorrupt)
	}
	at = d.pos
	nDims := d.u32()
	if d.err == nil && (nDims == 0 || nDims > MaxDims) {
		return t, fmt.Errorf("at byte %d: %d dimensions (must be 1 to %d): %w", at, nDims, MaxDims, ErrCorrupt)
	}
	t.Dims = make([]uint64, nDims)
	for i := range t.Dims {
		t.Dims[i] = d.u64()
	}
	at = d.pos
	t.Type = quant.Type(d.u32())
	t.Offset = d.u64()
	if d.err != nil {
		return t, d.err
	}
	if !t.Type.Known() {
		return t, fmt.Errorf("at byte %d: %w %d (not a ggml type this reader knows)", at, ErrUnknownType, uint32(t.Type))
	}
	size, err := tensorSize(t.Type, t.Dims)
	if err != nil {
		return t, fmt.Errorf("%v: %w", err, ErrCorrupt)
	}
	t.Size = size
	return t, nil
}
