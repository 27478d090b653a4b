package quant_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/attnscope/attnscope/engine/gguf"
	"github.com/attnscope/attnscope/engine/quant"
	"github.com/attnscope/attnscope/internal/shareddata"
)

// openModel opens a shared model file, skipping the test if it is absent.
func openModel(t *testing.T, name string) *gguf.File {
	t.Helper()
	f, err := gguf.Open(shareddata.Model(t, name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// tensorData returns a tensor's raw bytes.
func tensorData(t *testing.T, f *gguf.File, ti *gguf.TensorInfo) []byte {
	t.Helper()
	b, err := f.TensorData(ti)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// dequantized returns a tensor's values as float32.
func dequantized(t *testing.T, f *gguf.File, ti *gguf.TensorInfo) []float32 {
	t.Helper()
	out := make([]float32, ti.Elements())
	if err := quant.Dequantize(ti.Type, out, tensorData(t, f, ti)); err != nil {
		t.Fatalf("%s: %v", ti.Name, err)
	}
	return out
}

// rowBytes is quant.RowBytes for values known to be valid.
func rowBytes(t testing.TB, typ quant.Type, n int) int {
	t.Helper()
	b, err := quant.RowBytes(typ, n)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// gaussian returns n values drawn from N(0, sigma²) with a fixed seed.
func gaussian(seed uint64, n int, sigma float64) []float32 {
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64() * sigma)
	}
	return x
}

// errStats returns the RMS of a−b relative to the RMS of b, and the largest |a−b|.
func errStats(a, b []float32) (relRMS, maxAbs float64) {
	var se, sb float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		se += d * d
		sb += float64(b[i]) * float64(b[i])
		maxAbs = math.Max(maxAbs, math.Abs(d))
	}
	if sb == 0 {
		return math.Sqrt(se), maxAbs
	}
	return math.Sqrt(se / sb), maxAbs
}
