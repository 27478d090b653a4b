package gguf

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strings"
)

// headerBuffer is the read-ahead of the header decoder: Read touches at most this many bytes
// past the end of the header.
const headerBuffer = 16 << 10

// maxPrealloc caps the capacity allocated up front for an array. Larger arrays grow as their
// elements are read, so a lying count costs no more memory than the bytes really present.
const maxPrealloc = 4096

// decoder reads the header sequentially, tracking the position to bound every length. After
// the first error every read returns zero values and err keeps that first error.
type decoder struct {
	br      *bufio.Reader
	pos     int64
	size    int64
	err     error
	scratch [8]byte
}

func newDecoder(r io.ReaderAt, size int64) *decoder {
	return &decoder{br: bufio.NewReaderSize(io.NewSectionReader(r, 0, size), headerBuffer), size: size}
}

func (d *decoder) remaining() int64 { return d.size - d.pos }

func (d *decoder) fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

// failf records an error at byte position at, wrapping sentinel.
func (d *decoder) failf(at int64, sentinel error, format string, args ...any) {
	d.fail(fmt.Errorf("at byte %d: %s: %w", at, fmt.Sprintf(format, args...), sentinel))
}

// fixed reads n <= 8 bytes into the scratch buffer.
func (d *decoder) fixed(n int) []byte {
	if d.err != nil {
		return nil
	}
	if int64(n) > d.remaining() {
		d.failf(d.pos, ErrTruncated, "need %d bytes, %d left", n, d.remaining())
		return nil
	}
	b := d.scratch[:n]
	if _, err := io.ReadFull(d.br, b); err != nil {
		d.failf(d.pos, ErrTruncated, "read failed (%v)", err)
		return nil
	}
	d.pos += int64(n)
	return b
}

func (d *decoder) u8() uint8 {
	if b := d.fixed(1); b != nil {
		return b[0]
	}
	return 0
}

func (d *decoder) u16() uint16 {
	if b := d.fixed(2); b != nil {
		return binary.LittleEndian.Uint16(b)
	}
	return 0
}

func (d *decoder) u32() uint32 {
	if b := d.fixed(4); b != nil {
		return binary.LittleEndian.Uint32(b)
	}
	return 0
}

func (d *decoder) u64() uint64 {
	if b := d.fixed(8); b != nil {
		return binary.LittleEndian.Uint64(b)
	}
	return 0
}

func (d *decoder) boolean() bool {
	at := d.pos
	b := d.u8()
	if b > 1 {
		d.failf(at, ErrCorrupt, "bool value %d is neither 0 nor 1", b)
	}
	return b == 1
}

// count reads a uint64 count of items that take at least minBytes each and checks that they
// can fit in the rest of the file.
func (d *decoder) count(what string, minBytes int64) int {
	at := d.pos
	n := d.u64()
	if d.err != nil {
		return 0
	}
	if n > uint64(d.remaining()/minBytes) {
		d.failf(at, ErrCorrupt, "%s count %d cannot fit in the %d bytes left (each takes at least %d)", what, n, d.remaining(), minBytes)
		return 0
	}
	return int(n)
}

// str reads a length-prefixed string of at most limit bytes.
func (d *decoder) str(what string, limit int) string {
	at := d.pos
	n := d.u64()
	if d.err != nil {
		return ""
	}
	if n > uint64(limit) {
		d.failf(at, ErrCorrupt, "%s length %d exceeds the limit %d", what, n, limit)
		return ""
	}
	if int64(n) > d.remaining() {
		d.failf(at, ErrTruncated, "%s length %d exceeds the %d bytes left", what, n, d.remaining())
		return ""
	}
	var s string
	if n <= headerBuffer {
		b, err := d.br.Peek(int(n))
		if err != nil {
			d.failf(d.pos, ErrTruncated, "read failed (%v)", err)
			return ""
		}
		s = string(b)
		d.br.Discard(int(n))
	} else {
		var sb strings.Builder
		sb.Grow(int(n))
		if _, err := io.CopyN(&sb, d.br, int64(n)); err != nil {
			d.failf(d.pos, ErrTruncated, "read failed (%v)", err)
			return ""
		}
		s = sb.String()
	}
	d.pos += int64(n)
	return s
}

// value reads a value of type t; depth counts the arrays it is nested in.
func (d *decoder) value(t ValueType, depth int) Value {
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
		return Value{Type: t, V: d.boolean()}
	case TypeString:
		return Value{Type: t, V: d.str("string", MaxStringLen)}
	case TypeArray:
		return d.array(depth)
	}
	d.failf(d.pos-4, ErrCorrupt, "unknown metadata value type %d (known: 0 to %d)", uint32(t), TypeFloat64)
	return Value{}
}

// array reads an array body: element type, count, elements.
func (d *decoder) array(depth int) Value {
	at := d.pos
	if depth >= MaxNesting {
		d.failf(at, ErrCorrupt, "arrays nested deeper than %d", MaxNesting)
		return Value{}
	}
	elem := ValueType(d.u32())
	if d.err != nil {
		return Value{}
	}
	if elem > TypeFloat64 {
		d.failf(at, ErrCorrupt, "unknown array element type %d (known: 0 to %d)", uint32(elem), TypeFloat64)
		return Value{}
	}
	minBytes := int64(elem.scalarSize())
	switch elem {
	case TypeString:
		minBytes = 8 // the length
	case TypeArray:
		minBytes = 12 // element type and count
	}
	n := d.count("array element", minBytes)
	if d.err != nil {
		return Value{}
	}
	v := Value{Type: TypeArray, Elem: elem}
	switch elem {
	case TypeUint8:
		v.V = readSlice(d, n, (*decoder).u8)
	case TypeInt8:
		v.V = readSlice(d, n, func(d *decoder) int8 { return int8(d.u8()) })
	case TypeUint16:
		v.V = readSlice(d, n, (*decoder).u16)
	case TypeInt16:
		v.V = readSlice(d, n, func(d *decoder) int16 { return int16(d.u16()) })
	case TypeUint32:
		v.V = readSlice(d, n, (*decoder).u32)
	case TypeInt32:
		v.V = readSlice(d, n, func(d *decoder) int32 { return int32(d.u32()) })
	case TypeFloat32:
		v.V = readSlice(d, n, func(d *decoder) float32 { return math.Float32frombits(d.u32()) })
	case TypeUint64:
		v.V = readSlice(d, n, (*decoder).u64)
	case TypeInt64:
		v.V = readSlice(d, n, func(d *decoder) int64 { return int64(d.u64()) })
	case TypeFloat64:
		v.V = readSlice(d, n, func(d *decoder) float64 { return math.Float64frombits(d.u64()) })
	case TypeBool:
		v.V = readSlice(d, n, (*decoder).boolean)
	case TypeString:
		v.V = readSlice(d, n, func(d *decoder) string { return d.str("string", MaxStringLen) })
	case TypeArray:
		v.V = readSlice(d, n, func(d *decoder) Value { return d.array(depth + 1) })
	}
	return v
}

// readSlice reads n elements with next. It stops at the first error.
func readSlice[T any](d *decoder, n int, next func(*decoder) T) []T {
	out := make([]T, 0, min(n, maxPrealloc))
	for range n {
		x := next(d)
		if d.err != nil {
			return nil
		}
		out = append(out, x)
	}
	return out
}
