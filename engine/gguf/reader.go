package gguf

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"

	"github.com/attnscope/attnscope/engine/quant"
)

// Magic is the first four bytes of every GGUF file.
const Magic = "GGUF"

// DefaultAlignment is used when the file has no general.alignment key.
const DefaultAlignment = 32

// Limits on what a file may declare. They bound every allocation made from a file's counts.
const (
	MaxDims      = 4       // ggml tensors have at most four dimensions
	MaxStringLen = 1 << 26 // longest metadata string or tensor name accepted (64 MiB)
	MaxNameLen   = 1 << 16 // longest tensor name
	MaxNesting   = 8       // deepest array-of-array nesting accepted
)

// Sentinel errors; wrapped errors name the file position and the cause.
var (
	ErrNotGGUF     = errors.New("not a GGUF file (magic bytes are not \"GGUF\")")
	ErrVersion     = errors.New("unsupported GGUF version")
	ErrTruncated   = errors.New("file is truncated")
	ErrCorrupt     = errors.New("file is corrupt")
	ErrUnknownType = errors.New("unknown tensor type")
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
	f, err := Read(fh, st.Size())
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

// decoder reads the header sequentially, tracking the position to bound every length.
type decoder struct {
	br      *bufio.Reader
	pos     int64
	size    int64
	err     error
	scratch [8]byte
}

func (d *decoder) remaining() int64 { return d.size - d.pos }

func (d *decoder) fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

func (d *decoder) read(n int) []byte {
	if d.err != nil {
		return nil
	}
	if int64(n) > d.remaining() {
		d.fail(fmt.Errorf("at byte %d: need %d bytes, %d left: %w", d.pos, n, d.remaining(), ErrTruncated))
		return nil
	}
	var b []byte
	if n <= len(d.scratch) {
		b = d.scratch[:n]
	} else {
		b = make([]byte, n)
	}
	if _, err := io.ReadFull(d.br, b); err != nil {
		d.fail(fmt.Errorf("at byte %d: %w (%v)", d.pos, ErrTruncated, err))
		return nil
	}
	d.pos += int64(n)
	return b
}

func (d *decoder) u8() uint8 {
	if b := d.read(1); b != nil {
		return b[0]
	}
	return 0
}
func (d *decoder) u16() uint16 {
	if b := d.read(2); b != nil {
		return binary.LittleEndian.Uint16(b)
	}
	return 0
}
func (d *decoder) u32() uint32 {
	if b := d.read(4); b != nil {
		return binary.LittleEndian.Uint32(b)
	}
	return 0
}
func (d *decoder) u64() uint64 {
	if b := d.read(8); b != nil {
		return binary.LittleEndian.Uint64(b)
	}
	return 0
}

// count reads a v3 uint64 (or v2 ... also uint64) count and checks that count elements of at
// least minBytes each can still fit in the file.
func (d *decoder) count(what string, minBytes int64) int {
	at := d.pos
	n := d.u64()
	if d.err != nil {
		return 0
	}
	if minBytes < 1 {
		minBytes = 1
	}
	if n > uint64(d.remaining()/minBytes) {
		d.fail(fmt.Errorf("at byte %d: %s count %d cannot fit in the %d bytes left: %w", at, what, n, d.remaining(), ErrCorrupt))
		return 0
	}
	return int(n)
}

func (d *decoder) str(limit int) string {
	at := d.pos
	n := d.u64()
	if d.err != nil {
		return ""
	}
	if n > uint64(limit) {
		d.fail(fmt.Errorf("at byte %d: string length %d exceeds the limit %d: %w", at, n, limit, ErrCorrupt))
		return ""
	}
	b := d.read(int(n))
	return string(b)
}

// Read parses the GGUF header from r (size bytes long). Tensor data is not read; it is fetched
// on demand with ReadTensor, so the file's bytes are read at most once.
func Read(r io.ReaderAt, size int64) (*File, error) {
	d := &decoder{br: bufio.NewReaderSize(io.NewSectionReader(r, 0, size), 1<<16), size: size}
	magic := d.read(4)
	if d.err != nil {
		if errors.Is(d.err, ErrTruncated) {
			return nil, fmt.Errorf("%w (%d bytes long)", ErrNotGGUF, size)
		}
		return nil, d.err
	}
	if string(magic) != Magic {
		return nil, ErrNotGGUF
	}
	f := &File{r: r, Size: size, Alignment: DefaultAlignment}
	f.Version = d.u32()
	if d.err == nil && f.Version != 2 && f.Version != 3 {
		return nil, fmt.Errorf("%w %d (supported: 2, 3)", ErrVersion, f.Version)
	}
	// A tensor info is at least 8 (name len) + 4 (n_dims) + 8 (one dim) + 4 (type) + 8 (offset).
	nTensors := d.count("tensor", 32)
	// A key-value pair is at least 8 (key len) + 4 (type) + 1 (a uint8).
	nKV := d.count("metadata", 13)
	if d.err != nil {
		return nil, d.err
	}
	f.KVs = make([]KV, 0, nKV)
	f.kvIdx = make(map[string]int, nKV)
	for i := 0; i < nKV && d.err == nil; i++ {
		at := d.pos
		key := d.str(MaxNameLen)
		v := d.value(ValueType(d.u32()), 0)
		if d.err != nil {
			break
		}
		if _, dup := f.kvIdx[key]; dup {
			return nil, fmt.Errorf("at byte %d: duplicate metadata key %q: %w", at, key, ErrCorrupt)
		}
		f.kvIdx[key] = len(f.KVs)
		f.KVs = append(f.KVs, KV{Key: key, Value: v})
	}
	if d.err != nil {
		return nil, d.err
	}
	if v, ok := f.Get("general.alignment"); ok {
		a, isInt := v.Uint()
		if !isInt || a == 0 || a&(a-1) != 0 || a > 1<<20 {
			return nil, fmt.Errorf("general.alignment %v is not a power of two between 1 and 1 MiB: %w", v.V, ErrCorrupt)
		}
		f.Alignment = int(a)
	}
	f.Tensors = make([]TensorInfo, 0, nTensors)
	f.tIdx = make(map[string]int, nTensors)
	for i := 0; i < nTensors && d.err == nil; i++ {
		t, err := d.tensorInfo()
		if err != nil {
			return nil, err
		}
		if d.err != nil {
			break
		}
		if _, dup := f.tIdx[t.Name]; dup {
			return nil, fmt.Errorf("duplicate tensor name %q: %w", t.Name, ErrCorrupt)
		}
		f.tIdx[t.Name] = len(f.Tensors)
		f.Tensors = append(f.Tensors, t)
	}
	if d.err != nil {
		return nil, d.err
	}
	a := int64(f.Alignment)
	f.DataOffset = (d.pos + a - 1) / a * a
	if err := f.checkLayout(); err != nil {
		return nil, err
	}
	return f, nil
}

func (d *decoder) tensorInfo() (TensorInfo, error) {
	var t TensorInfo
	at := d.pos
	t.Name = d.str(MaxNameLen)
	nDims := d.u32()
	if d.err != nil {
		return t, d.err
	}
	if nDims == 0 || nDims > MaxDims {
		return t, fmt.Errorf("tensor %q: %d dimensions (must be 1..%d): %w", t.Name, nDims, MaxDims, ErrCorrupt)
	}
	t.Dims = make([]uint64, nDims)
	elems := uint64(1)
	for i := range t.Dims {
		t.Dims[i] = d.u64()
		if d.err != nil {
			return t, d.err
		}
		if t.Dims[i] == 0 || t.Dims[i] > math.MaxInt64/elems {
			return t, fmt.Errorf("tensor %q: dimension %d is %d (element count must be 1..2^63): %w", t.Name, i, t.Dims[i], ErrCorrupt)
		}
		elems *= t.Dims[i]
	}
	t.Type = quant.Type(d.u32())
	t.Offset = d.u64()
	if d.err != nil {
		return t, d.err
	}
	if !t.Type.Known() {
		return t, fmt.Errorf("tensor %q (at byte %d): %w %d", t.Name, at, ErrUnknownType, uint32(t.Type))
	}
	if t.Dims[0]%uint64(t.Type.BlockSize()) != 0 {
		return t, fmt.Errorf("tensor %q: row length %d is not a multiple of %s's block size %d: %w", t.Name, t.Dims[0], t.Type, t.Type.BlockSize(), ErrCorrupt)
	}
	blocks := elems / uint64(t.Type.BlockSize())
	bb := uint64(t.Type.BlockBytes())
	if blocks > math.MaxInt64/bb {
		return t, fmt.Errorf("tensor %q: %d elements is too large: %w", t.Name, elems, ErrCorrupt)
	}
	t.Size = int64(blocks * bb)
	return t, nil
}

// checkLayout verifies that every tensor is aligned, lies inside the file and overlaps no other.
func (f *File) checkLayout() error {
	dataLen := f.Size - f.DataOffset
	if dataLen < 0 {
		dataLen = 0
	}
	order := make([]int, len(f.Tensors))
	for i := range order {
		order[i] = i
	}
	for _, i := range order {
		t := &f.Tensors[i]
		if t.Offset%uint64(f.Alignment) != 0 {
			return fmt.Errorf("tensor %q: offset %d is not a multiple of the alignment %d: %w", t.Name, t.Offset, f.Alignment, ErrCorrupt)
		}
		if t.Offset > uint64(dataLen) || uint64(t.Size) > uint64(dataLen)-t.Offset {
			return fmt.Errorf("tensor %q: bytes %d..%d of the data section lie past the end of the file (%d bytes of data): %w",
				t.Name, t.Offset, t.Offset+uint64(t.Size), dataLen, ErrTruncated)
		}
	}
	sort.Slice(order, func(a, b int) bool { return f.Tensors[order[a]].Offset < f.Tensors[order[b]].Offset })
	for k := 1; k < len(order); k++ {
		p, q := &f.Tensors[order[k-1]], &f.Tensors[order[k]]
		if p.Offset+uint64(p.Size) > q.Offset {
			return fmt.Errorf("tensors %q and %q overlap: %w", p.Name, q.Name, ErrCorrupt)
		}
	}
	return nil
}

func (d *decoder) value(t ValueType, depth int) Value {
	if d.err != nil {
		return Value{}
	}
	switch t {
	case TypeUint8:
		return Value{Type: t, V: d.u8()}
	case TypeInt8:
		return Value{Type: t, V: int8(d.u8())}
	case TypeUint16:
		return Value{Type: t, V: d.u16()}
	case TypeInt16:
		return Value{Type: t, V: int16(d.u16())}
	case TypeUint32:
		return Value{Type: t, V: d.u32()}
	case TypeInt32:
		return Value{Type: t, V: int32(d.u32())}
	case TypeFloat32:
		return Value{Type: t, V: math.Float32frombits(d.u32())}
	case TypeUint64:
		return Value{Type: t, V: d.u64()}
	case TypeInt64:
		return Value{Type: t, V: int64(d.u64())}
	case TypeFloat64:
		return Value{Type: t, V: math.Float64frombits(d.u64())}
	case TypeBool:
		at := d.pos
		b := d.u8()
		if b > 1 {
			d.fail(fmt.Errorf("at byte %d: bool value %d is neither 0 nor 1: %w", at, b, ErrCorrupt))
		}
		return Value{Type: t, V: b == 1}
	case TypeString:
		return Value{Type: t, V: d.str(MaxStringLen)}
	case TypeArray:
		if depth >= MaxNesting {
			d.fail(fmt.Errorf("at byte %d: arrays nested deeper than %d: %w", d.pos, MaxNesting, ErrCorrupt))
			return Value{}
		}
		return d.array(depth)
	}
	d.fail(fmt.Errorf("at byte %d: unknown metadata value type %d: %w", d.pos-4, uint32(t), ErrCorrupt))
	return Value{}
}

func (d *decoder) array(depth int) Value {
	at := d.pos
	elem := ValueType(d.u32())
	if d.err != nil {
		return Value{}
	}
	if elem > TypeFloat64 {
		d.fail(fmt.Errorf("at byte %d: unknown array element type %d: %w", at, uint32(elem), ErrCorrupt))
		return Value{}
	}
	minBytes := int64(elem.scalarSize())
	switch elem {
	case TypeString:
		minBytes = 8
	case TypeArray:
		minBytes = 12
	}
	n := d.count("array element", minBytes)
	if d.err != nil {
		return Value{}
	}
	v := Value{Type: TypeArray, Elem: elem}
	switch elem {
	case TypeUint8:
		v.V = readScalars(d, n, func(d *decoder) uint8 { return d.u8() })
	case TypeInt8:
		v.V = readScalars(d, n, func(d *decoder) int8 { return int8(d.u8()) })
	case TypeUint16:
		v.V = readScalars(d, n, func(d *decoder) uint16 { return d.u16() })
	case TypeInt16:
		v.V = readScalars(d, n, func(d *decoder) int16 { return int16(d.u16()) })
	case TypeUint32:
		v.V = readScalars(d, n, func(d *decoder) uint32 { return d.u32() })
	case TypeInt32:
		v.V = readScalars(d, n, func(d *decoder) int32 { return int32(d.u32()) })
	case TypeFloat32:
		v.V = readScalars(d, n, func(d *decoder) float32 { return math.Float32frombits(d.u32()) })
	case TypeUint64:
		v.V = readScalars(d, n, func(d *decoder) uint64 { return d.u64() })
	case TypeInt64:
		v.V = readScalars(d, n, func(d *decoder) int64 { return int64(d.u64()) })
	case TypeFloat64:
		v.V = readScalars(d, n, func(d *decoder) float64 { return math.Float64frombits(d.u64()) })
	case TypeBool:
		v.V = readScalars(d, n, func(d *decoder) bool {
			b := d.u8()
			if b > 1 {
				d.fail(fmt.Errorf("at byte %d: bool value %d is neither 0 nor 1: %w", d.pos-1, b, ErrCorrupt))
			}
			return b == 1
		})
	case TypeString:
		v.V = readScalars(d, n, func(d *decoder) string { return d.str(MaxStringLen) })
	case TypeArray:
		v.V = readScalars(d, n, func(d *decoder) Value { return d.value(TypeArray, depth+1) })
	}
	return v
}

func readScalars[T any](d *decoder, n int, next func(*decoder) T) []T {
	out := make([]T, n)
	for i := range out {
		out[i] = next(d)
		if d.err != nil {
			return nil
		}
	}
	return out
}
