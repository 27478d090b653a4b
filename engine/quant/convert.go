package quant

import (
	"errors"
	"fmt"
	"strings"
)

// ErrUnsupported is wrapped by the errors of Dequantize and Quantize for a type they cannot
// convert; the message names the types they can.
var ErrUnsupported = errors.New("type is not supported")

// dequantizer returns the row decoder of t, or nil if t is not in Supported().
func dequantizer(t Type) func([]float32, []byte) {
	switch t {
	case F32:
		return DequantizeF32
	case F16:
		return DequantizeF16
	case BF16:
		return DequantizeBF16
	case Q4_0:
		return DequantizeQ4_0
	case Q4_1:
		return DequantizeQ4_1
	case Q5_0:
		return DequantizeQ5_0
	case Q5_1:
		return DequantizeQ5_1
	case Q8_0:
		return DequantizeQ8_0
	case Q2_K:
		return DequantizeQ2K
	case Q3_K:
		return DequantizeQ3K
	case Q4_K:
		return DequantizeQ4K
	case Q5_K:
		return DequantizeQ5K
	case Q6_K:
		return DequantizeQ6K
	}
	return nil
}

// quantizer returns the row encoder of t, or nil if t is not in QuantizeTypes().
func quantizer(t Type) func([]byte, []float32) {
	switch t {
	case F32:
		return QuantizeF32
	case F16:
		return QuantizeF16
	case BF16:
		return QuantizeBF16
	case Q4_0:
		return QuantizeQ4_0
	case Q4_1:
		return QuantizeQ4_1
	case Q5_0:
		return QuantizeQ5_0
	case Q5_1:
		return QuantizeQ5_1
	case Q8_0:
		return QuantizeQ8_0
	case Q8_1:
		return QuantizeQ8_1
	case Q8_K:
		return QuantizeQ8K
	}
	return nil
}

// Dequantize decodes len(dst) values of type t from src into dst. It returns an error wrapping
// ErrUnsupported for a type not in Supported(); it panics if len(dst) is not a multiple of the
// block size or len(src) is not exactly the bytes of len(dst) values.
func Dequantize(t Type, dst []float32, src []byte) error {
	f := dequantizer(t)
	if f == nil {
		return fmt.Errorf("quant: cannot dequantize %s: %w (supported: %s)", t, ErrUnsupported, SupportedNames())
	}
	f(dst, src)
	return nil
}

// QuantizeTypes lists the types Quantize can encode, in ggml's numbering order: F32, F16,
// Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1, Q8_K and BF16, each with ggml's reference rounding.
func QuantizeTypes() []Type {
	return []Type{F32, F16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1, Q8_K, BF16}
}

// CanQuantize reports whether t is in QuantizeTypes().
func CanQuantize(t Type) bool { return quantizer(t) != nil }

// Quantize encodes the values of src as type t into dst with ggml's reference quantizer
// (quantize_row_*_ref), byte for byte what ggml writes. It returns an error wrapping
// ErrUnsupported for a type not in QuantizeTypes(); it panics if len(src) is not a multiple of
// the block size or len(dst) is not exactly the bytes of len(src) values.
func Quantize(t Type, dst []byte, src []float32) error {
	f := quantizer(t)
	if f == nil {
		names := make([]string, 0, 10)
		for _, q := range QuantizeTypes() {
			names = append(names, q.String())
		}
		return fmt.Errorf("quant: cannot quantize to %s: %w (supported: %s)", t, ErrUnsupported, strings.Join(names, ", "))
	}
	f(dst, src)
	return nil
}
