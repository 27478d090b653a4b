package quant_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/attnscope/attnscope/engine/quant"
)

// randomRow returns a row of n values of type typ: random blocks for the block types, random
// Gaussian values for the scalar ones.
func randomRow(r *rand.Rand, typ quant.Type, n int) []byte {
	if typ.BlockSize() > 1 {
		return randomBlocks(r, typ, n/typ.BlockSize())
	}
	row := make([]byte, n*typ.BlockBytes())
	if err := quant.Quantize(typ, row, gaussian(r.Uint64(), n, 1)); err != nil {
		panic(err)
	}
	return row
}

func sameFloat(a, b float32) bool {
	return math.Float32bits(a) == math.Float32bits(b) || a != a && b != b
}

// TestDotRow checks DotRow against the plain loop over Dequantize's output, bit for bit, and
// MatVec against DotRow.
func TestDotRow(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 9))
	for _, typ := range quant.Supported() {
		for _, n := range []int{256, 768, 2048} {
			if typ.BlockSize() == 1 && n == 768 {
				n = 300 // not a multiple of the chunk
			}
			row := randomRow(r, typ, n)
			x := gaussian(r.Uint64(), n, 1)
			w := make([]float32, n)
			if err := quant.Dequantize(typ, w, row); err != nil {
				t.Fatal(err)
			}
			var want float32
			for j := range w {
				want += float32(w[j] * x[j])
			}
			if got := quant.DotRow(typ, row, x); !sameFloat(got, want) {
				t.Errorf("%s n=%d: DotRow = %g, want %g", typ, n, got, want)
			}
		}
		const rows, cols = 5, 512
		w := randomRow(r, typ, rows*cols)
		x := gaussian(r.Uint64(), cols, 1)
		dst := make([]float32, rows)
		quant.MatVec(typ, dst, w, rows, cols, x)
		rb := len(w) / rows
		for i := range dst {
			if want := quant.DotRow(typ, w[i*rb:(i+1)*rb], x); !sameFloat(dst[i], want) {
				t.Errorf("%s: MatVec row %d = %g, DotRow %g", typ, i, dst[i], want)
			}
		}
	}
}

// TestNoAllocations checks that the row functions allocate nothing.
func TestNoAllocations(t *testing.T) {
	r := rand.New(rand.NewPCG(10, 11))
	const n = 1024
	x := gaussian(1, n, 1)
	vals := make([]float32, n)
	for _, typ := range quant.Supported() {
		row := randomRow(r, typ, n)
		if a := testing.AllocsPerRun(20, func() { quant.DotRow(typ, row, x) }); a != 0 {
			t.Errorf("DotRow(%s): %v allocations", typ, a)
		}
		if a := testing.AllocsPerRun(20, func() { quant.Dequantize(typ, vals, row) }); a != 0 {
			t.Errorf("Dequantize(%s): %v allocations", typ, a)
		}
		dst := make([]float32, 4)
		w := randomRow(r, typ, 4*256)
		if a := testing.AllocsPerRun(20, func() { quant.MatVec(typ, dst, w, 4, 256, x[:256]) }); a != 0 {
			t.Errorf("MatVec(%s): %v allocations", typ, a)
		}
	}
	for _, typ := range quant.QuantizeTypes() {
		q := make([]byte, rowBytes(t, typ, n))
		if a := testing.AllocsPerRun(20, func() { quant.Quantize(typ, q, x) }); a != 0 {
			t.Errorf("Quantize(%s): %v allocations", typ, a)
		}
	}
}

func mustPanic(t *testing.T, what, contains string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Errorf("%s did not panic", what)
			return
		}
		if msg, _ := r.(string); !strings.HasPrefix(msg, "quant: ") || !strings.Contains(msg, contains) {
			t.Errorf("%s panicked with %q, want a \"quant: \" message containing %q", what, r, contains)
		}
	}()
	f()
}

func TestBadLengthsPanic(t *testing.T) {
	mustPanic(t, "DequantizeQ4_0 with 33 values", "not a multiple", func() {
		quant.DequantizeQ4_0(make([]float32, 33), make([]byte, 18))
	})
	mustPanic(t, "DequantizeQ4K with a short source", "want 144", func() {
		quant.DequantizeQ4K(make([]float32, 256), make([]byte, 143))
	})
	mustPanic(t, "Dequantize(F16) with a long source", "want 8", func() {
		quant.Dequantize(quant.F16, make([]float32, 4), make([]byte, 9))
	})
	mustPanic(t, "QuantizeQ8_0 with a short destination", "want 68", func() {
		quant.QuantizeQ8_0(make([]byte, 67), make([]float32, 64))
	})
	mustPanic(t, "Quantize(Q8_K) with 32 values", "block size 256", func() {
		quant.Quantize(quant.Q8_K, make([]byte, 292), make([]float32, 32))
	})
	mustPanic(t, "DotRow with a short row", "DotRow", func() {
		quant.DotRow(quant.Q8_0, make([]byte, 33), make([]float32, 32))
	})
	mustPanic(t, "DotRow of Q8_K", "not supported (supported: F32, F16, Q4_0", func() {
		quant.DotRow(quant.Q8_K, make([]byte, 292), make([]float32, 256))
	})
	mustPanic(t, "MatVec with a short dst", "MatVec", func() {
		quant.MatVec(quant.F32, make([]float32, 1), make([]byte, 16), 2, 2, make([]float32, 2))
	})
	mustPanic(t, "MatVec with a short matrix", "want 68", func() {
		quant.MatVec(quant.Q8_0, make([]float32, 2), make([]byte, 67), 2, 32, make([]float32, 32))
	})
}

func TestUnsupportedTypes(t *testing.T) {
	for _, typ := range []quant.Type{quant.Q8_K, quant.IQ4_XS, quant.I8, quant.Type(99)} {
		err := quant.Dequantize(typ, nil, nil)
		if !errors.Is(err, quant.ErrUnsupported) || !strings.Contains(err.Error(), quant.SupportedNames()) ||
			!strings.Contains(err.Error(), typ.String()) {
			t.Errorf("Dequantize(%s): %v", typ, err)
		}
	}
	for _, typ := range []quant.Type{quant.Q4_K, quant.Q6_K, quant.IQ2_XXS} {
		err := quant.Quantize(typ, nil, nil)
		if !errors.Is(err, quant.ErrUnsupported) || !strings.Contains(err.Error(), "supported: F32, F16, Q4_0") {
			t.Errorf("Quantize(%s): %v", typ, err)
		}
		if quant.CanQuantize(typ) {
			t.Errorf("CanQuantize(%s)", typ)
		}
	}
	for _, typ := range quant.QuantizeTypes() {
		if !quant.CanQuantize(typ) {
			t.Errorf("CanQuantize(%s) is false", typ)
		}
	}
	for _, typ := range quant.Supported() {
		if err := quant.Dequantize(typ, nil, nil); err != nil {
			t.Errorf("Dequantize(%s) of nothing: %v", typ, err)
		}
	}
}
