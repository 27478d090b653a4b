package gguf

import (
	"fmt"
	"math"
	"math/bits"

	"github.com/attnscope/attnscope/engine/quant"
)

// The rules in this file say what a valid GGUF header holds. Read and Builder apply the same
// rules, so that every file Read accepts can be written again and every file written can be read.

// KeyAlignment is the metadata key that sets the data alignment.
const KeyAlignment = "general.alignment"

// checkKey reports whether key may name a metadata entry.
func checkKey(key string) error {
	if key == "" {
		return fmt.Errorf("metadata key is empty")
	}
	if len(key) > MaxNameLen {
		return fmt.Errorf("metadata key %.40q… is %d bytes long, more than the limit %d", key, len(key), MaxNameLen)
	}
	return nil
}

// checkTensorName reports whether name may name a tensor.
func checkTensorName(name string) error {
	if name == "" {
		return fmt.Errorf("tensor name is empty")
	}
	if len(name) > MaxTensorNameLen {
		return fmt.Errorf("tensor name %q is %d bytes long; ggml accepts at most %d", name, len(name), MaxTensorNameLen)
	}
	return nil
}

// alignmentOf checks the value of general.alignment and returns it. ggml reads the key as a
// uint32 and requires a power of two no larger than MaxAlignment.
func alignmentOf(v Value) (int, error) {
	a, ok := v.V.(uint32)
	if v.Type != TypeUint32 || !ok {
		return 0, fmt.Errorf("%s has type %s; it must be uint32", KeyAlignment, v.Type)
	}
	if a == 0 || a&(a-1) != 0 || a > MaxAlignment {
		return 0, fmt.Errorf("%s is %d; it must be a power of two between 1 and %d", KeyAlignment, a, MaxAlignment)
	}
	return int(a), nil
}

// tensorSize checks a tensor's element type and dimensions and returns its size in bytes.
// It assumes typ is known (see quant.Type.Known).
func tensorSize(typ quant.Type, dims []uint64) (int64, error) {
	if len(dims) == 0 || len(dims) > MaxDims {
		return 0, fmt.Errorf("%d dimensions (must be 1 to %d)", len(dims), MaxDims)
	}
	elems := uint64(1)
	for i, d := range dims {
		if d == 0 {
			return 0, fmt.Errorf("dimension %d is 0", i)
		}
		hi, lo := bits.Mul64(elems, d)
		if hi != 0 || lo > math.MaxInt64 {
			return 0, fmt.Errorf("dimensions %v hold more than 2^63-1 elements", dims)
		}
		elems = lo
	}
	bs, bb := uint64(typ.BlockSize()), uint64(typ.BlockBytes())
	if dims[0]%bs != 0 {
		return 0, fmt.Errorf("row length %d is not a multiple of %s's block size %d", dims[0], typ, bs)
	}
	hi, size := bits.Mul64(elems/bs, bb)
	if hi != 0 || size > math.MaxInt64 {
		return 0, fmt.Errorf("dimensions %v of %s need more than 2^63-1 bytes", dims, typ)
	}
	return int64(size), nil
}

// checkValue reports whether v is a well-formed value: V holds the Go type that Type (and Elem,
// for arrays) name, strings fit MaxStringLen and arrays nest at most MaxNesting deep.
func checkValue(v Value, depth int) error {
	switch v.Type {
	case TypeString:
		s, ok := v.V.(string)
		if !ok {
			return typeMismatch(v)
		}
		return checkString(s)
	case TypeArray:
		if depth >= MaxNesting {
			return fmt.Errorf("arrays are nested deeper than %d", MaxNesting)
		}
		return checkArray(v, depth)
	}
	if v.Type == typeInvalid {
		return fmt.Errorf("a Go %T cannot be stored in GGUF (use a sized type such as int32 or uint64)", v.V)
	}
	if v.Type.scalarSize() == 0 {
		return fmt.Errorf("unknown value type %d (Go value of type %T)", uint32(v.Type), v.V)
	}
	if !scalarMatches(v.Type, v.V) {
		return typeMismatch(v)
	}
	return nil
}

func checkString(s string) error {
	if len(s) > MaxStringLen {
		return fmt.Errorf("string of %d bytes is longer than the limit %d", len(s), MaxStringLen)
	}
	return nil
}

func typeMismatch(v Value) error {
	return fmt.Errorf("value of type %s holds a Go %T", v.Type, v.V)
}

func checkArray(v Value, depth int) error {
	if v.Elem > TypeFloat64 {
		return fmt.Errorf("unknown array element type %d", uint32(v.Elem))
	}
	if _, ok := arrayLen(v.Elem, v.V); !ok {
		return fmt.Errorf("array of %s holds a Go %T", v.Elem, v.V)
	}
	switch xs := v.V.(type) {
	case []string:
		for i, s := range xs {
			if err := checkString(s); err != nil {
				return fmt.Errorf("element %d: %w", i, err)
			}
		}
	case []Value:
		for i, x := range xs {
			if x.Type != TypeArray {
				return fmt.Errorf("element %d of an array of arrays has type %s", i, x.Type)
			}
			if err := checkValue(x, depth+1); err != nil {
				return fmt.Errorf("element %d: %w", i, err)
			}
		}
	}
	return nil
}

// scalarMatches reports whether x has the Go type that stands for the scalar type t.
func scalarMatches(t ValueType, x any) bool {
	var ok bool
	switch t {
	case TypeUint8:
		_, ok = x.(uint8)
	case TypeInt8:
		_, ok = x.(int8)
	case TypeUint16:
		_, ok = x.(uint16)
	case TypeInt16:
		_, ok = x.(int16)
	case TypeUint32:
		_, ok = x.(uint32)
	case TypeInt32:
		_, ok = x.(int32)
	case TypeFloat32:
		_, ok = x.(float32)
	case TypeBool:
		_, ok = x.(bool)
	case TypeUint64:
		_, ok = x.(uint64)
	case TypeInt64:
		_, ok = x.(int64)
	case TypeFloat64:
		_, ok = x.(float64)
	}
	return ok
}

// arrayLen returns the length of x if it is the slice type that holds arrays of elem.
func arrayLen(elem ValueType, x any) (int, bool) {
	n, ok := -1, false
	switch xs := x.(type) {
	case []uint8:
		n, ok = len(xs), elem == TypeUint8
	case []int8:
		n, ok = len(xs), elem == TypeInt8
	case []uint16:
		n, ok = len(xs), elem == TypeUint16
	case []int16:
		n, ok = len(xs), elem == TypeInt16
	case []uint32:
		n, ok = len(xs), elem == TypeUint32
	case []int32:
		n, ok = len(xs), elem == TypeInt32
	case []float32:
		n, ok = len(xs), elem == TypeFloat32
	case []bool:
		n, ok = len(xs), elem == TypeBool
	case []string:
		n, ok = len(xs), elem == TypeString
	case []uint64:
		n, ok = len(xs), elem == TypeUint64
	case []int64:
		n, ok = len(xs), elem == TypeInt64
	case []float64:
		n, ok = len(xs), elem == TypeFloat64
	case []Value:
		n, ok = len(xs), elem == TypeArray
	}
	return n, ok
}
