package backendtest

import (
	"fmt"
	"math"
	"testing"

	"github.com/attnscope/attnscope/engine/backend"
	"github.com/attnscope/attnscope/engine/kernels"
)

// RunDevice checks the Ops of the device that newDevice returns against plain-Go references:
// exact copies and embedding rows, products (plain and fused) within DotBound, and the norms,
// rotations, activations, softmax and attention within a few float32 roundings (Tol·(1+|want|)),
// attention in half precision within HalfTol.
func RunDevice(t *testing.T, newDevice func() backend.Device) {
	t.Run("Copies", func(t *testing.T) { testCopies(t, openDevice(t, newDevice)) })
	t.Run("Rows", func(t *testing.T) { testDeviceRows(t, openDevice(t, newDevice)) })
	t.Run("MatMul", func(t *testing.T) { testDeviceMatMul(t, openDevice(t, newDevice)) })
	t.Run("Norms", func(t *testing.T) { testNorms(t, openDevice(t, newDevice)) })
	t.Run("RoPE", func(t *testing.T) { testRoPE(t, openDevice(t, newDevice)) })
	t.Run("Elementwise", func(t *testing.T) { testElementwise(t, openDevice(t, newDevice)) })
	t.Run("Attention", func(t *testing.T) { testAttention(t, openDevice(t, newDevice)) })
	t.Run("Fused", func(t *testing.T) { testFused(t, openDevice(t, newDevice)) })
	t.Run("RoPEStore", func(t *testing.T) { testRoPEStore(t, openDevice(t, newDevice)) })
	t.Run("HalfAttention", func(t *testing.T) { testHalfAttention(t, openDevice(t, newDevice)) })
}

// Tol is the relative tolerance of the non-product ops.
const Tol = 2e-5

func openDevice(t *testing.T, newDevice func() backend.Device) backend.Device {
	t.Helper()
	d := newDevice()
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Errorf("%s: Close: %v", d.Name(), err)
		}
	})
	return d
}

// run executes f on d, failing t on an error.
func run(t *testing.T, d backend.Device, f func(o backend.Ops) error) {
	t.Helper()
	if err := d.Do(f); err != nil {
		t.Fatalf("%s: %v", d.Name(), err)
	}
}

// upload allocates a buffer holding x.
func upload(o backend.Ops, x []float32) (backend.Buffer, error) {
	b, err := o.Alloc(len(x))
	if err != nil {
		return nil, err
	}
	o.Upload(b, 0, x)
	return b, nil
}

// compare fails t where got and want differ by more than tol·(1+|want|), returning the worst ratio.
func compare(t *testing.T, what string, got, want []float32, tol float64) float64 {
	t.Helper()
	worst, bad := 0.0, 0
	for i := range want {
		err := math.Abs(float64(got[i]) - float64(want[i]))
		bound := tol * (1 + math.Abs(float64(want[i])))
		if !(err <= bound) {
			if bad++; bad <= 3 {
				t.Errorf("%s[%d] = %g, want %g", what, i, got[i], want[i])
			}
		}
		worst = max(worst, err/bound)
	}
	if bad > 3 {
		t.Errorf("%s: %d of %d values out of tolerance", what, bad, len(want))
	}
	return worst
}

func testCopies(t *testing.T, d backend.Device) {
	x := Inputs(1, 1000, 1)
	got := make([]float32, 300)
	run(t, d, func(o backend.Ops) error {
		a, err := upload(o, x)
		if err != nil {
			return err
		}
		b, err := o.Alloc(500)
		if err != nil {
			return err
		}
		o.Copy(b, 100, a, 700, 300)
		o.Download(got, b, 100)
		o.Free(a)
		o.Free(b)
		return nil
	})
	if !equalBits(got, x[700:]) {
		t.Errorf("upload, copy and download changed the values")
	}
}

func testDeviceRows(t *testing.T, d backend.Device) {
	for _, c := range Cases(t) {
		w := newWeight(t, d, c)
		ids := []int32{int32(c.Shape.Rows - 1), 0, int32(c.Shape.Rows / 2)}
		got := make([]float32, len(ids)*c.Shape.Cols)
		run(t, d, func(o backend.Ops) error {
			b, err := o.Alloc(len(got))
			if err != nil {
				return err
			}
			o.Rows(b, w, ids)
			o.Download(got, b, 0)
			o.Free(b)
			return nil
		})
		for i, id := range ids {
			if !equalBits(got[i*c.Shape.Cols:(i+1)*c.Shape.Cols], c.Rows[id]) {
				t.Errorf("%s: row %d differs from quant.Dequantize", c, id)
			}
		}
	}
}

// deviceBatches cover the row-by-row and the tiled products, with partial tiles.
var deviceBatches = []int{1, 3, 8, 9, 70}

