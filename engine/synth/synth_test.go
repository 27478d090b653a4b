package synth

import (
	"bytes"
	"context"
	"math"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	"github.com/attnscope/attnscope/engine/gguf"
	"github.com/attnscope/attnscope/engine/infer"
	"github.com/attnscope/attnscope/engine/presets"
	"github.com/attnscope/attnscope/engine/quant"
)

// small returns a tiny model of arch: width 64, 2 layers, vocabulary of 600 tokens.
func small(arch string, typ quant.Type, seed uint64) Options {
	o := Options{Arch: arch, Dim: 64, Layers: 2, Heads: 4, KVHeads: 2, FFN: 128, Vocab: 600, Ctx: 64, Type: typ, Seed: seed}
	if arch == "gpt2" {
		o.KVHeads = 0
	}
	return o
}

func generate(t *testing.T, o Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Generate(&buf, o); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func parse(t *testing.T, b []byte) *gguf.File {
	t.Helper()
	f, err := gguf.Read(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestDeterministic(t *testing.T) {
	for _, arch := range []string{"llama", "gpt2"} {
		for _, typ := range Types {
			o := small(arch, typ, 7)
			a, b := generate(t, o), generate(t, o)
			if !bytes.Equal(a, b) {
				t.Errorf("%s %s: the same seed gave different files", arch, typ)
			}
			o.Seed = 8
			if c := generate(t, o); bytes.Equal(a, c) || len(a) != len(c) {
				t.Errorf("%s %s: seeds 7 and 8 gave the same file (or different sizes)", arch, typ)
			}
			if s, err := Estimate(o); err != nil || s.FileBytes != int64(len(a)) {
				t.Errorf("%s %s: Estimate says %d bytes (%v), the file has %d", arch, typ, s.FileBytes, err, len(a))
			}
		}
	}
}

// TestPinned pins the first values of the random stream, so that a change to the draws (which
// would change every generated file) is noticed.
func TestPinned(t *testing.T) {
	row := make([]float32, 4)
	fillRow(row, 1, nameHash("token_embd.weight"), 0)
	want := []float32{0.004446411, 0.0018792725, 0.022723693, 0.0048916624}
	for i := range row {
		if row[i] != want[i] {
			t.Fatalf("first draws %v, want %v", row, want)
		}
	}
}

func TestNormalStatistics(t *testing.T) {
	var p rand.PCG
	p.Seed(3, 4)
	const n = 200000
	var sum, sq float64
	for range n {
		x := float64(normal(&p))
		sum += x
		sq += x * x
	}
	mean := sum / n
	sd := math.Sqrt(sq/n - mean*mean)
	if math.Abs(mean) > 3*std/math.Sqrt(n) || math.Abs(sd-std) > 0.01*std {
		t.Errorf("mean %g, standard deviation %g; want 0 and %g", mean, sd, std)
	}
}

func TestRowsIndependentOfChunking(t *testing.T) {
	// A tensor read in small pieces and one read at once must agree, and reading from 0 again
	// starts over.
	ts := tensorSpec{name: "x.weight", typ: quant.Q8_0, dims: []uint64{64, 40000}, fill: random}
	s := newSource(context.Background(), &ts, 5)
	whole := make([]byte, ts.bytes())
	if n, err := s.ReadAt(whole, 0); n != len(whole) || err != nil {
		t.Fatalf("read %d of %d: %v", n, len(whole), err)
	}
	var pieces []byte
	buf := make([]byte, 1000)
	for off := int64(0); ; {
		n, err := s.ReadAt(buf, off)
		pieces = append(pieces, buf[:n]...)
		off += int64(n)
		if err != nil {
			break
		}
	}
	if !bytes.Equal(whole, pieces) {
		t.Error("reading in pieces gave other bytes")
	}
	if _, err := s.ReadAt(buf, 12345); err == nil {
		t.Error("a jump into the middle was accepted")
	}
	// Rows are independent streams: one worker gives the same bytes as several.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	one := make([]byte, len(whole))
	if n, _ := newSource(context.Background(), &ts, 5).ReadAt(one, 0); n != len(one) || !bytes.Equal(one, whole) {
		t.Error("one worker gave other bytes")
	}
}

func TestLoadsAndGenerates(t *testing.T) {
	dir := t.TempDir()
	for _, arch := range []string{"llama", "gpt2"} {
		for _, typ := range Types {
			t.Run(arch+"-"+typ.String(), func(t *testing.T) {
				path := filepath.Join(dir, arch+"-"+typ.String()+".gguf")
				if _, err := WriteFile(context.Background(), path, small(arch, typ, 1)); err != nil {
					t.Fatal(err)
				}
				l, err := infer.Open(path, nil)
				if err != nil {
					t.Fatal(err)
				}
				defer l.Close()
				if c := l.Model.Config(); c.NVocab != 600 || c.NLayer != 2 || c.NEmbd != 64 || c.FileType != typ.String() {
					t.Errorf("config %+v", c)
				}
				s := l.NewSession(infer.Options{})
				res, err := s.Generate(context.Background(), "Once upon a time", infer.GenerateOptions{MaxTokens: 5}, nil)
				if err != nil {
					t.Fatal(err)
				}
				if len(res.Prompt) < 2 || len(res.Generated) == 0 {
					t.Errorf("prompt %v, generated %v", res.Prompt, res.Generated)
				}
				// Greedy decoding of the same file is reproducible.
				s2 := l.NewSession(infer.Options{})
				res2, err := s2.Generate(context.Background(), "Once upon a time", infer.GenerateOptions{MaxTokens: 5}, nil)
				if err != nil || !slices.Equal(res.Generated, res2.Generated) {
					t.Errorf("second run %v (%v), first %v", res2.Generated, err, res.Generated)
				}
			})
		}
	}
}

func TestPresetSizes(t *testing.T) {
	for _, name := range presets.Names() {
		p, _ := presets.Get(name)
		o := FromPreset(p)
		o.Type = quant.Q8_0
		o.MaxBytes = 1 << 50
		s, err := Estimate(o)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if s.Params != p.Params() {
			t.Errorf("%s: %d parameters, the preset says %d", name, s.Params, p.Params())
		}
		// Q8_0 stores 34 bytes per 32 values; vectors stay F32.
		if lo, hi := s.Params*34/32, s.Params*34/32+s.Params/20+1<<22; s.FileBytes < lo || s.FileBytes > hi {
			t.Errorf("%s: %d bytes for %d parameters", name, s.FileBytes, s.Params)
		}
	}
	p, _ := presets.Get("s15m")
	o := FromPreset(p)
	o.Type = quant.Q8_0
	s, err := Estimate(o)
	if err != nil || s.Params != 24_407_712 || s.Tensors != 3+9*6 {
		t.Errorf("s15m q8_0: %+v, %v", s, err)
	}
}
