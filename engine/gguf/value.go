package gguf

import "fmt"

// ValueType is the type tag of a metadata value, numbered as in the GGUF specification.
type ValueType uint32

// Metadata value types.
const (
	TypeUint8   ValueType = 0
	TypeInt8    ValueType = 1
	TypeUint16  ValueType = 2
	TypeInt16   ValueType = 3
	TypeUint32  ValueType = 4
	TypeInt32   ValueType = 5
	TypeFloat32 ValueType = 6
	TypeBool    ValueType = 7
	TypeString  ValueType = 8
	TypeArray   ValueType = 9
	TypeUint64  ValueType = 10
	TypeInt64   ValueType = 11
	TypeFloat64 ValueType = 12
)

var valueTypeNames = [...]string{"uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "bool", "string", "array", "uint64", "int64", "float64"}

func (t ValueType) String() string {
	if int(t) < len(valueTypeNames) {
		return valueTypeNames[t]
	}
	return fmt.Sprintf("valuetype(%d)", uint32(t))
}

// scalarSize is the encoded size of a fixed-size scalar, 0 for string/array/unknown.
func (t ValueType) scalarSize() int {
	switch t {
	case TypeUint8, TypeInt8, TypeBool:
		return 1
	case TypeUint16, TypeInt16:
		return 2
	case TypeUint32, TypeInt32, TypeFloat32:
		return 4
	case TypeUint64, TypeInt64, TypeFloat64:
		return 8
	}
	return 0
}

// Value is one metadata value. V holds, by Type:
//
//	TypeUint8 uint8, TypeInt8 int8, TypeUint16 uint16, TypeInt16 int16, TypeUint32 uint32,
//	TypeInt32 int32, TypeUint64 uint64, TypeInt64 int64, TypeFloat32 float32, TypeFloat64 float64,
//	TypeBool bool, TypeString string,
//	TypeArray: a slice of the element type ([]uint8 … []string), or []Value for arrays of arrays.
//
// Elem is the element type of an array (unused otherwise).
type Value struct {
	Type ValueType
	Elem ValueType
	V    any
}

// KV is one metadata entry, in file order.
type KV struct {
	Key   string
	Value Value
}

// Uint returns v as an unsigned integer if it is a non-negative integer of any width.
func (v Value) Uint() (uint64, bool) {
	switch x := v.V.(type) {
	case uint8:
		return uint64(x), true
	case uint16:
		return uint64(x), true
	case uint32:
		return uint64(x), true
	case uint64:
		return x, true
	case int8:
		return uint64(x), x >= 0
	case int16:
		return uint64(x), x >= 0
	case int32:
		return uint64(x), x >= 0
	case int64:
		return uint64(x), x >= 0
	}
	return 0, false
}

// Int returns v as a signed integer if it is an integer of any width that fits.
func (v Value) Int() (int64, bool) {
	switch x := v.V.(type) {
	case int8:
		return int64(x), true
	case int16:
		return int64(x), true
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case uint8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case uint64:
		return int64(x), x <= 1<<63-1
	}
	return 0, false
}

// Float returns v as a float64 if it is a float or an integer.
func (v Value) Float() (float64, bool) {
	switch x := v.V.(type) {
	case float32:
		return float64(x), true
	case float64:
		return x, true
	}
	if i, ok := v.Int(); ok {
		return float64(i), true
	}
	return 0, false
}

// typeInvalid marks a Value made by ValueOf from a Go type GGUF cannot hold.
const typeInvalid ValueType = 1<<32 - 1

// ValueOf wraps a Go value as a metadata Value, taking the type from the Go type: uint8 …
// float64, bool and string give scalars; []uint8 … []float64, []bool and []string give arrays
// of those; []Value gives an array of arrays (each element itself an array Value). Other Go
// types (int, for instance, whose width GGUF cannot know) give a Value that Builder rejects.
func ValueOf(x any) Value {
	switch x.(type) {
	case uint8:
		return Value{Type: TypeUint8, V: x}
	case int8:
		return Value{Type: TypeInt8, V: x}
	case uint16:
		return Value{Type: TypeUint16, V: x}
	case int16:
		return Value{Type: TypeInt16, V: x}
	case uint32:
		return Value{Type: TypeUint32, V: x}
	case int32:
		return Value{Type: TypeInt32, V: x}
	case float32:
		return Value{Type: TypeFloat32, V: x}
	case bool:
		return Value{Type: TypeBool, V: x}
	case string:
		return Value{Type: TypeString, V: x}
	case uint64:
		return Value{Type: TypeUint64, V: x}
	case int64:
		return Value{Type: TypeInt64, V: x}
	case float64:
		return Value{Type: TypeFloat64, V: x}
	}
	for elem := TypeUint8; elem <= TypeFloat64; elem++ {
		if _, ok := arrayLen(elem, x); ok {
			return Value{Type: TypeArray, Elem: elem, V: x}
		}
	}
	return Value{Type: typeInvalid, V: x}
}
