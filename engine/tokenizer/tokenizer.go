package tokenizer

import (
	"fmt"
	"sort"
	"strings"

	"github.com/attnscope/attnscope/engine/gguf"
)

// Tokenizer turns text into token ids and ids back into bytes, exactly as llama.cpp does for the
// same vocabulary. Implementations are safe for concurrent use.
type Tokenizer interface {
	// Encode tokenizes text as llama_tokenize with parse_special = false: special-token text in
	// the input (e.g. a literal "<s>") is ordinary text. addSpecial adds BOS (and EOS) as the
	// vocabulary's flags say, or [CLS] … [SEP] for bert. Empty text gives only those.
	Encode(text string, addSpecial bool) ([]int32, error)
	// Piece is exactly what llama_token_to_piece emits for id with special = true and no
	// leading-space stripping; nil for an id outside the vocabulary.
	Piece(id int32) []byte
	// Decode concatenates the pieces of ids (ids outside the vocabulary contribute nothing).
	Decode(ids []int32) []byte
	// Vocab returns the vocabulary the tokenizer was built from; do not modify it.
	Vocab() *Vocab
}

// encoder tokenizes one fragment of plain text (no user-defined tokens in it), appending to dst.
type encoder interface {
	encode(dst []int32, text string) ([]int32, error)
}

// base holds what all three models share.
type base struct {
	v      *Vocab
	ids    map[string]int32 // token string (as llama.cpp stores it) → id
	pieces [][]byte
	user   []int32 // user-defined tokens, longest text first
	maxLen int     // longest token string in bytes
	enc    encoder
}

// New builds the tokenizer for v's model after validating v.
func New(v *Vocab) (Tokenizer, error) {
	if v == nil {
		return nil, fmt.Errorf("%w: nil vocabulary", ErrInvalidVocab)
	}
	if err := v.Validate(); err != nil {
		return nil, err
	}
	return build(v)
}

// FromGGUF reads the vocabulary of f and builds its tokenizer.
func FromGGUF(f *gguf.File) (Tokenizer, error) {
	v, err := VocabFromGGUF(f)
	if err != nil {
		return nil, err
	}
	return build(v)
}

func build(v *Vocab) (Tokenizer, error) {
	b := &base{v: v, ids: make(map[string]int32, len(v.Tokens))}
	for i := range v.Tokens {
		s := tokenText(v.Tokens, i)
		b.ids[s] = int32(i)
		b.maxLen = max(b.maxLen, len(s))
		if b.tokenType(int32(i)) == TypeUserDefined {
			b.user = append(b.user, int32(i))
		}
	}
	sort.SliceStable(b.user, func(i, j int) bool {
		return len(tokenText(v.Tokens, int(b.user[i]))) > len(tokenText(v.Tokens, int(b.user[j])))
	})
	b.pieces = make([][]byte, len(v.Tokens))
	for i := range v.Tokens {
		b.pieces[i] = b.makePiece(int32(i))
	}
	var err error
	switch v.Model {
	case ModelLlama:
		b.enc = newSPM(b)
	case ModelGPT2:
		b.enc, err = newBPE(b)
	case ModelBERT:
		b.enc = &wpm{b: b}
	}
	if err != nil {
		return nil, err
	}
	return b, nil
}

func (b *base) Vocab() *Vocab { return b.v }

func (b *base) tokenType(id int32) int32 {
	if b.v.Types == nil {
		return TypeNormal
	}
	return b.v.Types[id]
}

func (b *base) score(id int32) float32 {
	if b.v.Scores == nil {
		return 0
	}
	return b.v.Scores[id]
}

func (b *base) Piece(id int32) []byte {
	if id < 0 || int(id) >= len(b.pieces) {
		return nil
	}
	return b.pieces[id]
}

func (b *base) Decode(ids []int32) []byte {
	var out []byte
	for _, id := range ids {
		out = append(out, b.Piece(id)...)
	}
	return out
}

