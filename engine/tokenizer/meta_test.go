package tokenizer

import (
	"bytes"
	"encoding/binary"
	"math"
	"testing"

	"github.com/attnscope/attnscope/engine/gguf"
)

// kv is one metadata entry for metaFile: val is string, bool, uint32, int32, float32, []string,
// []float32 or []int32.
type kv struct {
	key string
	val any
}

// metaFile encodes a tensor-less GGUF v3 file holding kvs and parses it.
func metaFile(t *testing.T, kvs ...kv) *gguf.File {
	t.Helper()
	var b []byte
	le := binary.LittleEndian
	str := func(s string) { b = le.AppendUint64(b, uint64(len(s))); b = append(b, s...) }
	b = append(b, "GGUF"...)
	b = le.AppendUint32(b, 3)
	b = le.AppendUint64(b, 0)
	b = le.AppendUint64(b, uint64(len(kvs)))
	for _, e := range kvs {
		str(e.key)
		switch x := e.val.(type) {
		case string:
			b = le.AppendUint32(b, uint32(gguf.TypeString))
			str(x)
		case bool:
			b = le.AppendUint32(b, uint32(gguf.TypeBool))
			b = append(b, map[bool]byte{false: 0, true: 1}[x])
		case uint32:
			b = le.AppendUint32(b, uint32(gguf.TypeUint32))
			b = le.AppendUint32(b, x)
		case int32:
			b = le.AppendUint32(b, uint32(gguf.TypeInt32))
			b = le.AppendUint32(b, uint32(x))
		case float32:
			b = le.AppendUint32(b, uint32(gguf.TypeFloat32))
			b = le.AppendUint32(b, math.Float32bits(x))
		case []string:
			b = le.AppendUint32(b, uint32(gguf.TypeArray))
			b = le.AppendUint32(b, uint32(gguf.TypeString))
			b = le.AppendUint64(b, uint64(len(x)))
			for _, s := range x {
				str(s)
			}
		case []float32:
			b = le.AppendUint32(b, uint32(gguf.TypeArray))
			b = le.AppendUint32(b, uint32(gguf.TypeFloat32))
			b = le.AppendUint64(b, uint64(len(x)))
			for _, f := range x {
				b = le.AppendUint32(b, math.Float32bits(f))
			}
		case []int32:
			b = le.AppendUint32(b, uint32(gguf.TypeArray))
			b = le.AppendUint32(b, uint32(gguf.TypeInt32))
			b = le.AppendUint64(b, uint64(len(x)))
			for _, v := range x {
				b = le.AppendUint32(b, uint32(v))
			}
		default:
			t.Fatalf("metaFile: unsupported value %T", e.val)
		}
	}
	for len(b)%gguf.DefaultAlignment != 0 {
		b = append(b, 0)
	}
	f, err := gguf.Read(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("metaFile: %v", err)
	}
	return f
}
