package webapp

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"testing"

	"github.com/attnscope/attnscope/engine/infer"
	"github.com/attnscope/attnscope/internal/shareddata"
	"github.com/attnscope/attnscope/viz/paint"
)

func TestCheckHeader(t *testing.T) {
	if err := CheckHeader([]byte("PK\x03\x04"), 100); !errors.Is(err, ErrNotGGUF) {
		t.Errorf("zip: %v", err)
	}
	if err := CheckHeader([]byte("GGUF"), MaxModelBytes+1); !errors.Is(err, ErrTooLarge) {
		t.Errorf("too large: %v", err)
	}
	if err := CheckHeader([]byte("GGUF"), 1000); err != nil {
		t.Errorf("good header: %v", err)
	}
	if _, _, err := Load([]byte("hello, not a model")); !errors.Is(err, ErrNotGGUF) {
		t.Errorf("Load(text): %v", err)
	}
	if _, _, err := Load([]byte("GGUF\x03\x00\x00\x00")); err == nil {
		t.Errorf("Load(truncated) succeeded")
	}
}

func TestRunAndViews(t *testing.T) {
	path := shareddata.Path(t, "models/stories260K.gguf")
	ref := shareddata.LoadReference(t, "stories260K.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	l, info, err := Load(data)
	if err != nil {
		t.Fatal(err)
	}
	if info.Arch != "llama" || info.NLayer != 5 || info.Bytes != int64(len(data)) || info.Quant == "" {
		t.Errorf("info %+v", info)
	}
	yields := 0
	s, res, err := Run(context.Background(), l, "Once upon a time", RunOptions{MaxTokens: 8}, func(*infer.Session) error { yields++; return nil }, nil)
	if err != nil {
		t.Fatal(err)
	}
	v := ref.Variant("stories260K.gguf", false)
	var want []int32
	for _, r := range v.Results {
		if r.Prompt == "Once upon a time" && r.Greedy != nil {
			want = r.Greedy.IDs[:8]
		}
	}
	if want == nil {
		t.Fatal("no greedy reference for the prompt")
	}
	if !slices.Equal(res.Generated, want) {
		t.Errorf("generated %v, want %v", res.Generated, want)
	}
	if n := len(s.Trace.Tokens); n != len(res.PromptTokens)+8 || len(s.Trace.Attn[0][0]) != n {
		t.Errorf("trace covers %d tokens, %d rows", n, len(s.Trace.Attn[0][0]))
	}
	if yields != 1+8-1 && yields != 1+8 {
		t.Errorf("%d yields", yields)
	}
	b, err := TraceBytes(s.Trace)
	if err != nil {
		t.Fatal(err)
	}
	var tj struct {
		Tokens []struct{ ID int32 }
		Layers []struct{ Heads [][][]float64 }
	}
	if err := json.Unmarshal(b, &tj); err != nil {
		t.Fatal(err)
	}
	if len(tj.Layers) != 5 || float32(tj.Layers[1].Heads[2][3][1]) != s.Trace.Attn[1][2][3][1] {
		t.Errorf("trace JSON does not round-trip")
	}
	if len(res.Top) != 8 || len(res.Top[0]) != TopCandidates || res.Top[0][0].ID != want[0] || !(res.Top[0][0].P >= res.Top[0][1].P) {
		t.Errorf("next-token candidates %+v", res.Top)
	}
	vw := NewViewer(nil)
	vw.Top = res.Top
	for _, view := range Views {
		vw.State = ViewState{View: view, Layer: 1, Head: 2, Token: -1}
		img, err := vw.Render(s.Trace)
		if err != nil || img.Bounds().Dx() < 100 || img.Bounds().Dy() < 20 {
			t.Errorf("%s: %v", view, err)
		}
		if dir := os.Getenv("ATTNSCOPE_E2E_SHOTS"); dir != "" && err == nil {
			f, _ := os.Create(dir + "/native-" + view + ".png")
			paint.WritePNG(f, img)
			f.Close()
		}
	}
	vw.State = ViewState{View: "bogus"}
	if _, err := vw.Render(s.Trace); err == nil {
		t.Errorf("bogus view rendered")
	}
	vw.State = ViewState{View: "head", Layer: 9}
	if _, err := vw.Render(s.Trace); err == nil {
		t.Errorf("layer 9 rendered")
	}
	_, stopped, err := Run(context.Background(), l, "Once upon a time", RunOptions{MaxTokens: 8}, func(*infer.Session) error { return ErrStopped }, nil)
	if err != nil || !stopped.Stopped {
		t.Errorf("stop: %v %+v", err, stopped)
	}
}