// makePiece renders a token like llama.cpp's token_to_piece(special = true): control, unknown and
// user-defined tokens as their raw text; normal tokens with ▁ turned into spaces (llama, bert) or
// byte-decoded (gpt2); byte tokens as their byte (llama, bert); anything else as nothing.
func (b *base) makePiece(id int32) []byte {
	text := tokenText(b.v.Tokens, int(id))
	switch b.tokenType(id) {
	case TypeControl, TypeUnknown, TypeUserDefined:
		return []byte(text)
	case TypeNormal:
		if b.v.Model == ModelGPT2 {
			return decodeByteLevel(text)
		}
		return []byte(strings.ReplaceAll(text, "\u2581", " "))
	case TypeByte:
		if c, ok := parseByteToken(text); ok && b.v.Model != ModelGPT2 {
			return []byte{c}
		}
	}
	return []byte{}
}

// decodeByteLevel maps GPT-2 byte-level text back to bytes. A rune outside the 256-rune alphabet
// gives "[UNK_BYTE_0x<hex of its UTF-8>" + text + "]", as llama.cpp's llama_decode_text does.
func decodeByteLevel(text string) []byte {
	var out []byte
	for _, r := range decodeLax(nil, text) {
		if c, ok := runeToByte[r]; ok {
			out = append(out, c)
			continue
		}
		out = append(out, "[UNK_BYTE_0x"...)
		for _, c := range appendCpt(nil, r) {
			out = fmt.Appendf(out, "%02x", c)
		}
		out = append(out, text...)
		out = append(out, ']')
	}
	if out == nil {
		out = []byte{}
	}
	return out
}

// Encode implements Tokenizer.
func (b *base) Encode(text string, addSpecial bool) ([]int32, error) {
	pre, post, err := b.framing(addSpecial)
	if err != nil {
		return nil, err
	}
	out := append(make([]int32, 0, len(text)/3+len(pre)+len(post)), pre...)
	spm := b.v.Model == ModelLlama
	prevSpecial := true // llama: the first fragment, and any after a user-defined token, gets the dummy prefix
	for _, f := range b.partition(text) {
		if f.id >= 0 {
			out = append(out, f.id)
			prevSpecial = true
			continue
		}
		s := f.text
		if spm {
			if b.v.AddSpacePrefix && prevSpecial {
				s = " " + s
			}
			s = strings.ReplaceAll(s, " ", "\u2581")
		}
		if out, err = b.enc.encode(out, s); err != nil {
			return nil, err
		}
		prevSpecial = false
	}
	return append(out, post...), nil
}

// framing returns the special tokens that Encode puts around the text.
func (b *base) framing(addSpecial bool) (pre, post []int32, err error) {
	v := b.v
	switch {
	case !addSpecial:
	case v.Model == ModelBERT:
		if v.CLS < 0 || v.SEP < 0 {
			return nil, nil, fmt.Errorf("tokenizer: cannot add [CLS] … [SEP]: the vocabulary has no CLS (%d) or SEP (%d) token", v.CLS, v.SEP)
		}
		pre, post = []int32{v.CLS}, []int32{v.SEP}
	default:
		if v.AddBOS {
			pre = []int32{v.BOS}
		}
		if v.AddEOS {
			post = []int32{v.EOS}
		}
	}
	return pre, post, nil
}

// fragment is either plain text (id -1) or a user-defined token found in the text.
type fragment struct {
	text string
	id   int32
}

// partition splits text around occurrences of user-defined tokens, longest token first and each
// token's occurrences left to right, like llama.cpp's tokenizer_st_partition with
// parse_special = false (control and unknown tokens are not matched). Empty text gives nothing.
func (b *base) partition(text string) []fragment {
	if text == "" {
		return nil
	}
	frags := []fragment{{text: text, id: -1}}
	for _, id := range b.user {
		tok := tokenText(b.v.Tokens, int(id))
		var next []fragment
		for _, f := range frags {
			if f.id >= 0 {
				next = append(next, f)
				continue
			}
			rest := f.text
			for {
				k := strings.Index(rest, tok)
				if k < 0 {
					break
				}
				if k > 0 {
					next = append(next, fragment{text: rest[:k], id: -1})
				}
				next = append(next, fragment{id: id})
				rest = rest[k+len(tok):]
			}
			if rest != "" {
				next = append(next, fragment{text: rest, id: -1})
			}
		}
		frags = next
	}
	return frags
}
