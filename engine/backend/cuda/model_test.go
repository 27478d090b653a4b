package cuda

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/attnscope/attnscope/engine/backend"
	"github.com/attnscope/attnscope/engine/backend/backendtest"
	"github.com/attnscope/attnscope/engine/backend/backendtest/modeltest"
	"github.com/attnscope/attnscope/engine/quant"
	"github.com/attnscope/attnscope/engine/synth"
	"github.com/attnscope/attnscope/internal/shareddata"
)

// Real models end to end on the GPU against the CPU: llama files run the device path (weights,
// KV cache and activations on the GPU), the GPT-2 file the host-slice products.
func TestModelsOnGPU(t *testing.T) {
	openOrSkip(t).Close()
	for _, name := range []string{"stories260K.gguf", "stories260K-q8_0.gguf", "stories260K-q4_0.gguf",
		"llama-2-tiny-random.gguf", "tiny-llama-kq-q4_k.gguf", "tiny-gpt2-synthetic.gguf"} {
		t.Run(name, func(t *testing.T) {
			path := shareddata.Model(t, name)
			tol := 1e-3
			if name == "tiny-gpt2-synthetic.gguf" {
				// GPT-2's GELU rounds its input to half precision (as ggml does): a last-bit change
				// in the product before it moves an input across a rounding boundary, and the
				// logits by up to a few 1e-3. Measured 1.3e-3.
				tol = 5e-3
			}
			r := modeltest.Compare(t, path, openOrSkip(t), "Once upon a time, there was a little girl named Lily", 24, tol)
			t.Logf("%s: %v", name, r)
		})
	}
}

// Synthetic llama models of the benchmark shapes (smaller vocabularies and contexts keep the
// files quick to write) in every type the kernels read directly.
func TestSynthModelsOnGPU(t *testing.T) {
	openOrSkip(t).Close()
	dir := t.TempDir()
	for _, typ := range []quant.Type{quant.F32, quant.F16, quant.Q8_0, quant.Q4_0} {
		o := synth.Options{Arch: "llama", Dim: 288, Layers: 6, Heads: 6, KVHeads: 3, FFN: 768, Vocab: 4096, Ctx: 512, Type: typ, Seed: 7}
		path := filepath.Join(dir, fmt.Sprintf("s15m-%s.gguf", typ))
		if _, err := synth.WriteFile(context.Background(), path, o); err != nil {
			t.Fatal(err)
		}
		t.Run(typ.String(), func(t *testing.T) {
			r := modeltest.Compare(t, path, openOrSkip(t), "the quick brown fox jumps over the lazy dog again and again", 32, 1e-3)
			t.Logf("synth s15m-shape %s: %v", typ, r)
		})
	}
}

// attnBench holds one attention problem on the GPU: queries, keys and values as float32
// buffers and as f16 copies, and the output.
type attnBench struct {
	s            backend.AttnShape
	q, k, v, out backend.Buffer
	qh, kh, vh   uint64 // f16 copies
	be           *Backend
}

