package tokenizer

import (
	"encoding/hex"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/attnscope/attnscope/engine/gguf"
	"github.com/attnscope/attnscope/internal/shareddata"
)

var (
	tokCacheMu sync.Mutex
	tokCache   = map[string]Tokenizer{}
)

// load returns the tokenizer of a shared model file, built once per test binary.
func load(tb testing.TB, name string) Tokenizer {
	tb.Helper()
	path := shareddata.Model(tb, name)
	tokCacheMu.Lock()
	defer tokCacheMu.Unlock()
	if tk, ok := tokCache[name]; ok {
		return tk
	}
	f, err := gguf.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	tk, err := FromGGUF(f)
	if err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	tokCache[name] = tk
	return tk
}

// checkTokens compares one tokenization with llama.cpp's: ids, vocabulary text and piece bytes.
func checkTokens(t *testing.T, tk Tokenizer, what, prompt string, addSpecial bool, want shareddata.Tokens) {
	t.Helper()
	got, err := tk.Encode(prompt, addSpecial)
	if err != nil {
		t.Errorf("%s: Encode(%q, %v): %v", what, prompt, addSpecial, err)
		return
	}
	if !slices.Equal(got, want.IDs) {
		t.Errorf("%s: Encode(%q, %v)\n got %v\nwant %v", what, prompt, addSpecial, got, want.IDs)
		return
	}
	for i, id := range got {
		if i < len(want.VocabText) && tk.Vocab().Tokens[id] != want.VocabText[i] {
			t.Errorf("%s: token %d text %q, want %q", what, id, tk.Vocab().Tokens[id], want.VocabText[i])
		}
		if i < len(want.PiecesHex) && hex.EncodeToString(tk.Piece(id)) != want.PiecesHex[i] {
			t.Errorf("%s: Piece(%d) = %x, want %s", what, id, tk.Piece(id), want.PiecesHex[i])
		}
	}
}

func TestReferenceModels(t *testing.T) {
	for _, name := range []string{"stories260K", "llama-2-tiny-random", "tiny-gpt2-synthetic",
		"tiny-bert-synthetic", "tiny-llama-kq", "stories260K-long"} {
		t.Run(name, func(t *testing.T) {
			ref := shareddata.LoadReference(t, name+".json")
			n := 0
			seen := map[string]bool{}
			for _, v := range ref.Variants {
				if seen[v.File] {
					continue
				}
				seen[v.File] = true
				tk := load(t, v.File)
				for _, r := range v.Results {
					if name == "tiny-bert-synthetic" && strings.Contains(r.Prompt, "안녕") {
						checkBERTHangul(t, tk, r)
						continue
					}
					checkTokens(t, tk, v.File, r.Prompt, true, r.Default)
					checkTokens(t, tk, v.File, r.Prompt, false, r.NoSpecial)
					n += 2
				}
			}
			t.Logf("%d tokenizations match llama.cpp", n)
		})
	}
}

type tokenizersRef struct {
	Vocabularies []struct {
		File    string `json:"file"`
		Results []struct {
			Prompt    string            `json:"prompt"`
			Default   shareddata.Tokens `json:"tokens_default"`
			NoSpecial shareddata.Tokens `json:"tokens_no_special"`
		} `json:"results"`
	} `json:"vocabularies"`
}

func TestTokenizersJSON(t *testing.T) {
	var ref tokenizersRef
	shareddata.LoadJSON(t, "reference/tokenizers.json", &ref)
	for _, v := range ref.Vocabularies {
		tk := load(t, v.File)
		for _, r := range v.Results {
			if strings.HasPrefix(v.File, "ggml-vocab-bert") && strings.Contains(r.Prompt, "안녕") {
				checkBERTHangul(t, tk, shareddata.Result{Prompt: r.Prompt, Default: r.Default, NoSpecial: r.NoSpecial})
				continue
			}
			checkTokens(t, tk, v.File, r.Prompt, true, r.Default)
			checkTokens(t, tk, v.File, r.Prompt, false, r.NoSpecial)
		}
	}
}

// hfVectors reads the 46 Hugging Face cases of a llama.cpp vocab test (.inp / .out).
func hfVectors(tb testing.TB, name string) (inputs []string, want [][]int32) {
	tb.Helper()
	inp, err := os.ReadFile(shareddata.Model(tb, name+".inp"))
	if err != nil {
		tb.Fatal(err)
	}
	out, err := os.ReadFile(shareddata.Model(tb, name+".out"))
	if err != nil {
		tb.Fatal(err)
	}
	inputs = strings.Split(string(inp), "\n__ggml_vocab_test__\n")
	if inputs[len(inputs)-1] == "" {
		inputs = inputs[:len(inputs)-1] // the file ends with a separator
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != len(inputs) {
		tb.Fatalf("%s: %d inputs but %d output lines", name, len(inputs), len(lines))
	}
	for _, l := range lines {
		ids := []int32{}
		for _, f := range strings.Fields(l) {
			id, err := strconv.ParseInt(f, 10, 32)
			if err != nil {
				tb.Fatalf("%s.out: %v", name, err)
			}
			ids = append(ids, int32(id))
		}
		want = append(want, ids)
	}
	return inputs, want
}

func TestHFVectors(t *testing.T) {
	for _, name := range []string{"ggml-vocab-gpt-2.gguf", "ggml-vocab-bert-bge.gguf"} {
		t.Run(name, func(t *testing.T) {
			tk := load(t, name)
			inputs, want := hfVectors(t, name)
			pass := 0
			for i, s := range inputs {
				got, err := tk.Encode(s, false)
				if err != nil {
					t.Errorf("case %d %q: %v", i, s, err)
					continue
				}
				if !slices.Equal(got, want[i]) {
					t.Errorf("case %d %q\n got %v\nwant %v", i, s, got, want[i])
					continue
				}
				pass++
			}
			if len(inputs) != 46 {
				t.Errorf("%d cases, want 46", len(inputs))
			}
			t.Logf("%d/%d Hugging Face vectors match", pass, len(inputs))
		})
	}
}
