package train

import (
	"bytes"
	"context"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/attnscope/attnscope/engine/gguf"
	"github.com/attnscope/attnscope/engine/infer"
	"github.com/attnscope/attnscope/engine/quant"
	"github.com/attnscope/attnscope/engine/tokenizer"
)

// TestSameLogitsAsInfer writes a randomly initialized model and checks that engine/infer gives
// the logits the trainer's forward pass gives, for both architectures.
func TestSameLogitsAsInfer(t *testing.T) {
	for _, arch := range []string{"gpt2", "llama"} {
		t.Run(arch, func(t *testing.T) {
			cfg := Config{Arch: arch, Vocab: VocabSize, Dim: 32, Layers: 2, Heads: 4, FFN: 64, Ctx: 24}
			p, err := NewParams[float32](cfg)
			if err != nil {
				t.Fatal(err)
			}
			p.Init(7)
			r := rand.New(rand.NewPCG(5, 6))
			for i := range p.Flat { // larger weights than at initialization: a stricter test
				p.Flat[i] *= 1 + float32(0.3*r.NormFloat64())
				p.Flat[i] += float32(0.05 * r.NormFloat64())
			}
			var buf bytes.Buffer
			if _, err := p.WriteTo(&buf, quant.F32, "test", nil); err != nil {
				t.Fatal(err)
			}
			l, err := infer.Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			text := "hello=olleh[({"
			s := l.NewSession(infer.Options{})
			ids, b, err := s.Prefill(text, true)
			if err != nil {
				t.Fatal(err)
			}
			want := append([]int32{EOT}, Encode(text)...)
			if len(ids) != len(want) {
				t.Fatalf("infer tokenized %q as %v, the trainer as %v", text, ids, want)
			}
			for i := range ids {
				if ids[i] != want[i] {
					t.Fatalf("infer tokenized %q as %v, the trainer as %v", text, ids, want)
				}
			}
			got, err := p.Forward(want)
			if err != nil {
				t.Fatal(err)
			}
			worst := 0.0
			for i, v := range b.Logits {
				worst = max(worst, math.Abs(float64(v-got[i])))
			}
			t.Logf("%s: max |logit difference| %.2e over %d logits", arch, worst, len(got))
			if worst > 1e-4 {
				t.Errorf("trainer and infer logits differ by %.3g", worst)
			}
		})
	}
}

// TestSaveAtomic checks the written file loads with its tokenizer, that Q8_0 files load, and
// that a cancelled save leaves the old file and no temporary file.
func TestSaveAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.gguf")
	p, _ := NewParams[float32](Config{Arch: "llama", Vocab: VocabSize, Dim: 32, Layers: 1, Heads: 2, FFN: 32, Ctx: 16})
	p.Init(1)
	if err := p.Save(context.Background(), path, quant.Q8_0, "q8", map[string]string{"general.description": "test"}); err != nil {
		t.Fatal(err)
	}
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.FromGGUF(f)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := tok.Encode("ab=", true)
	if err != nil || len(ids) != 4 || ids[0] != EOT {
		t.Fatalf("Encode = %v, %v", ids, err)
	}
	f.Close()
	l, err := infer.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	before, _ := os.ReadFile(path)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.Save(ctx, path, quant.F32, "f32", nil); err == nil {
		t.Fatal("a cancelled save succeeded")
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Error("a cancelled save changed the file")
	}
	if es, _ := os.ReadDir(dir); len(es) != 1 {
		t.Errorf("the directory holds %d entries after a cancelled save", len(es))
	}
	if _, err := NewParams[float32](Config{Arch: "gpt2", Vocab: VocabSize, Dim: 30, Layers: 1, Heads: 4, FFN: 8, Ctx: 8}); err == nil {
		t.Error("4 heads for dim 30 accepted")
	}
}

// TestLoadRoundTrip writes both architectures and reads them back into fresh parameters.
func TestLoadRoundTrip(t *testing.T) {
	for _, arch := range []string{"gpt2", "llama"} {
		cfg := Config{Arch: arch, Vocab: VocabSize, Dim: 16, Layers: 2, Heads: 2, FFN: 24, Ctx: 12}
		p, _ := NewParams[float32](cfg)
		p.Init(5)
		path := filepath.Join(t.TempDir(), arch+".gguf")
		if err := p.Save(context.Background(), path, quant.F32, arch, nil); err != nil {
			t.Fatal(err)
		}
		q, _ := NewParams[float32](cfg)
		if err := q.Load(path); err != nil {
			t.Fatal(err)
		}
		for i := range p.Flat {
			if p.Flat[i] != q.Flat[i] {
				t.Fatalf("%s: value %d read back as %v, written %v", arch, i, q.Flat[i], p.Flat[i])
			}
		}
		cfg.Ctx = 11
		r, _ := NewParams[float32](cfg)
		if err := r.Load(path); arch == "gpt2" && err == nil {
			t.Error("a file with 12 positions loaded into a model of 11")
		}
		cfg.Ctx = 14 // a longer context keeps the new positions' values
		r, _ = NewParams[float32](cfg)
		r.Init(6)
		if err := r.Load(path); arch == "llama" {
			if err != nil {
				t.Fatal(err)
			}
			continue
		}
		r, _ = NewParams[float32](cfg)
		r.Init(6)
		last := r.pos[len(r.pos)-1]
		if err := r.Load(path); err != nil {
			t.Fatal(err)
		}
		if r.pos[0] != p.pos[0] || r.pos[len(r.pos)-1] != last {
			t.Error("loading 12 positions into 14 did not keep the first from the file and the last as they were")
		}
	}
}
