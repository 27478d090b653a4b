package gguf

import (
	"bytes"
	"errors"
	"io"
	"math"
	"strings"
	"testing"

	"github.com/attnscope/attnscope/engine/quant"
)

func TestBuilderRejectsBadKVs(t *testing.T) {
	deep := ValueOf([]uint8{})
	for range MaxNesting {
		deep = ValueOf([]Value{deep})
	}
	cases := []struct {
		name, key string
		v         Value
		msg       string
	}{
		{"empty key", "", ValueOf(uint8(1)), "metadata key is empty"},
		{"long key", strings.Repeat("k", MaxNameLen+1), ValueOf(uint8(1)), "65536 bytes long, more than the limit 65535"},
		{"Go int", "k", ValueOf(3), `metadata "k": a Go int cannot be stored in GGUF`},
		{"wrong Go type", "k", Value{Type: TypeUint32, V: int32(1)}, "value of type uint32 holds a Go int32"},
		{"nil", "k", Value{Type: TypeString}, "value of type string holds a Go <nil>"},
		{"unknown type", "k", Value{Type: 13, V: uint8(1)}, "unknown value type 13"},
		{"array elem mismatch", "k", Value{Type: TypeArray, Elem: TypeUint32, V: []int32{1}}, "array of uint32 holds a Go []int32"},
		{"array elem unknown", "k", Value{Type: TypeArray, Elem: 20, V: []int32{1}}, "unknown array element type 20"},
		{"nested not array", "k", ValueOf([]Value{ValueOf(uint8(1))}), "element 0 of an array of arrays has type uint8"},
		{"nested bad", "k", ValueOf([]Value{{Type: TypeArray, Elem: TypeBool, V: []uint8{}}}), "element 0: array of bool holds a Go []uint8"},
		{"too deep", "k", deep, "arrays are nested deeper than 8"},
		{"alignment type", KeyAlignment, ValueOf(uint64(32)), "general.alignment has type uint64; it must be uint32"},
		{"alignment 24", KeyAlignment, ValueOf(uint32(24)), "general.alignment is 24; it must be a power of two"},
		{"alignment 0", KeyAlignment, ValueOf(uint32(0)), "general.alignment is 0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := NewBuilder().AddKV(c.key, c.v)
			if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("error %v\n  should contain %q and wrap ErrInvalid", err, c.msg)
			}
		})
	}
	b := NewBuilder()
	must(t, b.AddKV("k", ValueOf("x")))
	if err := b.AddKV("k", ValueOf("y")); err == nil || !strings.Contains(err.Error(), `metadata "k" is already set`) {
		t.Fatalf("duplicate key: %v", err)
	}
	must(t, b.SetKV("k", ValueOf("y")))
	if !b.RemoveKV("k") || b.RemoveKV("k") || len(b.kvs) != 0 {
		t.Fatal("RemoveKV")
	}
}