func testDeviceMatMul(t *testing.T, d backend.Device) {
	var worst float64
	for _, c := range Cases(t) {
		w := newWeight(t, d, c)
		for _, n := range deviceBatches {
			x := Inputs(n, c.Shape.Cols, uint64(n))
			want, abs := Reference(c.Rows, x, n)
			got := make([]float32, n*c.Shape.Rows)
			run(t, d, func(o backend.Ops) error {
				xb, err := upload(o, x)
				if err != nil {
					return err
				}
				yb, err := o.Alloc(len(got))
				if err != nil {
					return err
				}
				o.MatMul(yb, w, xb, n)
				o.Download(got, yb, 0)
				o.Free(xb)
				o.Free(yb)
				return nil
			})
			bad := 0
			for k := range got {
				bound := DotBound(c.Shape.Cols, abs[k])
				err := math.Abs(float64(got[k]) - want[k])
				if !(err <= bound) {
					if bad++; bad <= 2 {
						t.Errorf("%s n=%d: [%d] = %g, want %g (error %.3g, bound %.3g)", c, n, k, got[k], want[k], err, bound)
					}
				} else if bound > 0 {
					worst = max(worst, err/bound)
				}
			}
		}
	}
	t.Logf("%s: largest MatMul error %.3g of its bound", d.Name(), worst)
}

// devOp runs op on d over copies of the inputs and returns the output buffer's values.
func devOp(t *testing.T, d backend.Device, outLen int, inputs [][]float32, op func(o backend.Ops, out backend.Buffer, in []backend.Buffer)) []float32 {
	t.Helper()
	got := make([]float32, outLen)
	run(t, d, func(o backend.Ops) error {
		var bufs []backend.Buffer
		for _, x := range inputs {
			b, err := upload(o, x)
			if err != nil {
				return err
			}
			bufs = append(bufs, b)
		}
		out, err := o.Alloc(outLen)
		if err != nil {
			return err
		}
		op(o, out, bufs)
		o.Download(got, out, 0)
		for _, b := range append(bufs, out) {
			o.Free(b)
		}
		return nil
	})
	return got
}

// hostOp is devOp on the plain-Go reference.
func hostOp(outLen int, inputs [][]float32, op func(o backend.Ops, out backend.Buffer, in []backend.Buffer)) []float32 {
	var bufs []backend.Buffer
	for _, x := range inputs {
		bufs = append(bufs, append(hostBuf{}, x...))
	}
	out := make(hostBuf, outLen)
	op(hostOps{}, out, bufs)
	return out
}

func check(t *testing.T, d backend.Device, what string, outLen int, inputs [][]float32, tol float64, op func(o backend.Ops, out backend.Buffer, in []backend.Buffer)) {
	t.Helper()
	got := devOp(t, d, outLen, inputs, op)
	want := hostOp(outLen, inputs, op)
	compare(t, what, got, want, tol)
}

func testNorms(t *testing.T, d backend.Device) {
	for _, dim := range []int{8, 64, 768, 1500} {
		const rows = 3
		x := Inputs(rows, dim, uint64(dim))
		w := Inputs(1, dim, uint64(dim)+1)
		b := Inputs(1, dim, uint64(dim)+2)
		for i := range x {
			x[i] = x[i]*3 + 0.5
		}
		check(t, d, fmt.Sprintf("RMSNorm dim %d", dim), rows*dim, [][]float32{x, w}, Tol, func(o backend.Ops, out backend.Buffer, in []backend.Buffer) {
			o.RMSNorm(out, in[0], in[1], rows, dim, 1e-5)
		})
		check(t, d, fmt.Sprintf("LayerNorm dim %d", dim), rows*dim, [][]float32{x, w, b}, Tol, func(o backend.Ops, out backend.Buffer, in []backend.Buffer) {
			o.LayerNorm(out, in[0], in[1], in[2], rows, dim, 1e-5)
		})
		check(t, d, fmt.Sprintf("LayerNorm without bias dim %d", dim), rows*dim, [][]float32{x, w}, Tol, func(o backend.Ops, out backend.Buffer, in []backend.Buffer) {
			o.LayerNorm(out, in[0], in[1], nil, rows, dim, 1e-5)
		})
	}
}

// RotaryTable returns cos and sin of r's angles for positions 0 … n-1 in the layout Ops.RoPE reads,
// from the same angles kernels.RoPE uses.
func RotaryTable(r kernels.RoPE, n int) []float32 {
	half := r.Dims / 2
	tab := make([]float32, n*r.Dims)
	th := make([]float32, half)
	for p := 0; p < n; p++ {
		r.Thetas(th, p)
		for j, a := range th {
			tab[(p*half+j)*2] = float32(math.Cos(float64(a)))
			tab[(p*half+j)*2+1] = float32(math.Sin(float64(a)))
		}
	}
	return tab
}

