package kernels_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/attnscope/attnscope/engine/kernels"
	"github.com/attnscope/attnscope/engine/quant"
)

// packed packs w or fails the test.
func packed(t testing.TB, typ quant.Type, w []byte, rows, cols int) *kernels.Packed {
	t.Helper()
	p, err := kernels.Pack(typ, w, rows, cols)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// sameEncoding reports whether the blocks of bs bytes of a and b are equal, a NaN scale
// matching any NaN (packing keeps scales as float32, which quiets signalling NaNs).
func sameEncoding(a, b []byte, bs int) bool {
	for o := 0; o < len(a); o += bs {
		ha := uint16(a[o]) | uint16(a[o+1])<<8
		hb := uint16(b[o]) | uint16(b[o+1])<<8
		nan := func(h uint16) bool { return h&0x7c00 == 0x7c00 && h&0x3ff != 0 }
		if !(ha == hb || nan(ha) && nan(hb)) || !bytes.Equal(a[o+2:o+bs], b[o+2:o+bs]) {
			return false
		}
	}
	return true
}

// A packed matrix gives back every row's ggml encoding and its dequantized values, and its
// products equal the row-by-row ones bit for bit from any group on, for whole and partial groups,
// with the vector kernels on and off.
func TestPackedMatchesRows(t *testing.T) {
	for _, typ := range []quant.Type{quant.Q8_0, quant.Q4_0} {
		for _, cols := range []int{32, 288, 768} {
			for _, rows := range []int{1, 5, 8, 13, 16, 27} {
				t.Run(fmt.Sprintf("%s/cols=%d/rows=%d", typ, cols, rows), func(t *testing.T) {
					nb, bs := cols/32, qBlockBytes(typ)
					rb := nb * bs
					w := randomRow(uint64(rows*cols), rows*nb, bs)
					p := packed(t, typ, w, rows, cols)
					row := make([]byte, rb)
					deq := make([]float32, rows*cols)
					if err := quant.Dequantize(typ, deq, w); err != nil {
						t.Fatal(err)
					}
					for r := 0; r < rows; r++ {
						p.RowBytes(row, r)
						if !sameEncoding(row, w[r*rb:(r+1)*rb], bs) {
							t.Fatalf("row %d: RowBytes differs from the ggml encoding", r)
						}
					}
					act := activations(uint64(cols+7), cols)
					as := make([]uint32, nb)
					kernels.ActScales(as, act)
					x := normal(newRand(uint64(cols)), cols, 1)
					for _, on := range []bool{true, false} {
						restore := kernels.UseSIMD(on)
						got := make([]float32, rows*cols)
						p.Dequantize(got[cols:], 1) // rows 1… (not a group start)
						p.Dequantize(got[:cols], 0)
						for i := range got {
							if !sameBits(got[i], deq[i]) {
								restore()
								t.Fatalf("simd=%v: Dequantize value %d = %v, quant.Dequantize %v", on, i, got[i], deq[i])
							}
						}
						act2 := activations(uint64(cols+8), cols)
						as2 := make([]uint32, nb)
						kernels.ActScales(as2, act2)
						for r0 := 0; r0 < rows; r0 += kernels.PackRows {
							for _, n := range []int{rows - r0, min(rows-r0, 3)} {
								// Two inputs at once: each as VecDotRowsPacked alone.
								d0, d1 := make([]float32, n), make([]float32, n)
								kernels.VecDotRowsPacked2(d0, d1, p, r0, act, act2, as, as2)
								one := make([]float32, n)
								for k, pair := range [][]float32{d0, d1} {
									a, s := act, as
									if k == 1 {
										a, s = act2, as2
									}
									kernels.VecDotRowsPacked(one, p, r0, a, s)
									for i := range one {
										if !sameBits(one[i], pair[i]) {
											restore()
											t.Fatalf("simd=%v r0=%d n=%d: VecDotRowsPacked2 input %d row %d = %v, alone %v", on, r0, n, k, r0+i, pair[i], one[i])
										}
									}
								}
								dots := make([]float32, n)
								kernels.VecDotRowsPacked(dots, p, r0, act, as)
								lanes := make([]float32, n)
								kernels.MatVecQLanesPacked(lanes, p, r0, x)
								for i := range dots {
									r := r0 + i
									if want := quant.VecDot(typ, w[r*rb:(r+1)*rb], act, cols); !sameBits(dots[i], want) {
										restore()
										t.Fatalf("simd=%v r0=%d n=%d: VecDotRowsPacked row %d = %v, quant.VecDot %v", on, r0, n, r, dots[i], want)
									}
									if want := kernels.DotLanesPlain(deq[r*cols:(r+1)*cols], x); !sameBits(lanes[i], want) {
										restore()
										t.Fatalf("simd=%v r0=%d n=%d: MatVecQLanesPacked row %d = %v, DotLanes %v", on, r0, n, r, lanes[i], want)
									}
								}
							}
						}
						restore()
					}
				})
			}
		}
	}
}

func TestPackRefusesAndPanics(t *testing.T) {
	for _, c := range []struct {
		typ        quant.Type
		n          int
		rows, cols int
	}{
		{quant.F16, 64, 1, 32}, {quant.Q4_K, 144, 1, 256}, {quant.Q8_0, 34, 1, 31},
		{quant.Q8_0, 0, 0, 32}, {quant.Q8_0, 33, 1, 32}, {quant.Q4_0, 34, 1, 32},
	} {
		if _, err := kernels.Pack(c.typ, make([]byte, c.n), c.rows, c.cols); err == nil {
			t.Errorf("Pack(%s, %d bytes, %d×%d) accepted", c.typ, c.n, c.rows, c.cols)
		}
	}
	// 9 rows of 32: two groups of eight rows, one block each.
	nq, nd, err := kernels.PackedLen(quant.Q8_0, 9, 32)
	if err != nil || nq != 2*8*32+8 || nd != 2*8 {
		t.Errorf("PackedLen(Q8_0, 9, 32) = %d, %d, %v", nq, nd, err)
	}
	for _, c := range [][2]int{{nq - 1, nd}, {nq, nd + 1}, {0, 0}} {
		if _, err := kernels.PackInto(quant.Q8_0, make([]byte, 9*34), 9, 32, make([]byte, c[0]), make([]uint32, c[1])); err == nil {
			t.Errorf("PackInto with storage of %d and %d accepted", c[0], c[1])
		}
	}
	p := packed(t, quant.Q8_0, make([]byte, 9*34), 9, 32)
	act, as := make([]byte, 34), make([]uint32, 1)
	mustPanic(t, "kernels: VecDotRowsPacked", func() { kernels.VecDotRowsPacked(make([]float32, 2), p, 4, act, as) })
	mustPanic(t, "kernels: VecDotRowsPacked", func() { kernels.VecDotRowsPacked(make([]float32, 2), p, 8, act, as) })
	mustPanic(t, "kernels: MatVecQLanesPacked", func() { kernels.MatVecQLanesPacked(make([]float32, 1), p, 0, make([]float32, 64)) })
	mustPanic(t, "kernels: Packed.RowBytes", func() { p.RowBytes(make([]byte, 34), 9) })
	mustPanic(t, "kernels: Packed.Dequantize", func() { p.Dequantize(make([]float32, 64), 8) })
	mustPanic(t, "kernels: ActScales", func() { kernels.ActScales(as, make([]byte, 35)) })
}

func FuzzPacked(f *testing.F) {
	f.Add(uint8(9), false, make([]byte, 600))
	f.Add(uint8(3), true, make([]byte, 300))
	f.Fuzz(func(t *testing.T, rows uint8, q4 bool, data []byte) {
		typ := quant.Q8_0
		if q4 {
			typ = quant.Q4_0
		}
		r := int(rows%20) + 1
		bs := qBlockBytes(typ)
		nb := min(len(data)/(r*bs+6*32), 40)
		if nb == 0 {
			return
		}
		w := data[:r*nb*bs]
		x, _ := fuzzVectors(data[r*nb*bs:])
		x = x[:nb*32]
		act := make([]byte, nb*34)
		quant.QuantizeActivations(quant.Q8_0, act, x)
		as := make([]uint32, nb)
		kernels.ActScales(as, act)
		p := packed(t, typ, w, r, nb*32)
		dots := make([]float32, r)
		kernels.VecDotRowsPacked(dots, p, 0, act, as)
		lanes := make([]float32, r)
		kernels.MatVecQLanesPacked(lanes, p, 0, x)
		rb := nb * bs
		deq := make([]float32, nb*32)
		for i := range dots {
			row := w[i*rb : (i+1)*rb]
			if want := quant.VecDot(typ, row, act, nb*32); !sameBits(dots[i], want) {
				t.Fatalf("row %d: VecDotRowsPacked %v, quant.VecDot %v", i, dots[i], want)
			}
			if err := quant.Dequantize(typ, deq, row); err != nil {
				t.Fatal(err)
			}
			if want := kernels.DotLanesPlain(deq, x); !sameBits(lanes[i], want) {
				t.Fatalf("row %d: MatVecQLanesPacked %v, DotLanes %v", i, lanes[i], want)
			}
		}
	})
}

// BenchmarkPack measures the rearrangement a model's Q8_0 and Q4_0 weights go through when it
// loads (the page does it for every such matrix).
func BenchmarkPack(b *testing.B) {
	for _, typ := range []quant.Type{quant.Q8_0, quant.Q4_0} {
		const rows, cols = 2048, 768
		rb, _ := quant.RowBytes(typ, cols)
		w := make([]byte, rows*rb)
		for r := 0; r < rows; r++ {
			for k := 0; k < rb; k++ {
				w[r*rb+k] = byte(r + 7*k)
			}
			for blk := 0; blk < rb; blk += rb / (cols / 32) {
				w[r*rb+blk], w[r*rb+blk+1] = 0, 0x3c // scale 1
			}
		}
		nq, nd, err := kernels.PackedLen(typ, rows, cols)
		if err != nil {
			b.Fatal(err)
		}
		q, d := make([]byte, nq), make([]uint32, nd)
		b.Run(typ.String(), func(b *testing.B) {
			b.SetBytes(int64(len(w)))
			for b.Loop() {
				if _, err := kernels.PackInto(typ, w, rows, cols, q, d); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
