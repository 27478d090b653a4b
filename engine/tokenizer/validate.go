package tokenizer

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// gpt2Pres are the tokenizer.ggml.pre values for which llama.cpp uses exactly the GPT-2
// pre-tokenizer regex and no other special handling. "" and "default" select llama.cpp's default
// pre-tokenizer (see pretok.go).
var gpt2Pres = map[string]bool{
	"gpt-2": true, "phi-2": true, "roberta-bpe": true, "mpt": true, "olmo": true, "jais": true,
	"gigachat": true, "jina-es": true, "jina-de": true, "jina-v1-en": true,
}

func supportedPres() string {
	names := make([]string, 0, len(gpt2Pres)+1)
	for k := range gpt2Pres {
		names = append(names, k)
	}
	sort.Strings(names)
	return strings.Join(append(names, "default"), ", ")
}

// Validate checks that v is consistent: a supported model (and pre-tokenizer for gpt2), a
// non-empty vocabulary without duplicate strings, scores and types as long as the tokens, special
// ids inside the vocabulary (or -1), byte tokens spelled <0xNN>, and the special tokens that the
// flags require.
func (v *Vocab) Validate() error {
	switch v.Model {
	case ModelLlama, ModelBERT:
	case ModelGPT2:
		if v.Pre != "" && v.Pre != "default" && !gpt2Pres[v.Pre] {
			return fmt.Errorf("%w %q (supported for gpt2: %s)", ErrUnsupportedPre, v.Pre, supportedPres())
		}
	default:
		return fmt.Errorf("%w %q (supported: llama, gpt2, bert)", ErrUnsupportedModel, v.Model)
	}
	n := len(v.Tokens)
	if n == 0 {
		return fmt.Errorf("%w: %s is empty", ErrInvalidVocab, keyTokens)
	}
	if n > math.MaxInt32 {
		return fmt.Errorf("%w: %d tokens do not fit int32 ids", ErrInvalidVocab, n)
	}
	if v.Scores != nil && len(v.Scores) != n {
		return fmt.Errorf("%w: %s has %d entries for %d tokens", ErrInvalidVocab, keyScores, len(v.Scores), n)
	}
	if v.Types != nil && len(v.Types) != n {
		return fmt.Errorf("%w: %s has %d entries for %d tokens", ErrInvalidVocab, keyTypes, len(v.Types), n)
	}
	for _, s := range []struct {
		name string
		id   int32
	}{{"BOS", v.BOS}, {"EOS", v.EOS}, {"UNK", v.UNK}, {"PAD", v.PAD}, {"SEP", v.SEP}, {"CLS", v.CLS}, {"MASK", v.MASK}} {
		if s.id < -1 || s.id >= int32(n) {
			return fmt.Errorf("%w: %s token id %d is outside the vocabulary of %d tokens", ErrInvalidVocab, s.name, s.id, n)
		}
	}
	switch {
	case v.Model != ModelBERT && v.AddBOS && v.BOS < 0:
		return fmt.Errorf("%w: %s is set but the vocabulary has no BOS token", ErrInvalidVocab, keyAddBOS)
	case v.Model != ModelBERT && v.AddEOS && v.EOS < 0:
		return fmt.Errorf("%w: %s is set but the vocabulary has no EOS token", ErrInvalidVocab, keyAddEOS)
	case v.Model == ModelBERT && v.UNK < 0:
		return fmt.Errorf("%w: a bert vocabulary needs an unknown token ([UNK])", ErrInvalidVocab)
	}
	if v.Model != ModelGPT2 && v.Types != nil {
		for i, t := range v.Types {
			if t == TypeByte {
				if _, ok := parseByteToken(v.Tokens[i]); !ok {
					return fmt.Errorf("%w: token %d %q has type byte but is not spelled <0xNN>", ErrInvalidVocab, i, v.Tokens[i])
				}
			}
		}
	}
	seen := make(map[string]int, n)
	for i := range v.Tokens {
		s := tokenText(v.Tokens, i)
		if j, dup := seen[s]; dup {
			return fmt.Errorf("%w: tokens %d and %d are both %q", ErrInvalidVocab, j, i, s)
		}
		seen[s] = i
	}
	return nil
}

// tokenText is the string llama.cpp uses for token i: empty strings become "[EMPTY_i]".
func tokenText(tokens []string, i int) string {
	if tokens[i] == "" {
		return fmt.Sprintf("[EMPTY_%d]", i)
	}
	return tokens[i]
}

// parseByteToken parses "<0xNN>" (either hex case).
func parseByteToken(s string) (byte, bool) {
	if len(s) != 6 || s[:3] != "<0x" || s[5] != '>' {
		return 0, false
	}
	hi, ok1 := hexVal(s[3])
	lo, ok2 := hexVal(s[4])
	return hi<<4 | lo, ok1 && ok2
}

func hexVal(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
