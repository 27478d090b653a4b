package tokenizer

import "fmt"

// spm is the SentencePiece-style tokenizer of tokenizer.ggml.model "llama" (llama.cpp's
// llm_tokenizer_spm). The text, with spaces already escaped as ▁, is split into UTF-8 sequences by
// their lead bytes only (no validation), then the adjacent pair whose concatenation is the
// highest-scoring vocabulary token is merged, repeatedly (ties: leftmost pair first), using a
// priority queue over a linked list of symbols: O(n log n). A final symbol that is not a token is
// emitted as byte tokens <0xNN> (or, failing that, the token spelled as that single byte, or UNK).
type spm struct {
	b      *base
	byteID [256]int32 // -1 when neither <0xNN> nor the raw byte is a token
}

func newSPM(b *base) *spm {
	s := &spm{b: b}
	const hex = "0123456789ABCDEF"
	for c := 0; c < 256; c++ {
		name := string([]byte{'<', '0', 'x', hex[c>>4], hex[c&15], '>'})
		id, ok := b.ids[name]
		if !ok {
			id, ok = b.ids[string([]byte{byte(c)})]
		}
		if !ok {
			id = -1
		}
		s.byteID[c] = id
	}
	return s
}

func (s *spm) encode(dst []int32, text string) ([]int32, error) {
	var sym symbols
	sym.reset(len(text))
	for off := 0; off < len(text); {
		n := min(utf8Len(text[off]), len(text)-off)
		sym.add(off, n)
		off += n
	}
	sym.close()

	ids := s.b.ids
	h := make(bigramHeap, 0, len(sym.start))
	candidate := func(l, r int32) {
		if l < 0 || r < 0 {
			return
		}
		size := sym.n[l] + sym.n[r]
		id, ok := ids[text[sym.start[l]:sym.start[l]+size]]
		if !ok {
			return
		}
		h.push(bigram{key: -float64(s.b.score(id)), left: l, right: r, size: size})
	}
	for i := 1; i < len(sym.start); i++ {
		candidate(int32(i-1), int32(i))
	}
	sym.runMerges(&h, candidate)

	if len(sym.start) == 0 {
		return dst, nil
	}
	for i := int32(0); i >= 0; i = sym.next[i] {
		piece := text[sym.start[i] : sym.start[i]+sym.n[i]]
		if id, ok := ids[piece]; ok {
			dst = append(dst, id)
			continue
		}
		for k := 0; k < len(piece); k++ {
			id := s.byteID[piece[k]]
			if id < 0 {
				id = s.b.v.UNK
			}
			if id < 0 {
				return nil, fmt.Errorf("tokenizer: byte 0x%02X has no byte token and the vocabulary has no unknown token", piece[k])
			}
			dst = append(dst, id)
		}
	}
	return dst, nil
}
