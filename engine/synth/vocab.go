package synth

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Token types as llama.cpp numbers them (tokenizer.ggml.token_type).
const (
	typeNormal  int32 = 1
	typeUnknown int32 = 2
	typeControl int32 = 3
	typeByte    int32 = 6
)

// vocab is a generated tokenizer section.
type vocab struct {
	tokens []string
	scores []float32 // llama only
	types  []int32
	merges []string // gpt2 only: "left right", highest priority first
	bos    uint32
	eos    uint32
	unk    int64 // -1: none
}

// words are common English words: function words first, then the nouns, verbs and adjectives of
// simple stories (the TinyStories shapes are the benchmark presets). Their pieces come first
// among the merges, so ordinary text tokenizes into words rather than letters.
var words = strings.Fields(`
the a an and or but so if then than that this these those there here what which who when where
why how not no yes all any some each every many much more most few other same such only own
of to in on at by for with from into onto over under up down out off about after before again
around away back through while until because since during between without near far
i you he she it we they me him her us them my your his its our their mine yours
is are was were be been being am have has had do does did will would can could shall should may
might must let lets get got make made go went gone come came see saw look looked say said tell
told ask asked want wanted like liked love loved need needed know knew think thought feel felt
find found give gave take took keep kept help helped play played run ran walk walked jump jumped
eat ate drink sleep slept sit sat stand stood open opened close closed start started stop stopped
try tried turn turned call called hear heard live lived work worked learn learned show showed
bring brought put read write wrote sing sang smile smiled laugh laughed cry cried fly flew fall
fell hold held hug hugged share shared wait waited build built draw drew swim climb pick picked
once upon time day night morning today tomorrow year week minute hour
little big small tall long short old new young good bad happy sad kind nice mean brave scared
funny silly pretty bright dark hot cold warm wet dry soft hard fast slow quiet loud red blue green
yellow white black brown pink purple orange round sweet shiny special favorite best better
girl boy man woman mom dad mother father sister brother baby friend friends family teacher king
queen princess named name lily tom ben sam sue max mia anna tim lucy
dog cat bird fish bear bunny rabbit duck frog lion mouse horse cow pig sheep bug bee butterfly
tree flower flowers garden park house home room bed door window car truck boat train ball toy
toys book box cake cookie apple food water milk sun moon star sky cloud rain snow wind grass
sand rock hill river lake sea beach forest road school shop town world
one two three four five six seven ten first last next lot lots
very too also just still even really always never often soon now later again together
everyone everything something nothing someone anything
`)

const letters = "abcdefghijklmnopqrstuvwxyz"

// mergeList makes the n merges both vocabularies use, as pairs (left, right) in priority order
// whose results are all distinct and new. Space is written as marker ("▁" for llama, "Ġ" for
// gpt2); have holds the strings the vocabulary already has (at least the single characters
// used: the marker and the ASCII letters), to which the results are added. The merges are made
// for these strings in turn:
//
//  1. marker+w for every word w (▁the, ▁of, …);
//  2. marker+W, W being w with a capital first letter (▁The, …);
//  3. every word w and W without the marker;
//  4. letter strings of growing length k = 1, 2, …: for each k, marker+s for every lowercase s
//     of length k in alphabetical order, then s itself.
//
// For each string, the merges made so far are applied to its characters as byte-level BPE applies
// them (the lowest-ranked adjacent pair first, leftmost on ties); the parts left are then joined
// left to right by new merges, which makes the string one token under BPE. A join whose result is
// already a token (made from other parts) ends that string's merges early.
func mergeList(marker string, n int, have map[string]bool) [][2]string {
	if n <= 0 {
		return nil
	}
	m := &merger{n: n, have: have, rank: map[[2]string]int{}}
	for _, stage := range []func(w string) string{
		func(w string) string { return marker + w },
		func(w string) string { return marker + strings.ToUpper(w[:1]) + w[1:] },
		func(w string) string { return w },
		func(w string) string { return strings.ToUpper(w[:1]) + w[1:] },
	} {
		for _, w := range words {
			if !m.add(stage(w)) {
				return m.out
			}
		}
	}
	for k := 1; ; k++ {
		total := 1
		for range k {
			total *= len(letters)
		}
		s := make([]byte, k)
		for _, p := range []string{marker, ""} {
			for idx := range total {
				for j, x := k-1, idx; j >= 0; j-- {
					s[j] = letters[x%len(letters)]
					x /= len(letters)
				}
				if !m.add(p + string(s)) {
					return m.out
				}
			}
		}
	}
}

type merger struct {
	n    int
	have map[string]bool
	rank map[[2]string]int
	out  [][2]string
	syms []string
}

