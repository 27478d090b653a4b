package tokenizer

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// bpe is the byte-level BPE tokenizer of tokenizer.ggml.model "gpt2" (llama.cpp's
// llm_tokenizer_bpe). The text is decoded to codepoints (invalid UTF-8 bytes become U+FFFD),
// pre-tokenized into words, and each word's UTF-8 bytes are mapped to GPT-2's printable byte
// alphabet. Within a word the adjacent pair with the lowest merge rank is merged, repeatedly
// (ties: leftmost), with a priority queue over a linked list: O(n log n) per word. A final
// symbol that is not a token is emitted byte by byte, each byte only if it is itself a token.
type bpe struct {
	b     *base
	ranks map[string]int32 // "left right" → rank (first occurrence wins)
	pre   string
}

func newBPE(b *base) (*bpe, error) {
	p := &bpe{b: b, ranks: make(map[string]int32, len(b.v.Merges)), pre: b.v.Pre}
	if len(b.v.Merges) > 1<<31-1 {
		return nil, fmt.Errorf("%w: too many merges", ErrInvalidVocab)
	}
	for i, m := range b.v.Merges {
		// llama.cpp splits at the first space after the first byte; a line without one can never
		// match a pair of non-empty symbols, so it is skipped.
		if k := strings.IndexByte(m[min(1, len(m)):], ' '); k < 0 {
			continue
		}
		if _, dup := p.ranks[m]; !dup {
			p.ranks[m] = int32(i)
		}
	}
	return p, nil
}

func (p *bpe) encode(dst []int32, text string) ([]int32, error) {
	cpts := decodeLax(make([]rune, 0, len(text)), text)
	var (
		word, raw, key []byte
		sym            symbols
		h              bigramHeap
	)
	ids := p.b.ids
	for _, w := range pretokenize(p.pre, cpts) {
		raw = raw[:0]
		for _, r := range cpts[w.start:w.end] {
			raw = appendCpt(raw, r)
		}
		word = word[:0]
		for _, c := range raw {
			word = utf8.AppendRune(word, byteToRune[c])
		}

		sym.reset(len(word))
		for off := 0; off < len(word); {
			n := min(utf8Len(word[off]), len(word)-off)
			sym.add(off, n)
			off += n
		}
		sym.close()
		candidate := func(l, r int32) {
			if l < 0 || r < 0 {
				return
			}
			key = append(key[:0], word[sym.start[l]:sym.start[l]+sym.n[l]]...)
			key = append(key, ' ')
			key = append(key, word[sym.start[r]:sym.start[r]+sym.n[r]]...)
			rank, ok := p.ranks[string(key)]
			if !ok {
				return
			}
			h.push(bigram{key: float64(rank), left: l, right: r, size: sym.n[l] + sym.n[r]})
		}
		h = h[:0]
		for i := 1; i < len(sym.start); i++ {
			candidate(int32(i-1), int32(i))
		}
		sym.runMerges(&h, candidate)

		for i := int32(0); i >= 0 && len(sym.start) > 0; i = sym.next[i] {
			piece := word[sym.start[i] : sym.start[i]+sym.n[i]]
			if id, ok := ids[string(piece)]; ok {
				dst = append(dst, id)
				continue
			}
			for _, c := range piece {
				if id, ok := ids[string([]byte{c})]; ok {
					dst = append(dst, id)
				}
			}
		}
	}
	return dst, nil
}
