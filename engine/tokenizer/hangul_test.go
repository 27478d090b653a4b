package tokenizer

import (
	"slices"
	"testing"

	"github.com/attnscope/attnscope/internal/shareddata"
)

// checkBERTHangul checks the one prompt where this package deliberately differs from llama.cpp:
// WordPiece on "안녕하세요 transformer".
//
// llama.cpp (b4747) gives [CLS] ▁ᄋ ᄂ ᄒ ᄉ ᄋ ▁transform er [SEP]
// = 101 1463 29992 30005 29997 29999 10938 2121 102. Its "NFD" table maps every codepoint to the
// first codepoint of its canonical decomposition only, so each Hangul syllable keeps just its
// leading consonant (안 = ᄋ+ᅡ+ᆫ → ᄋ) and the vowel and final consonant are lost. That works for
// Latin letters, where the rest of the decomposition is accents that BERT strips anyway, but not
// for Hangul, whose jamo are letters (Lo), not marks.
//
// Hugging Face's uncased BertTokenizer decomposes fully (NFD) and strips only nonspacing marks
// (Mn), so all jamo stay: 안녕하세요 → ᄋ ᅡ ᆫ ᄂ ᅧ ᆼ ᄒ ᅡ ᄉ ᅦ ᄋ ᅭ, and the WordPiece vocabulary
// has every one of them as a continuation piece. We follow Hugging Face:
// [CLS] ▁ᄋ ᅡ ᆫ ᄂ ᅧ ᆼ ᄒ ᅡ ᄉ ᅦ ᄋ ᅭ ▁transform er [SEP]
// = 101 1463 30006 30021 29992 30010 30025 30005 30006 29997 30009 29999 30013 10938 2121 102.
//
// The test also checks that the difference is exactly the dropped jamo: removing the medial
// vowels (U+1161–U+11A7) and final consonants (U+11A8–U+11FF) from our ids gives llama.cpp's.
func checkBERTHangul(t *testing.T, tk Tokenizer, r shareddata.Result) {
	t.Helper()
	want := []int32{101, 1463, 30006, 30021, 29992, 30010, 30025, 30005, 30006, 29997, 30009, 29999, 30013, 10938, 2121, 102}
	got, err := tk.Encode(r.Prompt, true)
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("Encode(%q) = %v %q, %v; want %v", r.Prompt, got, texts(tk, got), err, want)
	}
	noSpecial, _ := tk.Encode(r.Prompt, false)
	if !slices.Equal(noSpecial, want[1:len(want)-1]) {
		t.Errorf("Encode(%q, false) = %v", r.Prompt, noSpecial)
	}
	var llamaLike []int32
	for _, id := range got {
		rs := []rune(tk.Vocab().Tokens[id])
		if len(rs) == 1 && rs[0] >= 0x1161 && rs[0] <= 0x11FF {
			continue
		}
		llamaLike = append(llamaLike, id)
	}
	if !slices.Equal(llamaLike, r.Default.IDs) {
		t.Errorf("without medial/final jamo: %v, llama.cpp: %v", llamaLike, r.Default.IDs)
	}
	if !slices.Equal(llamaLike[1:len(llamaLike)-1], r.NoSpecial.IDs) {
		t.Errorf("without medial/final jamo: %v, llama.cpp (no special): %v", llamaLike, r.NoSpecial.IDs)
	}
}
