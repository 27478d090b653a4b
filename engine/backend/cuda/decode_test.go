package cuda

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/attnscope/attnscope/engine/backend"
	"github.com/attnscope/attnscope/engine/infer"
	"github.com/attnscope/attnscope/engine/kvcache"
	"github.com/attnscope/attnscope/engine/quant"
	"github.com/attnscope/attnscope/engine/synth"
	"github.com/attnscope/attnscope/internal/benchrun"
)

// timedDevice is the backend with every op's host time summed by name: launches return once
// queued, so time spent waiting for the GPU shows in the calls that wait (Download).
type timedDevice struct {
	*Backend
	calls map[string]int
	spent map[string]time.Duration
	do    time.Duration
}

func (d *timedDevice) Do(f func(backend.Ops) error) error {
	start := time.Now()
	err := d.Backend.Do(func(o backend.Ops) error { return f(&timedOps{o, d}) })
	d.do += time.Since(start)
	return err
}

type timedOps struct {
	o backend.Ops
	d *timedDevice
}

func (t *timedOps) time(name string, start time.Time) {
	t.d.calls[name]++
	t.d.spent[name] += time.Since(start)
}

func (t *timedOps) Alloc(n int) (backend.Buffer, error) { return t.o.Alloc(n) }
func (t *timedOps) Free(b backend.Buffer)               { t.o.Free(b) }
func (t *timedOps) Upload(dst backend.Buffer, off int, src []float32) {
	defer t.time("Upload", time.Now())
	t.o.Upload(dst, off, src)
}
func (t *timedOps) Download(dst []float32, src backend.Buffer, off int) {
	defer t.time("Download", time.Now())
	t.o.Download(dst, src, off)
}
func (t *timedOps) Copy(dst backend.Buffer, dstOff int, src backend.Buffer, srcOff, n int) {
	defer t.time("Copy", time.Now())
	t.o.Copy(dst, dstOff, src, srcOff, n)
}
func (t *timedOps) Rows(dst backend.Buffer, w backend.Weight, ids []int32) {
	defer t.time("Rows", time.Now())
	t.o.Rows(dst, w, ids)
}
func (t *timedOps) MatMul(dst backend.Buffer, w backend.Weight, x backend.Buffer, n int) {
	defer t.time("MatMul", time.Now())
	t.o.MatMul(dst, w, x, n)
}
func (t *timedOps) MatMulAdd(dst backend.Buffer, w backend.Weight, x backend.Buffer, n int) {
	defer t.time("MatMulAdd", time.Now())
	t.o.MatMulAdd(dst, w, x, n)
}
func (t *timedOps) MatMul3(d0, d1, d2 backend.Buffer, w0, w1, w2 backend.Weight, x backend.Buffer, n int, norm backend.Norm) {
	defer t.time("MatMul3", time.Now())
	t.o.MatMul3(d0, d1, d2, w0, w1, w2, x, n, norm)
}
func (t *timedOps) MatMulSwiGLU(dst backend.Buffer, gate, up backend.Weight, x backend.Buffer, n int, norm backend.Norm) {
	defer t.time("MatMulSwiGLU", time.Now())
	t.o.MatMulSwiGLU(dst, gate, up, x, n, norm)
}
func (t *timedOps) RMSNorm(dst, x, w backend.Buffer, rows, dim int, eps float32) {
	defer t.time("RMSNorm", time.Now())
	t.o.RMSNorm(dst, x, w, rows, dim, eps)
}
func (t *timedOps) LayerNorm(dst, x, w, b backend.Buffer, rows, dim int, eps float32) {
	defer t.time("LayerNorm", time.Now())
	t.o.LayerNorm(dst, x, w, b, rows, dim, eps)
}
func (t *timedOps) RoPE(x, table backend.Buffer, rows, heads, headDim, ropeDims, pos0 int, neox bool) {
	defer t.time("RoPE", time.Now())
	t.o.RoPE(x, table, rows, heads, headDim, ropeDims, pos0, neox)
}
func (t *timedOps) RoPEStore(q, k, v, table backend.Buffer, rows, heads, kvHeads, headDim, ropeDims, pos0 int, neox bool, kv backend.KVStore) {
	defer t.time("RoPEStore", time.Now())
	t.o.RoPEStore(q, k, v, table, rows, heads, kvHeads, headDim, ropeDims, pos0, neox, kv)
}
func (t *timedOps) SwiGLU(gate, up backend.Buffer, n int) {
	defer t.time("SwiGLU", time.Now())
	t.o.SwiGLU(gate, up, n)
}
func (t *timedOps) GELU(x backend.Buffer, n int) { defer t.time("GELU", time.Now()); t.o.GELU(x, n) }
func (t *timedOps) Add(x, y backend.Buffer, n int) {
	defer t.time("Add", time.Now())
	t.o.Add(x, y, n)
}
func (t *timedOps) AddRows(x, b backend.Buffer, n, dim int) {
	defer t.time("AddRows", time.Now())
	t.o.AddRows(x, b, n, dim)
}
func (t *timedOps) Softmax(x backend.Buffer, rows, cols int) {
	defer t.time("Softmax", time.Now())
	t.o.Softmax(x, rows, cols)
}
func (t *timedOps) Attention(out, q, k, v backend.Buffer, s backend.AttnShape) {
	defer t.time("Attention", time.Now())
	t.o.Attention(out, q, k, v, s)
}
func (t *timedOps) AttentionProbs(probs, q, k backend.Buffer, s backend.AttnShape) {
	defer t.time("AttentionProbs", time.Now())
	t.o.AttentionProbs(probs, q, k, s)
}

