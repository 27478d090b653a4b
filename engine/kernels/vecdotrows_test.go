package kernels_test

import (
	"fmt"
	"testing"

	"github.com/attnscope/attnscope/engine/kernels"
	"github.com/attnscope/attnscope/engine/quant"
)

// checkVecDotRows compares VecDotRows and the packed products (VecDotRowsPacked, and
// VecDotRowsPacked2 with the same input twice), SIMD on and off, with quant.VecDot row by row,
// bit for bit.
func checkVecDotRows(t *testing.T, typ quant.Type, w, act []byte, rows, n int) {
	t.Helper()
	rb := len(w) / rows
	for _, on := range []bool{true, false} {
		restore := kernels.UseSIMD(on)
		got := make([]float32, rows)
		kernels.VecDotRows(typ, got, w, act, n)
		p := packed(t, typ, w, rows, n)
		as := make([]uint32, n/32)
		kernels.ActScales(as, act)
		pk := make([]float32, rows)
		kernels.VecDotRowsPacked(pk, p, 0, act, as)
		two0, two1 := make([]float32, rows), make([]float32, rows)
		kernels.VecDotRowsPacked2(two0, two1, p, 0, act, act, as, as)
		restore()
		for r := range got {
			want := quant.VecDot(typ, w[r*rb:(r+1)*rb], act, n)
			for name, v := range map[string]float32{"VecDotRows": got[r], "VecDotRowsPacked": pk[r], "VecDotRowsPacked2": two0[r], "VecDotRowsPacked2 (second)": two1[r]} {
				if !sameBits(v, want) {
					t.Fatalf("%s rows=%d n=%d simd=%v: %s row %d = %x, quant.VecDot %x", typ, rows, n, on, name, r, v, want)
				}
			}
		}
	}
}

func TestVecDotRowsMatchesVecDot(t *testing.T) {
	for _, typ := range []quant.Type{quant.Q8_0, quant.Q4_0} {
		for _, n := range []int{32, 288, 768, 2112} {
			for _, rows := range []int{1, 7, 8, 9, 16, 19, 40} { // 40: five groups, an odd number
				t.Run(fmt.Sprintf("%s/n=%d/rows=%d", typ, n, rows), func(t *testing.T) {
					w := randomRow(uint64(n*37+rows), rows*n/32, qBlockBytes(typ))
					checkVecDotRows(t, typ, w, activations(uint64(n+rows), n), rows, n)
					// Extreme activations: every block with a value of magnitude 127 and the
					// weights' most negative bytes (−128) in the Q8_0 rows.
					x := normal(newRand(uint64(n)), n, 1)
					for i := 0; i < n; i += 32 {
						x[i+i/32%32] = 100
					}
					act := make([]byte, n/32*34)
					quant.QuantizeActivations(quant.Q8_0, act, x)
					if typ == quant.Q8_0 {
						for i := 2; i < len(w); i += 5 {
							if i%34 >= 2 {
								w[i] = 0x80
							}
						}
					}
					checkVecDotRows(t, typ, w, act, rows, n)
				})
			}
		}
	}
}

func TestVecDotRowsPanics(t *testing.T) {
	mustPanic(t, "kernels: VecDotRows", func() {
		kernels.VecDotRows(quant.Q8_0, make([]float32, 2), make([]byte, 35), make([]byte, 34), 32)
	})
}

func FuzzVecDotRows(f *testing.F) {
	f.Add(uint8(8), false, make([]byte, 400))
	f.Add(uint8(9), true, make([]byte, 700))
	f.Fuzz(func(t *testing.T, rows uint8, q4 bool, data []byte) {
		typ := quant.Q8_0
		if q4 {
			typ = quant.Q4_0
		}
		r := int(rows%17) + 1
		bs := qBlockBytes(typ)
		nb := min(len(data)/(r*bs+6*32), 70)
		if nb == 0 {
			return
		}
		w := data[:r*nb*bs]
		x, _ := fuzzVectors(data[r*nb*bs:])
		act := make([]byte, nb*34)
		quant.QuantizeActivations(quant.Q8_0, act, x[:nb*32])
		checkVecDotRows(t, typ, w, act, r, nb*32)
	})
}

func BenchmarkVecDotRows(b *testing.B) {
	for _, typ := range []quant.Type{quant.Q8_0, quant.Q4_0} {
		for _, shape := range [][2]int{{768, 288}, {2048, 768}, {32000, 288}} {
			rows, n := shape[0], shape[1]
			w := quantized(typ, rows*n)
			act := activations(72, n)
			dst := make([]float32, rows)
			// Where the vector kernels read packed rows, they run on rows packed once, as the
			// backend keeps them (VecDotRows would pack a copy every call).
			p := packed(b, typ, w, rows, n)
			as := make([]uint32, n/32)
			kernels.ActScales(as, act)
			b.Run(fmt.Sprintf("%s/%dx%d", typ, rows, n), func(b *testing.B) {
				sides(b, func(b *testing.B) {
					b.SetBytes(int64(len(w)))
					for b.Loop() {
						if kernels.Packs(typ) {
							kernels.VecDotRowsPacked(dst, p, 0, act, as)
						} else {
							kernels.VecDotRows(typ, dst, w, act, n)
						}
					}
				})
				// The row-by-row way: VecDot (its integer sums on vectors) per row.
				b.Run("VecDot", func(b *testing.B) {
					rb := len(w) / rows
					b.SetBytes(int64(len(w)))
					for b.Loop() {
						for r := range dst {
							dst[r] = kernels.VecDot(typ, w[r*rb:(r+1)*rb], act, n)
						}
					}
				})
			})
		}
	}
}
