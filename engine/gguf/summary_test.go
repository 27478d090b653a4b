package gguf

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/attnscope/attnscope/engine/quant"
)

func TestSummary(t *testing.T) {
	f, err := Open(filepath.Join(filepath.Dir(sharedModels(t)[0]), "stories260K-q8_0.gguf"))
	must(t, err)
	defer f.Close()
	s := f.Summary()
	if s.Architecture != "llama" || s.FileType != 7 || s.FileTypeName != "MOSTLY_Q8_0" || s.Tensors != 48 {
		t.Fatalf("%+v", s)
	}
	// 292,800 stored parameters; 32 tensors quantized, 16 (norms and ffn_down) left in F32.
	if s.Elements != 292800 || len(s.Types) != 2 || s.Types[0].Type != quant.F32 || s.Types[0].Tensors != 16 || s.Types[1].Tensors != 32 {
		t.Fatalf("%d parameters, types %+v", s.Elements, s.Types)
	}
	if s.TensorBytes != s.Types[0].Bytes+s.Types[1].Bytes || len(s.Keys) != len(f.KVs) {
		t.Fatalf("%+v", s)
	}
	text := s.String()
	for _, want := range []string{"GGUF v3", `architecture "llama"`, "file type 7 (MOSTLY_Q8_0)", "48 tensors, 292800 parameters", "Q8_0"} {
		if !strings.Contains(text, want) {
			t.Errorf("summary lacks %q:\n%s", want, text)
		}
	}
	noFT := readBytes(t, written(t, NewBuilder())).Summary()
	if noFT.FileType != -1 || noFT.FileTypeName != "" || strings.Contains(noFT.String(), "file type") {
		t.Errorf("%+v", noFT)
	}
}

func TestFileTypeName(t *testing.T) {
	for ft, want := range map[uint64]string{0: "ALL_F32", 15: "MOSTLY_Q4_K_M", 32: "MOSTLY_BF16", 1024: "GUESSED", 99: "file_type(99)"} {
		if got := FileTypeName(ft); got != want {
			t.Errorf("FileTypeName(%d) = %q, want %q", ft, got, want)
		}
	}
}