// BenchmarkDecode runs synthetic llama models token by token on the GPU and says where a
// token's time goes: the whole step, the time inside Device.Do, and each op's host time.
func BenchmarkDecode(b *testing.B) {
	be := openOrSkip(b)
	defer be.Close()
	dir := b.TempDir()
	for _, c := range []struct {
		name string
		o    synth.Options
	}{
		{"s110m-q8_0", synth.Options{Arch: "llama", Dim: 768, Layers: 12, Heads: 12, KVHeads: 12, FFN: 2048, Vocab: 32000, Ctx: 1024, Type: quant.Q8_0, Seed: 1}},
	} {
		path := filepath.Join(dir, c.name+".gguf")
		if _, err := synth.WriteFile(context.Background(), path, c.o); err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			td := &timedDevice{Backend: be, calls: map[string]int{}, spent: map[string]time.Duration{}}
			m, err := infer.Open(path, td)
			if err != nil {
				b.Fatal(err)
			}
			defer m.Close()
			prompt := make([]int32, 128)
			for i := range prompt {
				prompt[i] = int32(1 + i*37%(c.o.Vocab-1))
			}
			const gen = 128
			var tg float64
			for b.Loop() {
				// A run with prefill; only generation is timed by benchrun.
				_, g, err := benchrun.Run(m.Model, 1024, kvcache.F32, prompt, gen)
				if err != nil {
					b.Fatal(err)
				}
				tg = g
				for k := range td.calls {
					delete(td.calls, k)
					delete(td.spent, k)
				}
				td.do = 0
				start := time.Now()
				if _, _, err := benchrun.Run(m.Model, 1024, kvcache.F32, prompt[:1], gen); err != nil {
					b.Fatal(err)
				}
				total := time.Since(start)
				steps := float64(gen + 1)
				var names []string
				for k := range td.calls {
					names = append(names, k)
				}
				sort.Slice(names, func(i, j int) bool { return td.spent[names[i]] > td.spent[names[j]] })
				var sb strings.Builder
				fmt.Fprintf(&sb, "%s: %.0f tok/s; per token %.1f µs, %.1f µs inside Do;", c.name, tg,
					float64(total.Microseconds())/steps, float64(td.do.Microseconds())/steps)
				for _, k := range names {
					fmt.Fprintf(&sb, " %s %.1f×%.2fµs", k, float64(td.calls[k])/steps,
						float64(td.spent[k].Nanoseconds())/1e3/float64(td.calls[k]))
				}
				b.Log(sb.String())
			}
			b.ReportMetric(tg, "tok/s")
		})
	}
}