func testRoPE(t *testing.T, d backend.Device) {
	const rows, heads, hd, pos0 = 4, 3, 16, 37
	for _, neox := range []bool{false, true} {
		for _, dims := range []int{16, 8} {
			r := kernels.RoPE{Dims: dims, Base: 10000, Scale: 1, NeoX: neox}
			tab := RotaryTable(r, pos0+rows)
			x := Inputs(rows*heads, hd, uint64(dims))
			got := devOp(t, d, len(x), [][]float32{x, tab}, func(o backend.Ops, out backend.Buffer, in []backend.Buffer) {
				o.Copy(out, 0, in[0], 0, len(x))
				o.RoPE(out, in[1], rows, heads, hd, dims, pos0, neox)
			})
			// The reference is the CPU kernel itself.
			want := append([]float32{}, x...)
			scratch := make([]float32, dims/2)
			for i := 0; i < rows; i++ {
				for h := 0; h < heads; h++ {
					r.Apply(want[(i*heads+h)*hd:(i*heads+h+1)*hd], pos0+i, scratch)
				}
			}
			compare(t, fmt.Sprintf("RoPE dims %d neox %v", dims, neox), got, want, 1e-6)
		}
	}
}

func testElementwise(t *testing.T, d backend.Device) {
	const n = 3000
	x := Inputs(1, n, 11)
	y := Inputs(1, n, 12)
	for i := range x {
		x[i] *= 4 // reach the activations' tails
	}
	check(t, d, "SwiGLU", n, [][]float32{x, y}, Tol, func(o backend.Ops, out backend.Buffer, in []backend.Buffer) {
		o.Copy(out, 0, in[0], 0, n)
		o.SwiGLU(out, in[1], n)
	})
	check(t, d, "GELU", n, [][]float32{x}, Tol, func(o backend.Ops, out backend.Buffer, in []backend.Buffer) {
		o.Copy(out, 0, in[0], 0, n)
		o.GELU(out, n)
	})
	check(t, d, "Add", n, [][]float32{x, y}, 1e-7, func(o backend.Ops, out backend.Buffer, in []backend.Buffer) {
		o.Copy(out, 0, in[0], 0, n)
		o.Add(out, in[1], n)
	})
	check(t, d, "AddRows", n, [][]float32{x, y[:30]}, 1e-7, func(o backend.Ops, out backend.Buffer, in []backend.Buffer) {
		o.Copy(out, 0, in[0], 0, n)
		o.AddRows(out, in[1], n, 30)
	})
	for _, cols := range []int{1, 7, 100, 3000 / 2} {
		rows := 2
		check(t, d, fmt.Sprintf("Softmax cols %d", cols), rows*cols, [][]float32{x[:rows*cols]}, Tol, func(o backend.Ops, out backend.Buffer, in []backend.Buffer) {
			o.Copy(out, 0, in[0], 0, rows*cols)
			o.Softmax(out, rows, cols)
		})
	}
}

// AttnCases are the attention shapes of the suite: prefill, decode after a prompt, a chunk in the
// middle, an encoder, grouped-query and multi-query heads, head sizes from 8 to 128.
var AttnCases = []backend.AttnShape{
	{N: 37, Pos0: 0, Total: 37, NHead: 4, NKVHead: 2, HeadDim: 64, Causal: true},
	{N: 1, Pos0: 80, Total: 81, NHead: 4, NKVHead: 4, HeadDim: 64, Causal: true},
	{N: 5, Pos0: 40, Total: 45, NHead: 8, NKVHead: 4, HeadDim: 8, Causal: true},
	{N: 20, Pos0: 0, Total: 20, NHead: 2, NKVHead: 2, HeadDim: 32, Causal: false},
	{N: 70, Pos0: 0, Total: 70, NHead: 6, NKVHead: 1, HeadDim: 128, Causal: true},
	{N: 3, Pos0: 100, Total: 103, NHead: 2, NKVHead: 1, HeadDim: 80, Causal: true},
}

// attnInputs completes s (its rows' stride and scale) and returns its queries, keys and values,
// drawn from seed on: normal values, the queries doubled (sharper rows).
func attnInputs(s *backend.AttnShape, seed uint64) (q, k, v []float32) {
	s.KVStride = s.NKVHead * s.HeadDim
	s.Scale = float32(1 / math.Sqrt(float64(s.HeadDim)))
	q = Inputs(s.N*s.NHead, s.HeadDim, seed)
	k = Inputs(s.Total, s.KVStride, seed+1)
	v = Inputs(s.Total, s.KVStride, seed+2)
	for i := range q {
		q[i] *= 2
	}
	return q, k, v
}

func testAttention(t *testing.T, d backend.Device) {
	for ci, s := range AttnCases {
		q, k, v := attnInputs(&s, uint64(3*ci))
		name := fmt.Sprintf("case %d %+v", ci, s)
		check(t, d, "Attention "+name, s.N*s.NHead*s.HeadDim, [][]float32{q, k, v}, 5e-5, func(o backend.Ops, out backend.Buffer, in []backend.Buffer) {
			o.Attention(out, in[0], in[1], in[2], s)
		})
		check(t, d, "AttentionProbs "+name, s.NHead*s.N*s.Total, [][]float32{q, k}, Tol, func(o backend.Ops, out backend.Buffer, in []backend.Buffer) {
			o.AttentionProbs(out, in[0], in[1], s)
		})
	}
}
