package kernels_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/attnscope/attnscope/engine/kernels"
	"github.com/attnscope/attnscope/engine/quant"
)

// qBlockBytes is the size of one 32-value block of t.
func qBlockBytes(t quant.Type) int {
	if t == quant.Q4_0 {
		return 18
	}
	return 34
}

// dequantThenLanes is what MatVecQLanes must equal: Dequantize, then MatVecLanes (with the
// plain-Go dot product).
func dequantThenLanes(t *testing.T, typ quant.Type, w []byte, rows int, x []float32) []float32 {
	t.Helper()
	c := len(x)
	deq := make([]float32, rows*c)
	if err := quant.Dequantize(typ, deq, w); err != nil {
		t.Fatal(err)
	}
	want := make([]float32, rows)
	for r := range want {
		want[r] = kernels.DotLanesPlain(deq[r*c:(r+1)*c], x)
	}
	return want
}

// checkMatVecQ compares MatVecQLanes and MatVecQLanesPacked, with the SIMD kernels on and off,
// against dequantThenLanes bit for bit.
func checkMatVecQ(t *testing.T, typ quant.Type, w []byte, rows int, x []float32) {
	t.Helper()
	want := dequantThenLanes(t, typ, w, rows, x)
	for _, on := range []bool{true, false} {
		restore := kernels.UseSIMD(on)
		got := make([]float32, rows)
		ok := kernels.MatVecQLanes(typ, got, w, x)
		pk := make([]float32, rows)
		kernels.MatVecQLanesPacked(pk, packed(t, typ, w, rows, len(x)), 0, x)
		restore()
		for r := range pk {
			if !sameBits(pk[r], want[r]) {
				t.Fatalf("%s rows=%d c=%d simd=%v: MatVecQLanesPacked row %d = %x, dequantized DotLanes %x", typ, rows, len(x), on, r, pk[r], want[r])
			}
		}
		if !ok && on && kernels.SIMD() == "neon" {
			continue // it declines on arm64, where dequantizing first is faster (see its doc)
		}
		if !ok {
			t.Fatalf("%s rows=%d c=%d: MatVecQLanes declined", typ, rows, len(x))
		}
		for r := range got {
			if !sameBits(got[r], want[r]) {
				t.Fatalf("%s rows=%d c=%d simd=%v: row %d = %x, dequantized DotLanes %x", typ, rows, len(x), on, r, got[r], want[r])
			}
		}
	}
}

func TestMatVecQLanesMatchesDequantized(t *testing.T) {
	for _, typ := range []quant.Type{quant.Q8_0, quant.Q4_0} {
		// 2112 columns are 66 blocks: more than one batch of scales.
		for _, c := range []int{32, 64, 288, 768, 2112} {
			for _, rows := range []int{1, 3, 4, 5, 8, 11} {
				t.Run(fmt.Sprintf("%s/c=%d/rows=%d", typ, c, rows), func(t *testing.T) {
					nb := c / 32
					w := randomRow(uint64(c*31+rows), rows*nb, qBlockBytes(typ))
					for k, pair := range simdInputs(uint64(c+rows), c)[:4] {
						_ = k
						checkMatVecQ(t, typ, w, rows, pair[0])
					}
				})
			}
		}
	}
}

func TestMatVecQLanesDeclinesAndPanics(t *testing.T) {
	dst := make([]float32, 2)
	if kernels.MatVecQLanes(quant.F16, dst, make([]byte, 2*64), make([]float32, 32)) {
		t.Error("MatVecQLanes accepted F16 weights")
	}
	if kernels.MatVecQLanes(quant.Q8_0, dst, make([]byte, 2*34), make([]float32, 31)) {
		t.Error("MatVecQLanes accepted 31 columns")
	}
	defer kernels.UseSIMD(false)() // on arm64 the vector path declines before it checks sizes
	mustPanic(t, "kernels: MatVecQLanes", func() { kernels.MatVecQLanes(quant.Q8_0, dst, make([]byte, 34), make([]float32, 32)) })
}

func FuzzMatVecQLanes(f *testing.F) {
	f.Add(uint8(4), false, []byte{1, 2, 3, 4, 5, 6})
	f.Add(uint8(5), true, make([]byte, 400))
	f.Fuzz(func(t *testing.T, rows uint8, q4 bool, data []byte) {
		typ := quant.Q8_0
		if q4 {
			typ = quant.Q4_0
		}
		r := int(rows%9) + 1
		bs := qBlockBytes(typ)
		// The weights take the first r·nb blocks of data, the activations come from the rest.
		nb := min(len(data)/(r*bs+6*32), 70)
		if nb == 0 {
			return
		}
		w := data[:r*nb*bs]
		a, _ := fuzzVectors(data[r*nb*bs:])
		checkMatVecQ(t, typ, w, r, a[:nb*32])
	})
}

func BenchmarkMatVecQLanes(b *testing.B) {
	for _, typ := range []quant.Type{quant.Q8_0, quant.Q4_0} {
		for _, shape := range [][2]int{{768, 288}, {288, 768}, {2048, 768}, {32000, 288}} {
			rows, c := shape[0], shape[1]
			w := quantized(typ, rows*c)
			x := normal(newRand(68), c, 1)
			dst := make([]float32, rows)
			p := packed(b, typ, w, rows, c) // as in BenchmarkVecDotRows
			b.Run(fmt.Sprintf("%s/%dx%d", typ, rows, c), func(b *testing.B) {
				sides(b, func(b *testing.B) {
					b.SetBytes(int64(len(w)))
					for b.Loop() {
						if kernels.PacksFloat(typ) {
							kernels.MatVecQLanesPacked(dst, p, 0, x)
						} else {
							kernels.MatVecQLanes(typ, dst, w, x)
						}
					}
					flops(b, float64(2*rows*c))
				})
				// The unfused way: 16 rows at a time dequantized, then MatVecLanes.
				b.Run("dequantize+MatVecLanes", func(b *testing.B) {
					scratch := make([]float32, 16*c)
					rb := c / 32 * qBlockBytes(typ)
					b.SetBytes(int64(len(w)))
					for b.Loop() {
						for r := 0; r < rows; r += 16 {
							kernels.Dequantize(typ, scratch, w[r*rb:(r+16)*rb])
							kernels.MatVecLanes(dst[r:r+16], scratch, x)
						}
					}
					flops(b, float64(2*rows*c))
				})
			})
		}
	}
}

// f16Bits (behind MatVecQLanes' scales) agrees with quant.F16ToF32 on every binary16 value.
func TestF16ScaleAllValues(t *testing.T) {
	for h := 0; h < 1<<16; h++ {
		b := []byte{byte(h), byte(h >> 8)}
		if got, want := kernels.F16Scale(b), quant.F16ToF32(uint16(h)); !sameBits(got, want) || (got == got && math.Float32bits(got) != math.Float32bits(want)) {
			t.Fatalf("%#04x: %x, quant.F16ToF32 %x", h, math.Float32bits(got), math.Float32bits(want))
		}
	}
}

// quantized returns n normal values quantized to typ: weights as a model holds them (every
// block scale normal), for the benchmarks.
func quantized(typ quant.Type, n int) []byte {
	w := make([]byte, n/32*qBlockBytes(typ))
	if err := quant.Quantize(typ, w, normal(newRand(uint64(n)), n, 1)); err != nil {
		panic(err)
	}
	return w
}