func newAttnBench(tb testing.TB, be *Backend, s backend.AttnShape) *attnBench {
	a := &attnBench{s: s, be: be}
	q := backendtest.Inputs(s.N*s.NHead, s.HeadDim, 1)
	k := backendtest.Inputs(s.Total, s.KVStride, 2)
	v := backendtest.Inputs(s.Total, s.KVStride, 3)
	err := be.Do(func(o backend.Ops) error {
		op := o.(*ops)
		for _, p := range []struct {
			dst  *backend.Buffer
			half *uint64
			x    []float32
		}{{&a.q, &a.qh, q}, {&a.k, &a.kh, k}, {&a.v, &a.vh, v}, {&a.out, nil, q}} {
			var err error
			if *p.dst, err = o.Alloc(len(p.x)); err != nil {
				return err
			}
			o.Upload(*p.dst, 0, p.x)
			if p.half != nil {
				if *p.half, err = be.alloc(int64(len(p.x)) * 2); err != nil {
					return err
				}
				op.elementwise("to_half", len(p.x), op.buf(*p.dst).ptr, *p.half, i64(len(p.x)))
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

func (a *attnBench) close() {
	a.be.Do(func(o backend.Ops) error {
		for _, p := range []backend.Buffer{a.q, a.k, a.v, a.out} {
			o.Free(p)
		}
		for _, p := range []uint64{a.qh, a.kh, a.vh} {
			a.be.free(p)
		}
		return nil
	})
}

// runV1 runs attn_mma (no pipeline, the first kernel; 64 queries a block) on the f16 copies.
func (a *attnBench) runV1(o *ops) {
	s := a.s
	o.b.launch(fmt.Sprintf("attn_mma_f16_%d", s.HeadDim), (s.N+63)/64, s.NHead, 128, 0, a.qh, a.kh, a.vh,
		o.buf(a.out).ptr, i32(s.N), i32(s.Pos0), i32(s.Total), i32(s.NHead), i32(s.NKVHead), i32(s.KVStride), f32(s.Scale), i32(causal(s)))
}

// The tensor-core kernels agree: the Attention op with Half (f16 copies made on the GPU) gives
// the bits of the chosen pipelined kernel on f16 inputs; the pipelined variants with 64-key
// tiles give the bits of the unpipelined attn_mma, the others stay within backendtest.HalfTol
// of it; all stay within backendtest.HalfTol of the float32 kernel.
func TestAttentionHalfKernels(t *testing.T) {
	be := openOrSkip(t)
	defer be.Close()
	for _, c := range []struct{ n, pos0, hd int }{{700, 0, 64}, {700, 0, 128}, {100, 37, 64}, {33, 500, 128}} {
		s := backend.AttnShape{N: c.n, Pos0: c.pos0, Total: c.pos0 + c.n, NHead: 4, NKVHead: 2, HeadDim: c.hd, KVStride: 2 * c.hd,
			Scale: float32(1 / math.Sqrt(float64(c.hd))), Causal: true}
		a := newAttnBench(t, be, s)
		defer a.close()
		n := s.N * s.NHead * c.hd
		f32out, halfOut, v1 := make([]float32, n), make([]float32, n), make([]float32, n)
		variants := map[faVariant][]float32{}
		err := be.Do(func(o backend.Ops) error {
			op := o.(*ops)
			o.Attention(a.out, a.q, a.k, a.v, s)
			o.Download(f32out, a.out, 0)
			h := s
			h.Half = true
			o.Attention(a.out, a.q, a.k, a.v, h)
			o.Download(halfOut, a.out, 0)
			a.runV1(op)
			o.Download(v1, a.out, 0)
			for _, fv := range faVariants {
				if fv.d == c.hd {
					got := make([]float32, n)
					op.attnFA(fv, s, a.qh, a.kh, a.vh, op.buf(a.out).ptr)
					o.Download(got, a.out, 0)
					variants[fv] = got
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		chosen := variants[faChosen[c.hd]]
		worst := 0.0
		for i := range f32out {
			if chosen[i] != halfOut[i] {
				t.Fatalf("%+v: [%d] f16 inputs %g, float32 inputs %g", c, i, chosen[i], halfOut[i])
			}
			worst = max(worst, math.Abs(float64(halfOut[i]-f32out[i]))/(1+math.Abs(float64(f32out[i]))))
		}
		if !(worst <= backendtest.HalfTol) {
			t.Errorf("%+v: half precision differs from float32 by %.3g (tolerance %g)", c, worst, backendtest.HalfTol)
		}
		for fv, got := range variants {
			diff, same := 0.0, 0
			for i := range got {
				diff = max(diff, math.Abs(float64(got[i]-v1[i])))
				if got[i] == v1[i] {
					same++
				}
			}
			// 64-key tiles sum as attn_mma does; other tiles round the probabilities to f16
			// against other running maxima.
			if fv.bk == 64 && diff != 0 || diff > backendtest.HalfTol {
				t.Errorf("%+v: %s differs from attn_mma by %.3g", c, fv.name(), diff)
			}
			t.Logf("%+v: %s equals attn_mma in %d of %d values (largest difference %.3g)", c, fv.name(), same, n, diff)
		}
		t.Logf("%+v: half vs float32 attention, largest difference %.3g", c, worst)
	}
}

// BenchmarkAttention times attention on a causal prefill of n tokens (batch 1) for two head
// shapes, reporting TFLOP/s counted as 4·n²/2·headDim·heads: the float32 kernel (f32), the
// tensor-core kernel from float32 buffers as the Attention op runs it with Half (half: f16 copies
// made first), and the tensor-core kernel from f16 buffers (f16: the inputs PyTorch's F16 SDPA
// gets; f16v1 the first, unpipelined kernel).
func BenchmarkAttention(b *testing.B) {
	be := openOrSkip(b)
	defer be.Close()
	for _, sh := range []struct{ heads, hd int }{{12, 64}, {32, 128}} {
		for _, n := range []int{1024, 4096, 10000, 16384} {
			s := backend.AttnShape{N: n, Total: n, NHead: sh.heads, NKVHead: sh.heads, HeadDim: sh.hd,
				KVStride: sh.heads * sh.hd, Scale: float32(1 / math.Sqrt(float64(sh.hd))), Causal: true}
			a := newAttnBench(b, be, s)
			kinds := []string{"f32", "half", "f16", "f16v1"}
			for _, fv := range faVariants {
				if fv.d == sh.hd {
					kinds = append(kinds, fv.name())
				}
			}
			for _, kind := range kinds {
				if kind == "f32" && n > 4096 && testing.Short() {
					continue
				}
				b.Run(fmt.Sprintf("%s_h%d_d%d_n%d", kind, sh.heads, sh.hd, n), func(b *testing.B) {
					h := s
					h.Half = kind == "half"
					for b.Loop() {
						err := be.Do(func(o backend.Ops) error {
							op := o.(*ops)
							switch {
							case kind == "f16":
								op.attnMMA(s, a.qh, a.kh, a.vh, op.buf(a.out).ptr)
							case kind == "f16v1":
								a.runV1(op)
							case strings.HasPrefix(kind, "attn_fa"):
								for _, fv := range faVariants {
									if fv.name() == kind {
										op.attnFA(fv, s, a.qh, a.kh, a.vh, op.buf(a.out).ptr)
									}
								}
							default:
								o.Attention(a.out, a.q, a.k, a.v, h)
							}
							return nil
						})
						if err != nil {
							b.Fatal(err)
						}
					}
					flops := 4 * float64(n) * float64(n) / 2 * float64(sh.hd) * float64(sh.heads)
					b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e12, "TFLOP/s")
					b.ReportMetric(b.Elapsed().Seconds()*1e3/float64(b.N), "ms/op")
				})
			}
			a.close()
		}
	}
}

// BenchmarkMatVec times a decode-sized product per weight type (4096×4096), in GB/s of weights read.
func BenchmarkMatVec(b *testing.B) {
	be := openOrSkip(b)
	defer be.Close()
	const rows, cols = 4096, 4096
	for _, typ := range []quant.Type{quant.F32, quant.F16, quant.Q8_0, quant.Q4_0} {
		b.Run(typ.String(), func(b *testing.B) {
			data := backendtest.RandomWeights(typ, rows, cols, rand.New(rand.NewPCG(1, 2)))
			w, err := be.NewWeight("w", typ, rows, cols, data)
			if err != nil {
				b.Fatal(err)
			}
			x := backendtest.Inputs(1, cols, 1)
			var xb, yb backend.Buffer
			be.Do(func(o backend.Ops) error {
				xb, _ = o.Alloc(cols)
				yb, _ = o.Alloc(rows)
				o.Upload(xb, 0, x)
				return nil
			})
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				be.Do(func(o backend.Ops) error {
					for range 100 {
						o.MatMul(yb, w, xb, 1)
					}
					return nil
				})
			}
			b.ReportMetric(float64(len(data))*100*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
		})
	}
}

// BenchmarkLaunch measures what one kernel launch costs the host (1000 small launches per
// synchronized call): with the GPU's own time per kernel, what bounds decoding, which launches 6
// kernels a layer (llama's device path).
func BenchmarkLaunch(b *testing.B) {
	be := openOrSkip(b)
	defer be.Close()
	for _, refl := range []bool{false, true} {
		name := "direct"
		if refl {
			name = "reflect"
		}
		b.Run(name, func(b *testing.B) {
			reflectLaunch = refl
			defer func() { reflectLaunch = false }()
			var x, y backend.Buffer
			be.Do(func(o backend.Ops) error {
				x, _ = o.Alloc(256)
				y, _ = o.Alloc(256)
				return nil
			})
			for b.Loop() {
				be.Do(func(o backend.Ops) error {
					for range 1000 {
						o.Add(x, y, 256)
					}
					return nil
				})
			}
			b.ReportMetric(b.Elapsed().Seconds()*1e6/float64(b.N)/1000, "µs/launch")
		})
	}
}
