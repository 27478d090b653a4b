package gguf

import (
	"bytes"
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/attnscope/attnscope/engine/quant"
)

func TestBadInput(t *testing.T) {
	const huge = 1 << 62
	f32 := func(name string, off uint64, dims ...uint64) *raw {
		return header(3, 1, 0).tensor(name, quant.F32, off, dims...)
	}
	kv := func(key string, typ ValueType) *raw { return header(3, 0, 1).str(key).u32(uint32(typ)) }
	arr := func(elem ValueType, n uint64) *raw { return kv("k", TypeArray).u32(uint32(elem)).u64(n) }
	cases := []struct {
		name string
		in   []byte
		is   error
		msg  string
	}{
		{"empty", nil, ErrNotGGUF, "0 bytes long"},
		{"short", []byte("GGU"), ErrNotGGUF, "3 bytes long"},
		{"wrong magic", []byte("GGML\x03\x00\x00\x00"), ErrNotGGUF, `starts with "GGML"`},
		{"version 0", header(0, 0, 0).b, ErrVersion, "version 0"},
		{"version 1", header(1, 0, 0).b, ErrVersion, "v1 (32-bit counts)"},
		{"version 4", header(4, 0, 0).b, ErrVersion, "version 4 (supported: 2, 3)"},
		{"big-endian", header(3<<24, 0, 0).b, ErrVersion, "big-endian"},
		{"no counts", []byte("GGUF\x03\x00\x00\x00"), ErrTruncated, "need 8 bytes, 0 left"},
		{"huge tensor count", header(3, huge, 0).b, ErrCorrupt, "tensor count 4611686018427387904 cannot fit"},
		{"huge kv count", header(3, 0, huge).b, ErrCorrupt, "metadata entry count"},
		{"kv count past end", header(3, 0, 2).kvU32("a", 1).b, ErrCorrupt, "metadata entry count 2 cannot fit"},
		{"huge key length", header(3, 0, 1).u64(huge).bytes(make([]byte, 20)).b, ErrCorrupt, "metadata key length 4611686018427387904 exceeds the limit 65535"},
		{"key past end", header(3, 0, 1).u64(1000).bytes(make([]byte, 20)).b, ErrTruncated, "metadata key length 1000 exceeds the 20 bytes left"},
		{"empty key", header(3, 0, 1).kvU32("", 1).b, ErrCorrupt, "metadata key is empty"},
		{"huge string", kv("k", TypeString).u64(huge).b, ErrCorrupt, `metadata "k": at byte 37: string length 4611686018427387904 exceeds the limit`},
		{"string past end", kv("k", TypeString).u64(8).u32(0).b, ErrTruncated, "string length 8 exceeds the 4 bytes left"},
		{"huge array", arr(TypeUint32, huge).u32(1).b, ErrCorrupt, "array element count 4611686018427387904 cannot fit"},
		{"array past end", arr(TypeUint64, 2).u64(1).b, ErrCorrupt, "array element count 2 cannot fit in the 8 bytes left"},
		{"huge string array", arr(TypeString, 3).u64(0).u64(0).b, ErrCorrupt, "array element count 3 cannot fit in the 16 bytes left (each takes at least 8)"},
		{"huge nested array", arr(TypeArray, 2).u32(0).u64(0).b, ErrCorrupt, "(each takes at least 12)"},
		{"unknown value type", kv("k", 13).u32(0).b, ErrCorrupt, `metadata "k": at byte 33: unknown metadata value type 13`},
		{"unknown element type", arr(13, 0).b, ErrCorrupt, "unknown array element type 13"},
		{"invalid bool", kv("k", TypeBool).u8(2).b, ErrCorrupt, "bool value 2 is neither 0 nor 1"},
		{"invalid bool in array", arr(TypeBool, 2).u8(1).u8(255).b, ErrCorrupt, "at byte 50: bool value 255"},
		{"nesting too deep", nested(MaxNesting + 1), ErrCorrupt, "arrays nested deeper than 8"},
		{"duplicate key", header(3, 0, 2).kvU32("a", 1).kvU32("a", 2).b, ErrCorrupt, `metadata "a" at byte 41: the key appears twice`},
		{"alignment 0", header(3, 0, 1).kvU32(KeyAlignment, 0).b, ErrCorrupt, "general.alignment is 0; it must be a power of two"},
		{"alignment 48", header(3, 0, 1).kvU32(KeyAlignment, 48).b, ErrCorrupt, "is 48; it must be a power of two"},
		{"alignment 2 MiB", header(3, 0, 1).kvU32(KeyAlignment, 2<<20).b, ErrCorrupt, "between 1 and 1048576"},
		{"alignment uint64", header(3, 0, 1).str(KeyAlignment).u32(uint32(TypeUint64)).u64(32).b, ErrCorrupt, "general.alignment has type uint64; it must be uint32"},
		{"n_dims 0", f32("a", 0).b, ErrCorrupt, `tensor "a": at byte 33: 0 dimensions (must be 1 to 4)`},
		{"n_dims 5", f32("a", 0, 1, 1, 1, 1, 1).b, ErrCorrupt, "5 dimensions"},
		{"dimension 0", f32("a", 0, 4, 0).data(32, 0).b, ErrCorrupt, `tensor "a": dimension 1 is 0`},
		{"elements overflow", f32("a", 0, 1<<32, 1<<32).b, ErrCorrupt, "hold more than 2^63-1 elements"},
		{"bytes overflow", f32("a", 0, 1<<31, 1<<31).b, ErrCorrupt, "need more than 2^63-1 bytes"},
		{"unknown tensor type", header(3, 1, 0).tensor("a", 99, 0, 4).b, ErrUnknownType, `tensor "a": at byte 45: unknown tensor type 99`},
		{"retired tensor type", header(3, 1, 0).tensor("a", 4, 0, 32).b, ErrUnknownType, "type 4"},
		{"row not whole blocks", header(3, 1, 0).tensor("a", quant.Q8_0, 0, 33).data(32, 64).b, ErrCorrupt, "row length 33 is not a multiple of Q8_0's block size 32"},
		{"empty tensor name", f32("", 0, 4).data(32, 16).b, ErrCorrupt, "tensor 0 (at byte 24): at byte 24: tensor name is empty"},
		{"long tensor name", f32(strings.Repeat("x", 64), 0, 4).b, ErrCorrupt, "tensor name length 64 exceeds the limit 63"},
		{"huge tensor name", header(3, 1, 0).u64(huge).bytes(make([]byte, 40)).b, ErrCorrupt, "tensor 0 (at byte 24): at byte 24: tensor name length"},
		{"truncated tensor info", f32("a", 0, 4).b[:50], ErrTruncated, "tensor \"a\": at byte 49: need 8 bytes, 1 left"},
		{"offset past end", f32("a", 64, 4).data(32, 16).b, ErrTruncated, `tensor "a": its 16 bytes at offset 64 run past the end of the file`},
		{"data past end", f32("a", 0, 8).data(32, 16).b, ErrTruncated, "its 32 bytes at offset 0 run past the end"},
		{"offset overflow", f32("a", math.MaxUint64-31, 4).data(32, 16).b, ErrTruncated, "run past the end"},
		{"misaligned offset", f32("a", 16, 4).data(32, 64).b, ErrCorrupt, `tensor "a": offset 16 is not a multiple of the alignment 32`},
		{"misaligned for 64", header(3, 1, 1).kvU32(KeyAlignment, 64).tensor("a", quant.F32, 32, 4).data(64, 64).b, ErrCorrupt, "offset 32 is not a multiple of the alignment 64"},
		{"overlap", header(3, 2, 0).tensor("a", quant.F32, 0, 16).tensor("b", quant.F32, 32, 4).data(32, 64).b, ErrCorrupt, `tensors "a" (bytes 0 to 64 of the data section) and "b" (from byte 32) overlap`},
		{"same offset", header(3, 2, 0).tensor("b", quant.F32, 0, 4).tensor("a", quant.F32, 0, 4).data(32, 64).b, ErrCorrupt, "overlap"},
		{"duplicate tensor", header(3, 2, 0).tensor("a", quant.F32, 0, 4).tensor("a", quant.F32, 32, 4).data(32, 64).b, ErrCorrupt, `tensor "a": the name is used by tensors 0 and 1`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := Read(bytes.NewReader(c.in), int64(len(c.in)))
			if err == nil {
				t.Fatalf("read %d tensors, want an error", len(f.Tensors))
			}
			if !errors.Is(err, c.is) {
				t.Errorf("error %q does not wrap %q", err, c.is)
			}
			if !strings.Contains(err.Error(), c.msg) || !strings.HasPrefix(err.Error(), "gguf: ") {
				t.Errorf("error %q\n  should contain %q", err, c.msg)
			}
		})
	}
}

