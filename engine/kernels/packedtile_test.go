package kernels_test

import (
	"fmt"
	"testing"

	"github.com/attnscope/attnscope/engine/kernels"
	"github.com/attnscope/attnscope/engine/quant"
)

// The tile products equal VecDotRowsPacked input by input bit for bit, for every group, from
// any group of rows on, with the vector kernels on and off; activations include any byte (−128
// too) and the tile is reused for a smaller set of inputs.
func TestPackedTileMatchesRows(t *testing.T) {
	for _, typ := range []quant.Type{quant.Q8_0, quant.Q4_0} {
		for _, cols := range []int{32, 288, 768} {
			for _, rows := range []int{8, 13, 27} {
				t.Run(fmt.Sprintf("%s/cols=%d/rows=%d", typ, cols, rows), func(t *testing.T) {
					nb, bs := cols/32, qBlockBytes(typ)
					p := packed(t, typ, randomRow(uint64(rows*cols+1), rows*nb, bs), rows, cols)
					var tile kernels.ActTile
					for _, n := range []int{2*kernels.TileInputs + 5, kernels.TileInputs} {
						act := make([]byte, 0, n*nb*34)
						for i := 0; i < n; i++ {
							if i%3 == 2 {
								act = append(act, randomRow(uint64(cols+i), nb, 34)...) // any bytes
							} else {
								act = append(act, activations(uint64(cols*7+i), cols)...)
							}
						}
						as := make([]uint32, n*nb)
						kernels.ActScales(as, act)
						tile.Set(act, as, n)
						if tile.Groups() != n/kernels.TileInputs {
							t.Fatalf("%d inputs: %d groups", n, tile.Groups())
						}
						for _, on := range []bool{true, false} {
							restore := kernels.UseSIMD(on)
							want := make([]float32, n*rows)
							for i := 0; i < n; i++ {
								kernels.VecDotRowsPacked(want[i*rows:(i+1)*rows], p, 0, act[i*nb*34:(i+1)*nb*34], as[i*nb:(i+1)*nb])
							}
							for r0 := 0; r0 < rows; r0 += kernels.PackRows {
								got := make([]float32, n*rows)
								for g := 0; g < tile.Groups(); g++ {
									kernels.VecDotRowsPackedTile(got, rows, p, r0, rows, &tile, g)
								}
								for i := 0; i < tile.Groups()*kernels.TileInputs; i++ {
									for r := 0; r < rows; r++ {
										v := got[i*rows+r]
										if r < r0 {
											if v != 0 {
												restore()
												t.Fatalf("simd=%v n=%d r0=%d: input %d row %d written (%v)", on, n, r0, i, r, v)
											}
											continue
										}
										if !sameBits(v, want[i*rows+r]) {
											restore()
											t.Fatalf("simd=%v n=%d r0=%d: input %d row %d = %v, VecDotRowsPacked %v", on, n, r0, i, r, v, want[i*rows+r])
										}
									}
								}
							}
							restore()
						}
					}
				})
			}
		}
	}
}

