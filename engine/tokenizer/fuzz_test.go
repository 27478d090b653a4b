package tokenizer

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/attnscope/attnscope/internal/shareddata"
)

// FuzzEncode runs every input through one tokenizer of each type and checks:
//
//   - all: Encode never fails or panics, and every id is inside the vocabulary;
//   - all: Encode(s, true) is Encode(s, false) framed by the special tokens: BOS for llama (these
//     vocabs set add_bos), nothing for gpt2, CLS … SEP for bert;
//   - llama (SPM): for non-empty valid UTF-8 s without U+2581 (▁, which decodes to a space),
//     Decode(Encode(s)) == " " + s: the dummy-prefix space is the only change (empty text gives
//     no tokens at all). (With invalid
//     UTF-8 the bytes survive too, but a lead byte can swallow a following space before it is
//     read as one, so then only the first property is checked.)
//   - gpt2 (BPE): Decode(Encode(s)) == s for valid UTF-8 s; otherwise it equals s with every
//     undecodable byte replaced by U+FFFD (decoding leniently, as llama.cpp does).
//   - bert (WordPiece): for ASCII s whose encoding has no [UNK], Decode(Encode(s)) with spaces
//     removed equals s lowercased without whitespace and control characters.
func FuzzEncode(f *testing.F) {
	spm := []Tokenizer{load(f, "stories260K.gguf"), load(f, "llama-2-tiny-random.gguf")}
	bpe := []Tokenizer{load(f, "ggml-vocab-gpt-2.gguf"), load(f, "tiny-gpt2-synthetic.gguf")}
	wpm := load(f, "ggml-vocab-bert-bge.gguf")

	for _, name := range []string{"ggml-vocab-gpt-2.gguf", "ggml-vocab-bert-bge.gguf"} {
		inputs, _ := hfVectors(f, name)
		for _, s := range inputs {
			f.Add(s)
		}
	}
	for _, name := range []string{"stories260K.json", "stories260K-long.json"} {
		for _, p := range shareddata.LoadReference(f, name).Prompts {
			f.Add(p)
		}
	}
	for _, s := range []string{"\xff", "a\xc3", "\xed\xa0\x80", "\xc0\x80", "<s></s><unk>", "▁▁ x", "[CLS]\x00\x7f"} {
		f.Add(s)
	}

	f.Fuzz(func(t *testing.T, s string) {
		valid := utf8.ValidString(s)
		for _, tk := range spm {
			ids := encodeChecked(t, tk, s, []int32{tk.Vocab().BOS}, nil)
			if valid && s != "" && !strings.Contains(s, "\u2581") {
				if got := string(tk.Decode(ids)); got != " "+s {
					t.Errorf("spm: Decode(Encode(%q)) = %q", s, got)
				}
			}
		}
		for _, tk := range bpe {
			ids := encodeChecked(t, tk, s, nil, nil)
			want := s
			if !valid {
				var b []byte
				for _, r := range decodeLax(nil, s) {
					b = appendCpt(b, r)
				}
				want = string(b)
			}
			if got := string(tk.Decode(ids)); got != want {
				t.Errorf("bpe: Decode(Encode(%q)) = %q, want %q", s, got, want)
			}
		}
		v := wpm.Vocab()
		ids := encodeChecked(t, wpm, s, []int32{v.CLS}, []int32{v.SEP})
		if isASCII(s) && !slices.Contains(ids, v.UNK) {
			got := strings.ReplaceAll(string(wpm.Decode(ids)), " ", "")
			var want []byte
			for i := 0; i < len(s); i++ {
				if c := s[i]; c > ' ' && c != 0x7F {
					want = append(want, byte(strings.ToLower(string(c))[0]))
				}
			}
			if got != string(want) {
				t.Errorf("wpm: Decode(Encode(%q)) = %q, want %q", s, got, want)
			}
		}
	})
}

// encodeChecked encodes s with and without special tokens, checks the framing and the id range,
// and returns the ids without special tokens.
func encodeChecked(t *testing.T, tk Tokenizer, s string, pre, post []int32) []int32 {
	t.Helper()
	ids, err := tk.Encode(s, false)
	if err != nil {
		t.Fatalf("%s: Encode(%q): %v", tk.Vocab().Model, s, err)
	}
	n := int32(len(tk.Vocab().Tokens))
	for _, id := range ids {
		if id < 0 || id >= n {
			t.Fatalf("%s: Encode(%q): id %d out of range", tk.Vocab().Model, s, id)
		}
	}
	withSpecial, err := tk.Encode(s, true)
	if err != nil {
		t.Fatalf("%s: Encode(%q, true): %v", tk.Vocab().Model, s, err)
	}
	if want := slices.Concat(pre, ids, post); !slices.Equal(withSpecial, want) {
		t.Fatalf("%s: Encode(%q, true) = %v, want %v", tk.Vocab().Model, s, withSpecial, want)
	}
	return ids
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