// nested returns a file with one key holding arrays nested depth deep.
func nested(depth int) []byte {
	r := header(3, 0, 1).str("k").u32(uint32(TypeArray))
	for range depth - 1 {
		r.u32(uint32(TypeArray)).u64(1)
	}
	return r.u32(uint32(TypeUint8)).u64(0).b
}

func TestNestingLimit(t *testing.T) {
	readBytes(t, nested(MaxNesting))
	if _, err := Read(bytes.NewReader(nested(MaxNesting+1)), int64(len(nested(MaxNesting+1)))); err == nil {
		t.Fatal("too deep nesting accepted")
	}
}

// The reader is more lenient than ggml about layout: gaps and any tensor order are fine.
func TestGapsAndOrder(t *testing.T) {
	in := header(3, 2, 0).tensor("b", quant.F32, 96, 4).tensor("a", quant.F32, 0, 4).data(32, 112).b
	f := readBytes(t, in)
	if f.Tensors[0].Offset != 96 || f.Tensors[1].Offset != 0 {
		t.Fatal(f.Tensors)
	}
}

// Every prefix of a file must fail cleanly: with an error, never a panic.
func TestTruncatedEverywhere(t *testing.T) {
	check := func(t *testing.T, in []byte, n int) {
		if _, err := Read(bytes.NewReader(in[:n]), int64(n)); err == nil {
			t.Fatalf("prefix of %d of %d bytes was accepted", n, len(in))
		}
	}
	sample := written(t, sampleBuilder(t))
	for n := range len(sample) {
		check(t, sample, n)
	}
	in := readFile(t, filepath.Join(filepath.Dir(sharedModels(t)[0]), "stories260K-q8_0.gguf"))
	f := readBytes(t, in)
	step := 1
	if testing.Short() {
		step = 7
	}
	for n := 0; n < int(f.DataOffset)+64; n += step {
		check(t, in, n)
	}
	for n := int(f.DataOffset); n < len(in); n += 4099 {
		check(t, in, n)
	}
}

// A lying reader: ReadAt fails even though the size says the bytes are there.
func TestReaderErrors(t *testing.T) {
	in := written(t, sampleBuilder(t))
	f, err := Read(bytes.NewReader(in[:100]), int64(len(in)))
	if err == nil || !errors.Is(err, ErrTruncated) {
		t.Fatalf("got %v, %v", f, err)
	}
}