// add makes t one token if it can (see mergeList). It returns false once n merges are made.
func (m *merger) add(t string) bool {
	if len(m.out) >= m.n {
		return false
	}
	if m.have[t] {
		return true
	}
	syms := m.segment(t)
	for len(syms) > 1 {
		pair := [2]string{syms[0], syms[1]}
		joined := pair[0] + pair[1]
		if m.have[joined] {
			return true
		}
		m.rank[pair] = len(m.out)
		m.out = append(m.out, pair)
		m.have[joined] = true
		if len(m.out) >= m.n {
			return false
		}
		syms[1] = joined
		syms = syms[1:]
	}
	return true
}

// segment splits t into characters and applies the merges made so far, lowest rank first.
func (m *merger) segment(t string) []string {
	syms := m.syms[:0]
	for i, r := range t {
		syms = append(syms, t[i:i+utf8.RuneLen(r)])
	}
	for {
		best, bestRank := -1, 0
		for i := 0; i+1 < len(syms); i++ {
			if r, ok := m.rank[[2]string{syms[i], syms[i+1]}]; ok && (best < 0 || r < bestRank) {
				best, bestRank = i, r
			}
		}
		if best < 0 {
			break
		}
		syms[best] += syms[best+1]
		syms = append(syms[:best+1], syms[best+2:]...)
	}
	m.syms = syms
	return syms
}

// llamaVocab builds a SentencePiece-style vocabulary of n tokens (n ≥ MinVocabLlama): <unk>,
// <s>, </s>, <0x00>…<0xFF>, then "▁" and the printable ASCII characters, then merged pieces.
// Pieces score 0, −1, −2, … in order (the special and byte tokens 0).
func llamaVocab(n int) *vocab {
	v := &vocab{bos: 1, eos: 2, unk: 0}
	v.tokens = append(v.tokens, "<unk>", "<s>", "</s>")
	v.types = append(v.types, typeUnknown, typeControl, typeControl)
	for b := range 256 {
		v.tokens = append(v.tokens, fmt.Sprintf("<0x%02X>", b))
		v.types = append(v.types, typeByte)
	}
	v.scores = make([]float32, len(v.tokens), n)
	have := map[string]bool{}
	chars := []string{"▁"}
	for c := byte(0x21); c < 0x7f; c++ {
		chars = append(chars, string(c))
	}
	piece := func(s string) {
		v.scores = append(v.scores, -float32(len(v.tokens)-MinVocabLlama))
		v.tokens = append(v.tokens, s)
		v.types = append(v.types, typeNormal)
	}
	for _, c := range chars[:min(len(chars), n-len(v.tokens))] {
		piece(c)
		have[c] = true
	}
	for _, m := range mergeList("▁", n-len(v.tokens), have) {
		piece(m[0] + m[1])
	}
	return v
}

// gpt2ByteSymbols returns GPT-2's byte-to-unicode mapping (sym[b] is the one-rune string for
// byte b) and the order of the first 256 tokens of its vocabulary: the bytes that stand for
// themselves (! … ~, ¡ … ¬, ® … ÿ) first, then the others, which map to U+0100 onwards in
// byte order.
func gpt2ByteSymbols() (sym [256]string, order []byte) {
	self := func(b int) bool { return b >= '!' && b <= '~' || b >= 0xA1 && b <= 0xAC || b >= 0xAE }
	next := rune(0x100)
	var rest []byte
	for b := range 256 {
		if self(b) {
			sym[b] = string(rune(b))
			order = append(order, byte(b))
			continue
		}
		sym[b] = string(next)
		next++
		rest = append(rest, byte(b))
	}
	return sym, append(order, rest...)
}

// gpt2Vocab builds a byte-level BPE vocabulary of n tokens (n ≥ MinVocabGPT2): the 256 byte
// symbols, one token per merge, and <|endoftext|> last (BOS and EOS).
func gpt2Vocab(n int) *vocab {
	sym, order := gpt2ByteSymbols()
	v := &vocab{unk: -1}
	have := map[string]bool{}
	for _, b := range order {
		v.tokens = append(v.tokens, sym[b])
		have[sym[b]] = true
	}
	for _, m := range mergeList(sym[' '], n-MinVocabGPT2, have) {
		v.merges = append(v.merges, m[0]+" "+m[1])
		v.tokens = append(v.tokens, m[0]+m[1])
	}
	v.tokens = append(v.tokens, "<|endoftext|>")
	v.types = make([]int32, len(v.tokens))
	for i := range v.types {
		v.types[i] = typeNormal
	}
	v.types[len(v.types)-1] = typeControl
	v.bos = uint32(len(v.tokens) - 1)
	v.eos = v.bos
	return v
}
