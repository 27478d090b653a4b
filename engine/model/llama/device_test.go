package llama

import (
	"math"
	"os"
	"testing"

	"github.com/attnscope/attnscope/engine/backend"
	"github.com/attnscope/attnscope/engine/backend/backendtest"
	"github.com/attnscope/attnscope/engine/backend/cpu"
	"github.com/attnscope/attnscope/engine/backend/cuda"
	"github.com/attnscope/attnscope/engine/gguf"
	"github.com/attnscope/attnscope/engine/kvcache"
	"github.com/attnscope/attnscope/engine/model"
	"github.com/attnscope/attnscope/internal/shareddata"
)

type rowKey struct{ l, h, pos int }

// capture evaluates tokens with every capture hook set and returns the rows Attn received and
// the rows assembled from AttnPool's pieces.
func capture(t *testing.T, m model.Model, tokens []int32, rows []int, window int) (map[rowKey][]float32, map[rowKey][]float32, error) {
	t.Helper()
	exact, pooled := map[rowKey][]float32{}, map[rowKey][]float32{}
	b := &model.Batch{Tokens: tokens, Cache: model.NewCache(m.Config(), 0), AttnRows: rows, Window: window,
		Attn: func(l, h, pos int, p []float32) { exact[rowKey{l, h, pos}] = append([]float32(nil), p...) },
		AttnPool: func(l, h, pos, j0 int, p []float32) {
			k := rowKey{l, h, pos}
			if len(pooled[k]) != j0 {
				t.Fatalf("AttnPool piece of layer %d head %d pos %d at %d after %d values", l, h, pos, j0, len(pooled[k]))
			}
			pooled[k] = append(pooled[k], p...)
		}}
	return exact, pooled, m.Eval(b)
}

// The device path's capture (probabilities computed chunk by chunk) hands Attn the selected rows
// and AttnPool whole rows, as the CPU path does.
func TestDeviceCapture(t *testing.T) {
	t.Run("host", func(t *testing.T) { testDeviceCapture(t, backendtest.HostDevice(cpu.New(1)), 1e-5) })
	t.Run("cuda", func(t *testing.T) {
		g, err := cuda.Open(0)
		if err != nil {
			if os.Getenv("ATTNSCOPE_REQUIRE_CUDA") == "1" {
				t.Fatalf("ATTNSCOPE_REQUIRE_CUDA=1 but: %v", err)
			}
			t.Skipf("no CUDA device: %v", err)
		}
		defer g.Close()
		// The GPU's exponentials and sums round differently: measured 1.07e-5 on an H200.
		testDeviceCapture(t, g, 5e-5)
	})
}

func testDeviceCapture(t *testing.T, d backend.Device, tol float64) {
	f, err := gguf.Open(shareddata.Model(t, "stories260K.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	load := func(be backend.Backend) model.Model {
		m, err := model.Load(f, be)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	ref, dev := load(cpu.New(1)), load(d)
	defer func(v int) { captureFloats = v }(captureFloats)
	captureFloats = 8 * 3 * 40 // chunks of about 3 query rows
	tokens := make([]int32, 37)
	for i := range tokens {
		tokens[i] = int32(1 + i*7%500)
	}
	rows := []int{0, 5, 17, 36}
	wantExact, wantPooled, err := capture(t, ref, tokens, rows, 0)
	if err != nil {
		t.Fatal(err)
	}
	gotExact, gotPooled, err := capture(t, dev, tokens, rows, 0)
	if err != nil {
		t.Fatal(err)
	}
	cfg := ref.Config()
	if len(wantExact) != len(rows)*cfg.NLayer*cfg.NHead || len(gotExact) != len(wantExact) {
		t.Fatalf("exact rows: device %d, CPU %d, want %d", len(gotExact), len(wantExact), len(rows)*cfg.NLayer*cfg.NHead)
	}
	if len(gotPooled) != len(tokens)*cfg.NLayer*cfg.NHead || len(wantPooled) != len(gotPooled) {
		t.Fatalf("pooled rows: device %d, CPU %d, want %d", len(gotPooled), len(wantPooled), len(tokens)*cfg.NLayer*cfg.NHead)
	}
	for _, pair := range []struct {
		what      string
		got, want map[rowKey][]float32
	}{{"Attn", gotExact, wantExact}, {"AttnPool", gotPooled, wantPooled}} {
		worst := 0.0
		for k, w := range pair.want {
			g := pair.got[k]
			if len(g) != len(w) || len(w) != k.pos+1 {
				t.Fatalf("%s row %v: %d values, CPU %d", pair.what, k, len(g), len(w))
			}
			for j := range w {
				worst = max(worst, math.Abs(float64(g[j]-w[j])))
			}
		}
		if worst > tol {
			t.Errorf("%s rows differ from the CPU's by %.3g (tolerance %g)", pair.what, worst, tol)
		}
		t.Logf("%s rows: largest difference from the CPU's %.3g", pair.what, worst)
	}
	if _, _, err := capture(t, dev, tokens, nil, 8); err == nil {
		t.Errorf("a sliding window on the device path was accepted")
	}
}

// A cache filled on the CPU and then decoded on a device reaches it through the upload of the
// positions the device has not seen (the host keeps K and V head by head, the device position
// by position): the next token's logits match the CPU's.
func TestDeviceTakesHostCache(t *testing.T) {
	f, err := gguf.Open(shareddata.Model(t, "stories260K.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ref, err := model.Load(f, cpu.New(1))
	if err != nil {
		t.Fatal(err)
	}
	dev, err := model.Load(f, backendtest.HostDevice(cpu.New(1)))
	if err != nil {
		t.Fatal(err)
	}
	cfg := ref.Config()
	prompt := make([]int32, 29)
	for i := range prompt {
		prompt[i] = int32(1 + i*11%400)
	}
	next := func(m model.Model, c *kvcache.Cache, tok int32) []float32 {
		b := &model.Batch{Tokens: []int32{tok}, Cache: c}
		if err := m.Eval(b); err != nil {
			t.Fatal(err)
		}
		return b.Logits
	}
	cpuCache, devCache := model.NewCache(cfg, 0), model.NewCache(cfg, 0)
	for _, c := range []*kvcache.Cache{cpuCache, devCache} {
		if err := ref.Eval(&model.Batch{Tokens: prompt, Cache: c}); err != nil {
			t.Fatal(err)
		}
	}
	for i, tok := range []int32{7, 300, 45} {
		want, got := next(ref, cpuCache, tok), next(dev, devCache, tok)
		worst := 0.0
		for j := range want {
			worst = max(worst, math.Abs(float64(got[j]-want[j])))
		}
		if len(got) != cfg.NVocab || worst > 1e-4 {
			t.Errorf("token %d after a CPU-filled cache: %d logits, largest difference from the CPU's %.3g", i, len(got), worst)
		}
	}
}