func TestBuilderRejectsBadTensors(t *testing.T) {
	cases := []struct {
		name string
		tn   string
		typ  quant.Type
		dims []uint64
		n    int
		msg  string
	}{
		{"empty name", "", quant.F32, []uint64{1}, 4, "tensor name is empty"},
		{"long name", strings.Repeat("n", 64), quant.F32, []uint64{1}, 4, "is 64 bytes long; ggml accepts at most 63"},
		{"unknown type", "t", 31, []uint64{1}, 4, `tensor "t": type 31 is not a ggml type`},
		{"no dims", "t", quant.F32, nil, 4, "0 dimensions (must be 1 to 4)"},
		{"five dims", "t", quant.F32, []uint64{1, 1, 1, 1, 1}, 4, "5 dimensions"},
		{"zero dim", "t", quant.F32, []uint64{2, 0}, 0, "dimension 1 is 0"},
		{"overflow", "t", quant.F32, []uint64{math.MaxUint32 + 1, math.MaxUint32 + 1}, 0, "more than 2^63-1 elements"},
		{"partial block", "t", quant.Q4_0, []uint64{16}, 9, "row length 16 is not a multiple of Q4_0's block size 32"},
		{"short data", "t", quant.Q8_0, []uint64{32, 2}, 67, `tensor "t": 67 bytes of data for Q8_0[32 2], which needs 68`},
		{"long data", "t", quant.F16, []uint64{3}, 8, "8 bytes of data for F16[3], which needs 6"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := NewBuilder().AddTensor(c.tn, c.typ, c.dims, make([]byte, c.n))
			if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("error %v\n  should contain %q and wrap ErrInvalid", err, c.msg)
			}
		})
	}
	b := NewBuilder()
	must(t, b.AddTensor("t", quant.F32, []uint64{1}, make([]byte, 4)))
	if err := b.AddTensor("t", quant.F32, []uint64{1}, make([]byte, 4)); err == nil || !strings.Contains(err.Error(), "already added") {
		t.Fatalf("duplicate tensor: %v", err)
	}
	if err := b.AddTensorFrom("u", quant.F32, []uint64{1}, nil); err == nil {
		t.Fatal("nil source accepted")
	}
}

// The Builder keeps its own copy of dims.
func TestBuilderCopiesDims(t *testing.T) {
	dims := []uint64{4}
	b := NewBuilder()
	must(t, b.AddTensor("t", quant.F32, dims, make([]byte, 16)))
	dims[0] = 5
	f := readBytes(t, written(t, b))
	if f.Tensors[0].Dims[0] != 4 {
		t.Fatal("dims were not copied")
	}
}

type failWriter struct{ left int }

var errDiskFull = errors.New("disk full")

func (w *failWriter) Write(p []byte) (int, error) {
	if len(p) > w.left {
		n := w.left
		w.left = 0
		return n, errDiskFull
	}
	w.left -= len(p)
	return len(p), nil
}

func TestWriteErrors(t *testing.T) {
	full := len(written(t, sampleBuilder(t)))
	for _, at := range []int{0, 10, full - 300, full - 1} {
		n, err := sampleBuilder(t).WriteTo(&failWriter{left: at})
		if !errors.Is(err, errDiskFull) || n != int64(at) {
			t.Errorf("failing after %d bytes: wrote %d, error %v", at, n, err)
		}
	}
	// A source shorter than the tensor.
	b := NewBuilder()
	must(t, b.AddTensorFrom("t", quant.F32, []uint64{4}, bytes.NewReader(make([]byte, 10))))
	_, err := b.WriteTo(io.Discard)
	if !errors.Is(err, io.ErrUnexpectedEOF) || !strings.Contains(err.Error(), `tensor "t": reading its 16 bytes from the source: got 10`) {
		t.Fatalf("short source: %v", err)
	}
}

func TestValueOf(t *testing.T) {
	for _, c := range []struct {
		x    any
		typ  ValueType
		elem ValueType
	}{
		{uint8(1), TypeUint8, 0}, {int64(1), TypeInt64, 0}, {"s", TypeString, 0}, {true, TypeBool, 0},
		{[]string{}, TypeArray, TypeString}, {[]float64(nil), TypeArray, TypeFloat64},
		{[]Value{}, TypeArray, TypeArray}, {[]int32{1}, TypeArray, TypeInt32},
	} {
		v := ValueOf(c.x)
		if v.Type != c.typ || v.Elem != c.elem || checkValue(v, 0) != nil {
			t.Errorf("ValueOf(%T) = %v/%v, want %v/%v", c.x, v.Type, v.Elem, c.typ, c.elem)
		}
	}
	if v := ValueOf(3.0 + 1i); checkValue(v, 0) == nil {
		t.Error("complex128 accepted")
	}
}

func TestFromFileNeedsReader(t *testing.T) {
	if _, err := FromFile(&File{}); !errors.Is(err, ErrInvalid) {
		t.Fatal(err)
	}
}
