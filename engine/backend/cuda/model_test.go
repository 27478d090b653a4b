package cuda

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
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

// BenchmarkAttention times the tiled attention kernel on a causal prefill of n tokens (batch 1),
// for two head shapes, reporting TFLOP/s counted as 4·n²/2·headDim·heads.
func BenchmarkAttention(b *testing.B) {
	be := openOrSkip(b)
	defer be.Close()
	for _, sh := range []struct{ heads, hd int }{{12, 64}, {32, 128}} {
		for _, n := range []int{1024, 4096, 10000, 16384} {
			b.Run(fmt.Sprintf("h%d_d%d_n%d", sh.heads, sh.hd, n), func(b *testing.B) {
				s := backend.AttnShape{N: n, Total: n, NHead: sh.heads, NKVHead: sh.heads, HeadDim: sh.hd,
					KVStride: sh.heads * sh.hd, Scale: float32(1 / math.Sqrt(float64(sh.hd))), Causal: true}
				q := backendtest.Inputs(n*sh.heads, sh.hd, 1)
				var qb, kb, vb, ob backend.Buffer
				err := be.Do(func(o backend.Ops) error {
					var err error
					for _, p := range []*backend.Buffer{&qb, &kb, &vb, &ob} {
						if *p, err = o.Alloc(len(q)); err != nil {
							return err
						}
						o.Upload(*p, 0, q)
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
				defer be.Do(func(o backend.Ops) error {
					for _, p := range []backend.Buffer{qb, kb, vb, ob} {
						o.Free(p)
					}
					return nil
				})
				for b.Loop() {
					if err := be.Do(func(o backend.Ops) error { o.Attention(ob, qb, kb, vb, s); return nil }); err != nil {
						b.Fatal(err)
					}
				}
				flops := 4 * float64(n) * float64(n) / 2 * float64(sh.hd) * float64(sh.heads)
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e12, "TFLOP/s")
				b.ReportMetric(b.Elapsed().Seconds()*1e3/float64(b.N), "ms/op")
			})
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
// synchronized call): what bounds decoding, which launches about 17 kernels per layer.
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
