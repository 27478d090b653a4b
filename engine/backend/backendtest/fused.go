package backendtest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/attnscope/attnscope/engine/backend"
	"github.com/attnscope/attnscope/engine/kernels"
	"github.com/attnscope/attnscope/engine/quant"
)

// otherCase is a second weight matrix of c's type and shape with other values.
func otherCase(t *testing.T, c Case) Case {
	t.Helper()
	s := c.Shape
	o := Case{Type: c.Type, Shape: s, Rows: make([][]float32, s.Rows)}
	o.Data = RandomWeights(c.Type, s.Rows, s.Cols, rand.New(rand.NewPCG(uint64(c.Type)+7, uint64(s.Rows)<<16|uint64(s.Cols))))
	rb, _ := quant.RowBytes(c.Type, s.Cols)
	for r := range o.Rows {
		o.Rows[r] = make([]float32, s.Cols)
		if err := quant.Dequantize(c.Type, o.Rows[r], o.Data[r*rb:(r+1)*rb]); err != nil {
			t.Fatalf("%s: %v", c, err)
		}
	}
	return o
}

// fusedBatches cover the row-by-row kernels (one and several inputs) and the tiled ones.
var fusedBatches = []int{1, 5, 9, 70}

// testFused checks the fused products against float64 references: MatMulAdd within DotBound
// plus the addition's rounding, MatMul3 within DotBound, MatMulSwiGLU within the bounds of its
// two products carried through silu(g)·u; with a Norm, the normalized input's own roundings
// (a few per value, and the mean square's sum of cols terms) widen the bounds.
func testFused(t *testing.T, d backend.Device) {
	const eps = 1e-5
	for _, c := range Cases(t) {
		if c.Shape.Rows > 300 || c.Shape.Cols > 3000 {
			continue // the products' own suite covers the large shapes
		}
		c2 := otherCase(t, c)
		w, w2 := newWeight(t, d, c), newWeight(t, d, c2)
		rows, cols := c.Shape.Rows, c.Shape.Cols
		nw := Inputs(1, cols, uint64(cols)+300)
		for _, n := range fusedBatches {
			for _, normed := range []bool{false, true} {
				x := Inputs(n, cols, uint64(n)+100)
				y0 := Inputs(n, rows, uint64(n)+200)
				in := x // the products' input as the reference sees it
				if normed {
					for i := range x {
						x[i] = x[i]*3 + 0.5
					}
					h := make(hostBuf, len(x))
					hostOps{}.RMSNorm(h, hostBuf(x), hostBuf(nw), n, cols, eps) // float64 sums, rounded once
					in = h
				}
				ref, abs := Reference(c.Rows, in, n)
				ref2, abs2 := Reference(c2.Rows, in, n)
				add, q, k, v, glu := make([]float32, n*rows), make([]float32, n*rows), make([]float32, n*rows), make([]float32, n*rows), make([]float32, n*rows)
				run(t, d, func(o backend.Ops) error {
					xb, err := upload(o, x)
					if err != nil {
						return err
					}
					nb, err := upload(o, nw)
					if err != nil {
						return err
					}
					bufs := make([]backend.Buffer, 5)
					for i := range bufs {
						if bufs[i], err = o.Alloc(n * rows); err != nil {
							return err
						}
					}
					norm := backend.Norm{}
					if normed {
						norm = backend.Norm{W: nb, Eps: eps}
					}
					o.Upload(bufs[0], 0, y0)
					if !normed {
						o.MatMulAdd(bufs[0], w, xb, n)
					}
					o.MatMul3(bufs[1], bufs[2], bufs[3], w, w2, w, xb, n, norm)
					o.MatMulSwiGLU(bufs[4], w, w2, xb, n, norm)
					for i, dst := range [][]float32{add, q, k, v, glu} {
						o.Download(dst, bufs[i], 0)
					}
					for _, b := range append(bufs, xb, nb) {
						o.Free(b)
					}
					return nil
				})
				name := fmt.Sprintf("%s n=%d normed=%v", c, n, normed)
				bad := 0
				fail := func(what string, i int, got float32, want, bound float64) {
					if bad++; bad <= 3 {
						t.Errorf("%s %s [%d] = %g, want %g (bound %.3g)", what, name, i, got, want, bound)
					}
				}
				bound := func(abs float64) float64 {
					b := DotBound(cols, abs)
					if normed {
						b = 2*b + float64(cols+8)*0x1p-24*abs
					}
					return b
				}
				for i := range add {
					if !normed {
						want := float64(y0[i]) + ref[i]
						if b := DotBound(cols, abs[i]) + 0x1p-24*math.Abs(want) + 0x1p-140; !(math.Abs(float64(add[i])-want) <= b) {
							fail("MatMulAdd", i, add[i], want, b)
						}
					}
					for j, p := range []struct {
						got       float32
						want, abs float64
					}{{q[i], ref[i], abs[i]}, {k[i], ref2[i], abs2[i]}, {v[i], ref[i], abs[i]}} {
						if b := bound(p.abs); !(math.Abs(float64(p.got)-p.want) <= b) {
							fail(fmt.Sprintf("MatMul3 output %d", j), i, p.got, p.want, b)
						}
					}
					g, u := ref[i], ref2[i]
					sg := 1 / (1 + math.Exp(-g))
					want := g * sg * u
					// silu's slope is below 1.1; the activation itself adds a few float32 roundings.
					b := 1.1*bound(abs[i])*math.Abs(u) + math.Abs(g*sg)*bound(abs2[i]) + Tol*math.Abs(want) + 0x1p-140
					if !(math.Abs(float64(glu[i])-want) <= b) {
						fail("MatMulSwiGLU", i, glu[i], want, b)
					}
				}
			}
		}
	}
}

