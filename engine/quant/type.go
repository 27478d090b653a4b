package quant

import (
	"fmt"
	"strings"
)

// Type is a ggml tensor element type, numbered exactly as ggml and GGUF number them.
type Type uint32

// The ggml type numbers. Gaps (4, 5, 31–33) are types ggml has retired.
const (
	F32     Type = 0
	F16     Type = 1
	Q4_0    Type = 2
	Q4_1    Type = 3
	Q5_0    Type = 6
	Q5_1    Type = 7
	Q8_0    Type = 8
	Q8_1    Type = 9
	Q2_K    Type = 10
	Q3_K    Type = 11
	Q4_K    Type = 12
	Q5_K    Type = 13
	Q6_K    Type = 14
	Q8_K    Type = 15
	IQ2_XXS Type = 16
	IQ2_XS  Type = 17
	IQ3_XXS Type = 18
	IQ1_S   Type = 19
	IQ4_NL  Type = 20
	IQ3_S   Type = 21
	IQ2_S   Type = 22
	IQ4_XS  Type = 23
	I8      Type = 24
	I16     Type = 25
	I32     Type = 26
	I64     Type = 27
	F64     Type = 28
	IQ1_M   Type = 29
	BF16    Type = 30
	TQ1_0   Type = 34
	TQ2_0   Type = 35
)

// QK is the number of elements in a block of the 32-wide formats; QKK of the K-quants.
const (
	QK  = 32
	QKK = 256
)

type layout struct {
	name       string
	blockSize  int // elements per block
	blockBytes int // bytes per block
}

// layouts holds the storage geometry of every type a GGUF file may name, so that a reader can
// size and bound tensors even of types this package cannot compute with.
var layouts = map[Type]layout{
	F32: {"F32", 1, 4}, F16: {"F16", 1, 2}, BF16: {"BF16", 1, 2}, F64: {"F64", 1, 8},
	I8: {"I8", 1, 1}, I16: {"I16", 1, 2}, I32: {"I32", 1, 4}, I64: {"I64", 1, 8},
	Q4_0: {"Q4_0", QK, 2 + QK/2}, Q4_1: {"Q4_1", QK, 4 + QK/2},
	Q5_0: {"Q5_0", QK, 2 + 4 + QK/2}, Q5_1: {"Q5_1", QK, 4 + 4 + QK/2},
	Q8_0: {"Q8_0", QK, 2 + QK}, Q8_1: {"Q8_1", QK, 4 + QK},
	Q2_K: {"Q2_K", QKK, QKK/16 + QKK/4 + 4}, Q3_K: {"Q3_K", QKK, QKK/8 + QKK/4 + 12 + 2},
	Q4_K: {"Q4_K", QKK, 4 + 12 + QKK/2}, Q5_K: {"Q5_K", QKK, 4 + 12 + QKK/8 + QKK/2},
	Q6_K: {"Q6_K", QKK, QKK/2 + QKK/4 + QKK/16 + 2}, Q8_K: {"Q8_K", QKK, 4 + QKK + QKK/16*2},
	IQ2_XXS: {"IQ2_XXS", QKK, 2 + QKK/4}, IQ2_XS: {"IQ2_XS", QKK, 2 + QKK/4 + QKK/32},
	IQ3_XXS: {"IQ3_XXS", QKK, 2 + 3*QKK/8}, IQ1_S: {"IQ1_S", QKK, 2 + QKK/8 + QKK/16},
	IQ4_NL: {"IQ4_NL", QK, 2 + QK/2}, IQ3_S: {"IQ3_S", QKK, 2 + QKK/4 + QKK/8 + QKK/32 + 4},
	IQ2_S: {"IQ2_S", QKK, 2 + QKK/4 + QKK/16}, IQ4_XS: {"IQ4_XS", QKK, 2 + 2 + QKK/64 + QKK/2},
	IQ1_M: {"IQ1_M", QKK, QKK/8 + QKK/16 + QKK/32}, TQ1_0: {"TQ1_0", QKK, (QKK-QKK/16)/5 + QKK/64 + 2},
	TQ2_0: {"TQ2_0", QKK, 2 + QKK/4},
}

// Known reports whether t is a type ggml defines (whether or not this package computes with it).
func (t Type) Known() bool { _, ok := layouts[t]; return ok }

// String is ggml's name for the type, or "type(N)" for an unknown number.
func (t Type) String() string {
	if l, ok := layouts[t]; ok {
		return l.name
	}
	return fmt.Sprintf("type(%d)", uint32(t))
}

// BlockSize is the number of elements in one block (1 for plain scalar types, 0 if unknown).
func (t Type) BlockSize() int { return layouts[t].blockSize }

// BlockBytes is the number of bytes one block occupies (0 if unknown).
func (t Type) BlockBytes() int { return layouts[t].blockBytes }

// RowBytes returns the bytes needed for n elements of type t. It fails for unknown types and for
// n that is negative or not a multiple of the block size.
func RowBytes(t Type, n int) (int, error) {
	l, ok := layouts[t]
	if !ok {
		return 0, fmt.Errorf("quant: unknown tensor type %d", uint32(t))
	}
	if n < 0 || n%l.blockSize != 0 {
		return 0, fmt.Errorf("quant: %d elements of %s: not a multiple of its block size %d", n, l.name, l.blockSize)
	}
	return n / l.blockSize * l.blockBytes, nil
}

// Supported lists the types this package can dequantize, in ggml's numbering order.
func Supported() []Type {
	return []Type{F32, F16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, BF16}
}

// IsSupported reports whether t is in Supported().
func IsSupported(t Type) bool {
	for _, s := range Supported() {
		if s == t {
			return true
		}
	}
	return false
}

// SupportedNames is Supported() as "F32, F16, …" for error messages.
func SupportedNames() string {
	var b strings.Builder
	for i, t := range Supported() {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(t.String())
	}
	return b.String()
}
