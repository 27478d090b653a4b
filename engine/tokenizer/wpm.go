package tokenizer

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// wpm is the WordPiece tokenizer of tokenizer.ggml.model "bert" (llama.cpp's llm_tokenizer_wpm).
// GGUF stores word-initial pieces with a ▁ prefix and continuation pieces without BERT's "##", so
// each word is matched as "▁"+word, greedily taking the longest vocabulary token at each position;
// a word with any position that no token matches becomes a single UNK.
//
// Normalisation follows Hugging Face's uncased BertTokenizer: canonical decomposition (NFD), then
// nonspacing marks (Mn) are dropped, so "é" → "e" and a Hangul syllable → its conjoining jamo. This
// is where it departs from llama.cpp, whose table maps each codepoint to the first codepoint of its
// decomposition only (so Hangul keeps just the leading consonant, and a combining mark typed on
// its own is kept). The rest is llama.cpp's: whitespace (White_Space) separates words; NUL, U+FFFD
// (including invalid UTF-8 bytes) and category C are dropped; letters are lowercased (simple
// mapping); punctuation, ASCII symbols and CJK ideographs are words of their own.
type wpm struct{ b *base }

func (w *wpm) encode(dst []int32, text string) ([]int32, error) {
	var word strings.Builder
	for _, wd := range bertWords(text) {
		word.Reset()
		word.WriteString("\u2581")
		word.WriteString(wd)
		dst = w.wordPiece(dst, word.String())
	}
	return dst, nil
}

// wordPiece appends the greedy longest-match pieces of s (which starts with ▁), or UNK.
func (w *wpm) wordPiece(dst []int32, s string) []int32 {
	mark := len(dst)
	for i := 0; i < len(s); {
		matched := false
		for j := min(len(s), i+w.b.maxLen+1); j > i; j-- {
			if id, ok := w.b.ids[s[i:j]]; ok {
				dst = append(dst, id)
				i = j
				matched = true
				break
			}
		}
		if !matched {
			dst = dst[:mark]
			break
		}
	}
	if len(dst) == mark {
		dst = append(dst, w.b.v.UNK)
	}
	return dst
}

// bertWords normalises text and splits it into words (see wpm).
func bertWords(text string) []string {
	cpts := decodeLax(make([]rune, 0, len(text)), text)
	valid := make([]byte, 0, len(text)+8)
	for _, r := range cpts {
		if r >= 0xD800 && r <= 0xDFFF {
			continue // a surrogate is category Cs and would be dropped anyway
		}
		valid = appendCpt(valid, r)
	}
	valid = norm.NFD.Bytes(valid)

	var words []string
	var cur []byte
	flush := func() {
		if len(cur) > 0 {
			words = append(words, string(cur))
			cur = cur[:0]
		}
	}
	for _, r := range string(valid) {
		c := classOf(r)
		switch {
		case c&classSpace != 0:
			flush()
		case r == 0 || r == unicode.ReplacementChar || c&classOther != 0 || unicode.Is(unicode.Mn, r):
		case c&classPunct != 0 || (r < 0x7F && c&classSymbol != 0) || isCJK(r):
			flush()
			words = append(words, string(unicode.ToLower(r)))
		default:
			cur = appendCpt(cur, unicode.ToLower(r))
		}
	}
	flush()
	return words
}

// isCJK reports whether r is in the CJK ideograph blocks that BERT splits into single-character
// words (the ranges of llama.cpp and Hugging Face's tokenizers, including their 0x2B920 bound).
func isCJK(r rune) bool {
	return (r >= 0x4E00 && r <= 0x9FFF) ||
		(r >= 0x3400 && r <= 0x4DBF) ||
		(r >= 0x20000 && r <= 0x2A6DF) ||
		(r >= 0x2A700 && r <= 0x2B73F) ||
		(r >= 0x2B740 && r <= 0x2B81F) ||
		(r >= 0x2B920 && r <= 0x2CEAF) ||
		(r >= 0xF900 && r <= 0xFAFF) ||
		(r >= 0x2F800 && r <= 0x2FA1F)
}
