package gguf

import (
	"encoding/binary"
	"math"
)

// The append functions below encode header fields in GGUF's little-endian layout. They assume
// their input passed the checks in rules.go.

func appendU32(b []byte, x uint32) []byte { return binary.LittleEndian.AppendUint32(b, x) }
func appendU64(b []byte, x uint64) []byte { return binary.LittleEndian.AppendUint64(b, x) }

func appendString(b []byte, s string) []byte {
	b = appendU64(b, uint64(len(s)))
	return append(b, s...)
}

// appendKV encodes one metadata entry: key, value type, value.
func appendKV(b []byte, key string, v Value) []byte {
	b = appendString(b, key)
	b = appendU32(b, uint32(v.Type))
	return appendValue(b, v)
}

// appendValue encodes v without its type tag.
func appendValue(b []byte, v Value) []byte {
	switch x := v.V.(type) {
	case uint8:
		return append(b, x)
	case int8:
		return append(b, uint8(x))
	case uint16:
		return binary.LittleEndian.AppendUint16(b, x)
	case int16:
		return binary.LittleEndian.AppendUint16(b, uint16(x))
	case uint32:
		return appendU32(b, x)
	case int32:
		return appendU32(b, uint32(x))
	case float32:
		return appendU32(b, math.Float32bits(x))
	case uint64:
		return appendU64(b, x)
	case int64:
		return appendU64(b, uint64(x))
	case float64:
		return appendU64(b, math.Float64bits(x))
	case bool:
		return append(b, boolByte(x))
	case string:
		return appendString(b, x)
	}
	return appendArray(b, v.Elem, v.V)
}

// appendArray encodes an array body: element type, count, elements.
func appendArray(b []byte, elem ValueType, x any) []byte {
	n, _ := arrayLen(elem, x)
	b = appendU32(b, uint32(elem))
	b = appendU64(b, uint64(n))
	switch xs := x.(type) {
	case []uint8:
		b = append(b, xs...)
	case []int8:
		for _, e := range xs {
			b = append(b, uint8(e))
		}
	case []uint16:
		for _, e := range xs {
			b = binary.LittleEndian.AppendUint16(b, e)
		}
	case []int16:
		for _, e := range xs {
			b = binary.LittleEndian.AppendUint16(b, uint16(e))
		}
	case []uint32:
		for _, e := range xs {
			b = appendU32(b, e)
		}
	case []int32:
		for _, e := range xs {
			b = appendU32(b, uint32(e))
		}
	case []float32:
		for _, e := range xs {
			b = appendU32(b, math.Float32bits(e))
		}
	case []bool:
		for _, e := range xs {
			b = append(b, boolByte(e))
		}
	case []string:
		for _, e := range xs {
			b = appendString(b, e)
		}
	case []uint64:
		for _, e := range xs {
			b = appendU64(b, e)
		}
	case []int64:
		for _, e := range xs {
			b = appendU64(b, uint64(e))
		}
	case []float64:
		for _, e := range xs {
			b = appendU64(b, math.Float64bits(e))
		}
	case []Value:
		for _, e := range xs {
			b = appendArray(b, e.Elem, e.V)
		}
	}
	return b
}

func boolByte(x bool) byte {
	if x {
		return 1
	}
	return 0
}

// appendTensorInfo encodes one tensor info.
func appendTensorInfo(b []byte, t *TensorInfo) []byte {
	b = appendString(b, t.Name)
	b = appendU32(b, uint32(len(t.Dims)))
	for _, d := range t.Dims {
		b = appendU64(b, d)
	}
	b = appendU32(b, uint32(t.Type))
	return appendU64(b, t.Offset)
}

// alignUp rounds n up to a multiple of align (a power of two).
func alignUp(n int64, align int) int64 {
	a := int64(align)
	return (n + a - 1) &^ (a - 1)
}