// Bad arguments panic with the function's name instead of writing out of place.
func TestPackedTileChecks(t *testing.T) {
	p := packed(t, quant.Q8_0, randomRow(1, 16, 34), 16, 32)
	act := activations(2, 32*kernels.TileInputs)
	as := make([]uint32, kernels.TileInputs)
	kernels.ActScales(as, act)
	var tile kernels.ActTile
	tile.Set(act, as, kernels.TileInputs)
	for name, f := range map[string]func(){
		"group":       func() { kernels.VecDotRowsPackedTile(make([]float32, 16*16), 16, p, 0, 16, &tile, 1) },
		"stride":      func() { kernels.VecDotRowsPackedTile(make([]float32, 16*16), 8, p, 0, 16, &tile, 0) },
		"short":       func() { kernels.VecDotRowsPackedTile(make([]float32, 16*15), 16, p, 0, 16, &tile, 0) },
		"rows":        func() { kernels.VecDotRowsPackedTile(make([]float32, 16*16), 16, p, 4, 16, &tile, 0) },
		"set lengths": func() { tile.Set(act[:34], as, kernels.TileInputs) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

// BenchmarkPackedInputs compares the ways of multiplying packed rows by 64 inputs (a prompt's
// product): one input at a time (VecDotRowsPacked), two (VecDotRowsPacked2) and tiles of
// TileInputs (VecDotRowsPackedTile), in integer operations (multiply and add) per second.
func BenchmarkPackedInputs(b *testing.B) {
	const n = 64
	for _, typ := range []quant.Type{quant.Q8_0, quant.Q4_0} {
		for _, shape := range [][2]int{{32, 288}, {288, 288}, {768, 288}, {288, 768}, {768, 768}, {2048, 768}, {768, 2048}} {
			rows, cols := shape[0], shape[1]
			nb := cols / 32
			p := packed(b, typ, quantized(typ, rows*cols), rows, cols)
			act := make([]byte, 0, n*nb*34)
			for i := 0; i < n; i++ {
				act = append(act, activations(uint64(i), cols)...)
			}
			as := make([]uint32, n*nb)
			kernels.ActScales(as, act)
			dst := make([]float32, n*rows)
			ab := nb * 34
			ops := float64(2 * n * rows * cols)
			b.Run(fmt.Sprintf("%s/%dx%d/one", typ, rows, cols), func(b *testing.B) {
				for b.Loop() {
					for i := 0; i < n; i++ {
						kernels.VecDotRowsPacked(dst[i*rows:(i+1)*rows], p, 0, act[i*ab:(i+1)*ab], as[i*nb:(i+1)*nb])
					}
				}
				b.ReportMetric(ops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GOP/s")
			})
			b.Run(fmt.Sprintf("%s/%dx%d/pair", typ, rows, cols), func(b *testing.B) {
				for b.Loop() {
					for i := 0; i < n; i += 2 {
						kernels.VecDotRowsPacked2(dst[i*rows:(i+1)*rows], dst[(i+1)*rows:(i+2)*rows], p, 0,
							act[i*ab:(i+1)*ab], act[(i+1)*ab:(i+2)*ab], as[i*nb:(i+1)*nb], as[(i+1)*nb:(i+2)*nb])
					}
				}
				b.ReportMetric(ops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GOP/s")
			})
			b.Run(fmt.Sprintf("%s/%dx%d/tile", typ, rows, cols), func(b *testing.B) {
				if !kernels.TileKernel(typ) {
					b.Skip("no tile kernel for", typ, "here (VecDotRowsPackedTile would run one input at a time)")
				}
				var tile kernels.ActTile
				for b.Loop() {
					tile.Set(act, as, n)
					for g := 0; g < tile.Groups(); g++ {
						kernels.VecDotRowsPackedTile(dst, rows, p, 0, rows, &tile, g)
					}
				}
				b.ReportMetric(ops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GOP/s")
			})
		}
	}
}

// Any weights (scales included) and any activation bytes: the tile products equal quant.VecDot
// row by row.
func FuzzPackedTile(f *testing.F) {
	f.Add(uint8(9), uint8(2), make([]byte, 2000))
	f.Add(uint8(16), uint8(1), make([]byte, 900))
	f.Fuzz(func(t *testing.T, rows, blocks uint8, data []byte) {
		typ := quant.Q4_0
		r := int(rows%24) + 1
		nb := int(blocks%4) + 1
		bs := qBlockBytes(typ)
		n := kernels.TileInputs + 1
		if len(data) < r*nb*bs+n*nb*34 {
			return
		}
		w := data[:r*nb*bs]
		act := data[r*nb*bs : r*nb*bs+n*nb*34]
		as := make([]uint32, n*nb)
		kernels.ActScales(as, act)
		p := packed(t, typ, w, r, nb*32)
		var tile kernels.ActTile
		tile.Set(act, as, n)
		got := make([]float32, n*r)
		kernels.VecDotRowsPackedTile(got, r, p, 0, r, &tile, 0)
		rb := nb * bs
		for i := 0; i < kernels.TileInputs; i++ {
			for k := 0; k < r; k++ {
				want := quant.VecDot(typ, w[k*rb:(k+1)*rb], act[i*nb*34:(i+1)*nb*34], nb*32)
				if !sameBits(got[i*r+k], want) {
					t.Fatalf("input %d row %d: VecDotRowsPackedTile %v, quant.VecDot %v", i, k, got[i*r+k], want)
				}
			}
		}
	})
}
