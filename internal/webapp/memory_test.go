package webapp

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"testing"

	"github.com/attnscope/attnscope/engine/infer"
	"github.com/attnscope/attnscope/engine/kvcache"
	"github.com/attnscope/attnscope/engine/quant"
	"github.com/attnscope/attnscope/engine/synth"
	"github.com/attnscope/attnscope/engine/trace"
)

// After LoadHeld's release the file's bytes are gone, and the model runs as before.
func TestLoadHeldRelease(t *testing.T) {
	data := sharedModel(t, "stories260K.gguf")
	l := load(t, data)
	_, want, err := Run(context.Background(), l, "Once upon a time", RunOptions{MaxTokens: 8}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	lh, info, release, err := LoadHeld(data)
	if err != nil {
		t.Fatal(err)
	}
	release()
	if info.Bytes != int64(len(data)) || info.NLayer != 5 {
		t.Errorf("info %+v", info)
	}
	_, got, err := Run(context.Background(), lh, "Once upon a time", RunOptions{MaxTokens: 8}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Generated, want.Generated) {
		t.Errorf("after release: %v, before %v", got.Generated, want.Generated)
	}
	// A tensor read from the file after release fails with the reason.
	rev, err := os.ReadFile(filepath.Join("..", "..", "models", "reverse.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	lr, _, release, err := LoadHeld(rev)
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := LearnedPositions(lr); err != nil || pt == nil {
		t.Fatalf("positions before release: %v", err)
	}
	release()
	if _, err := LearnedPositions(lr); !errors.Is(err, ErrReleased) {
		t.Errorf("positions after release: %v", err)
	}
}

// A run known to pass what auto capture keeps exact pools from its first chunk, and the collector
// is held to the weights, the run's K and V and infer.HeapRoom while it runs.
func TestLongRunPoolsFromTheStart(t *testing.T) {
	var buf bytes.Buffer
	// Many maps make auto capture's exact bound short: 2·n(n+1)·1024 bytes ≤ 64 MiB at n = 180.
	o := synth.Options{Arch: "llama", Dim: 64, Layers: 64, Heads: 16, FFN: 64, Vocab: 512, Ctx: 512, Type: quant.F32, Seed: 1}
	if err := synth.Generate(&buf, o); err != nil {
		t.Fatal(err)
	}
	l, _, err := Load(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Repeat("a b c d e f g h ", 40)
	s := l.NewSession(infer.Options{Capture: true})
	ids, _, err := s.Tokenize(text, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) <= s.AutoExactTokens() || len(ids) > 512 {
		t.Fatalf("%d tokens; auto capture keeps %d exact", len(ids), s.AutoExactTokens())
	}
	before := debug.SetMemoryLimit(-1)
	var captures []string
	var limit int64
	sess, _, err := Run(context.Background(), l, text, RunOptions{}, func(s *infer.Session) error {
		captures = append(captures, s.Trace.Capture)
		limit = debug.SetMemoryLimit(-1)
		return nil
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(captures) < 2 || slices.ContainsFunc(captures, func(c string) bool { return c != trace.CapturePooled }) {
		t.Errorf("captures after each chunk: %v", captures)
	}
	if sess.Trace.Capture != trace.CapturePooled || len(sess.Trace.Pooled) != 64 {
		t.Errorf("capture %q, %d layers pooled", sess.Trace.Capture, len(sess.Trace.Pooled))
	}
	if want := l.HeapLimit(len(ids), kvcache.F32); os.Getenv("GOMEMLIMIT") == "" && limit != want {
		t.Errorf("memory limit during the run %d, want %d", limit, want)
	}
	if after := debug.SetMemoryLimit(-1); after != before {
		t.Errorf("memory limit after the run %d, before %d", after, before)
	}
}