// testRoPEStore checks the fused rotation and cache store against RoPE and Copy on the host.
func testRoPEStore(t *testing.T, d backend.Device) {
	const heads, kvHeads, hd, pos0 = 4, 2, 16, 21
	kvDim := kvHeads * hd
	for _, rows := range []int{1, 3} {
		for _, neox := range []bool{false, true} {
			for _, dims := range []int{16, 8} {
				for _, stage := range []bool{false, true} {
					r := kernels.RoPE{Dims: dims, Base: 10000, Scale: 1, NeoX: neox}
					const capRows, stageLen = 40, 300
					inputs := [][]float32{
						Inputs(rows*heads, hd, 1), Inputs(rows, kvDim, 2), Inputs(rows, kvDim, 3), RotaryTable(r, pos0+rows),
						Inputs(capRows, kvDim, 4), Inputs(capRows, kvDim, 5), Inputs(1, stageLen, 6),
					}
					outLen := 0
					for i, x := range inputs {
						if i != 2 && i != 3 {
							outLen += len(x)
						}
					}
					op := func(o backend.Ops, out backend.Buffer, in []backend.Buffer) {
						kv := backend.KVStore{K: in[4], V: in[5], Off: pos0 * kvDim}
						if stage {
							kv.Stage, kv.StageOff = in[6], 17
						}
						o.RoPEStore(in[0], in[1], in[2], in[3], rows, heads, kvHeads, hd, dims, pos0, neox, kv)
						off := 0
						for _, i := range []int{0, 1, 4, 5, 6} {
							o.Copy(out, off, in[i], 0, len(inputs[i]))
							off += len(inputs[i])
						}
					}
					got := devOp(t, d, outLen, inputs, op)
					want := hostOp(outLen, inputs, op)
					compare(t, fmt.Sprintf("RoPEStore rows %d neox %v dims %d stage %v", rows, neox, dims, stage), got, want, 1e-6)
				}
			}
		}
	}
}

// HalfAttnCases are the shapes on which attention with AttnShape.Half is checked: several query
// blocks and key tiles, chunks after a prefix, grouped heads, heads of 64 and 128 values.
var HalfAttnCases = []backend.AttnShape{
	{N: 150, Pos0: 0, Total: 150, NHead: 4, NKVHead: 2, HeadDim: 64, Causal: true},
	{N: 100, Pos0: 37, Total: 137, NHead: 2, NKVHead: 1, HeadDim: 128, Causal: true},
	{N: 70, Pos0: 0, Total: 70, NHead: 2, NKVHead: 2, HeadDim: 64, Causal: false},
	{N: 16, Pos0: 300, Total: 316, NHead: 3, NKVHead: 3, HeadDim: 128, Causal: true},
	{N: 1, Pos0: 80, Total: 81, NHead: 4, NKVHead: 4, HeadDim: 64, Causal: true},
}

// HalfTol is the tolerance of attention in half precision: inputs rounded to 11 significant
// bits move outputs by about 1e-3.
const HalfTol = 5e-3

func testHalfAttention(t *testing.T, d backend.Device) {
	for ci, s := range HalfAttnCases {
		q, k, v := attnInputs(&s, uint64(50+3*ci))
		s.Half = true
		check(t, d, fmt.Sprintf("Attention half case %d %+v", ci, s), s.N*s.NHead*s.HeadDim, [][]float32{q, k, v}, HalfTol,
			func(o backend.Ops, out backend.Buffer, in []backend.Buffer) {
				o.Attention(out, in[0], in[1], in[2], s)
			})
	}
}
