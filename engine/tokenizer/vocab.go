package tokenizer

import (
	"errors"
	"fmt"
	"math"

	"github.com/attnscope/attnscope/engine/gguf"
)

// Token types as GGUF stores them in tokenizer.ggml.token_type (llama.cpp's llama_token_type).
const (
	TypeUndefined   int32 = 0
	TypeNormal      int32 = 1
	TypeUnknown     int32 = 2
	TypeControl     int32 = 3
	TypeUserDefined int32 = 4
	TypeUnused      int32 = 5
	TypeByte        int32 = 6
)

// Supported values of tokenizer.ggml.model.
const (
	ModelLlama = "llama" // SentencePiece-style BPE with scores and byte fallback
	ModelGPT2  = "gpt2"  // byte-level BPE with ranked merges
	ModelBERT  = "bert"  // WordPiece
)

// Sentinel errors, wrapped with the key or token they concern.
var (
	ErrUnsupportedModel = errors.New("tokenizer: unsupported tokenizer.ggml.model")
	ErrUnsupportedPre   = errors.New("tokenizer: unsupported tokenizer.ggml.pre")
	ErrInvalidVocab     = errors.New("tokenizer: invalid vocabulary")
)

// GGUF metadata keys read by VocabFromGGUF.
const (
	keyModel    = "tokenizer.ggml.model"
	keyPre      = "tokenizer.ggml.pre"
	keyTokens   = "tokenizer.ggml.tokens"
	keyScores   = "tokenizer.ggml.scores"
	keyTypes    = "tokenizer.ggml.token_type"
	keyMerges   = "tokenizer.ggml.merges"
	keyAddBOS   = "tokenizer.ggml.add_bos_token"
	keyAddEOS   = "tokenizer.ggml.add_eos_token"
	keyAddSpace = "tokenizer.ggml.add_space_prefix"
)

// Vocab is the tokenizer section of a GGUF file (tokenizer.ggml.*), validated.
//
// Scores and Types are nil when the file has no such array; the tokenizer then uses score 0 and
// type TypeNormal for every token, as llama.cpp does. Empty token strings are kept here but used
// as "[EMPTY_<id>]" by the tokenizer (llama.cpp renames them on load).
//
// Special ids are -1 when the file does not set them and llama.cpp has no default for the model:
// llama defaults to BOS 1, EOS 2, UNK 0; bert to CLS 101, UNK 100, SEP 102, PAD 0, MASK 103 (each
// only if it is inside the vocabulary). For bert, CLS comes from cls_token_id, else bos_token_id,
// and BOS equals CLS unless bos_token_id sets it. A stored id of 0xFFFFFFFF (-1 as int32) means
// "not set", so the default applies, as in llama.cpp; any other id outside the vocabulary is an
// error (llama.cpp warns and uses the default). llama.cpp's placeholder BOS/EOS 11 for gpt2 files
// without those keys is not copied: they stay -1.
type Vocab struct {
	Model, Pre string
	Tokens     []string
	Scores     []float32
	Types      []int32
	Merges     []string // gpt2 only: "left right", highest priority first

	BOS, EOS, UNK, PAD, SEP, CLS, MASK int32

	// AddBOS / AddEOS: whether Encode(text, true) adds BOS / EOS (llama, gpt2). bert always frames
	// the text with CLS … SEP when asked for special tokens and ignores both flags, as llama.cpp does.
	// AddSpacePrefix: the llama tokenizer prepends a space (dummy prefix) to the text.
	AddBOS, AddEOS, AddSpacePrefix bool
}

type specialKey struct {
	key string
	dst func(v *Vocab) *int32
}

var specialKeys = []specialKey{
	{"tokenizer.ggml.bos_token_id", func(v *Vocab) *int32 { return &v.BOS }},
	{"tokenizer.ggml.eos_token_id", func(v *Vocab) *int32 { return &v.EOS }},
	{"tokenizer.ggml.unknown_token_id", func(v *Vocab) *int32 { return &v.UNK }},
	{"tokenizer.ggml.padding_token_id", func(v *Vocab) *int32 { return &v.PAD }},
	{"tokenizer.ggml.seperator_token_id", func(v *Vocab) *int32 { return &v.SEP }},
	{"tokenizer.ggml.cls_token_id", func(v *Vocab) *int32 { return &v.CLS }},
	{"tokenizer.ggml.mask_token_id", func(v *Vocab) *int32 { return &v.MASK }},
}

// VocabFromGGUF reads and validates the tokenizer metadata of f.
func VocabFromGGUF(f *gguf.File) (*Vocab, error) {
	v := &Vocab{BOS: -1, EOS: -1, UNK: -1, PAD: -1, SEP: -1, CLS: -1, MASK: -1}
	var err error
	if v.Model, err = ggufString(f, keyModel, true); err != nil {
		return nil, err
	}
	if v.Pre, err = ggufString(f, keyPre, false); err != nil {
		return nil, err
	}
	tokens, ok := f.Strings(keyTokens)
	if !ok {
		return nil, keyError(f, keyTokens, "an array of strings")
	}
	v.Tokens = tokens
	if _, present := f.Get(keyScores); present {
		if v.Scores, ok = f.Float32s(keyScores); !ok {
			return nil, keyError(f, keyScores, "an array of float32")
		}
	}
	if _, present := f.Get(keyTypes); present {
		if v.Types, ok = f.Int32s(keyTypes); !ok {
			return nil, keyError(f, keyTypes, "an array of int32")
		}
	}
	if v.Model == ModelGPT2 {
		if v.Merges, ok = f.Strings(keyMerges); !ok {
			return nil, keyError(f, keyMerges, "an array of strings (required for model gpt2)")
		}
	}

	v.setModelDefaults()
	if err := v.readFlags(f); err != nil {
		return nil, err
	}
	if err := v.readSpecialIDs(f); err != nil {
		return nil, err
	}
	if err := v.Validate(); err != nil {
		return nil, err
	}
	return v, nil
}

// setModelDefaults applies llama.cpp's per-model defaults (before the file's keys override them).
func (v *Vocab) setModelDefaults() {
	n := int32(min(len(v.Tokens), math.MaxInt32))
	def := func(id int32) int32 {
		if id < n {
			return id
		}
		return -1
	}
	switch v.Model {
	case ModelLlama:
		v.BOS, v.EOS, v.UNK = def(1), def(2), def(0)
		v.AddBOS, v.AddSpacePrefix = true, true
	case ModelBERT:
		v.CLS, v.UNK, v.SEP, v.PAD, v.MASK = def(101), def(100), def(102), def(0), def(103)
		v.AddBOS = true
	}
}

func (v *Vocab) readFlags(f *gguf.File) error {
	for _, fl := range []struct {
		key string
		dst *bool
	}{{keyAddBOS, &v.AddBOS}, {keyAddEOS, &v.AddEOS}, {keyAddSpace, &v.AddSpacePrefix}} {
		if _, present := f.Get(fl.key); !present {
			continue
		}
		b, ok := f.Bool(fl.key)
		if !ok {
			return keyError(f, fl.key, "a bool")
		}
		*fl.dst = b
	}
	return nil
}

func (v *Vocab) readSpecialIDs(f *gguf.File) error {
	set := map[string]bool{}
	for _, sk := range specialKeys {
		val, present := f.Get(sk.key)
		if !present {
			continue
		}
		id, ok := val.Int()
		if !ok {
			return keyError(f, sk.key, "an integer")
		}
		if id == -1 || id == math.MaxUint32 {
			continue // explicitly "none": keep the model default, as llama.cpp does
		}
		if id < 0 || id >= int64(len(v.Tokens)) {
			return fmt.Errorf("%w: %s = %d is outside the vocabulary of %d tokens", ErrInvalidVocab, sk.key, id, len(v.Tokens))
		}
		*sk.dst(v) = int32(id)
		set[sk.key] = true
	}
	if v.Model == ModelBERT {
		// llama.cpp frames BERT input with its BOS id; converted files set cls_token_id instead.
		// CLS is the cls key, else the bos key, else 101; BOS follows CLS unless set itself.
		bosSet, clsSet := set[specialKeys[0].key], set["tokenizer.ggml.cls_token_id"]
		if !clsSet && bosSet {
			v.CLS = v.BOS
		}
		if !bosSet {
			v.BOS = v.CLS
		}
	}
	return nil
}

func ggufString(f *gguf.File, key string, required bool) (string, error) {
	if _, present := f.Get(key); !present {
		if required {
			return "", fmt.Errorf("%w: metadata key %s is missing", ErrInvalidVocab, key)
		}
		return "", nil
	}
	s, ok := f.String(key)
	if !ok {
		return "", keyError(f, key, "a string")
	}
	return s, nil
}

func keyError(f *gguf.File, key, want string) error {
	val, present := f.Get(key)
	if !present {
		return fmt.Errorf("%w: metadata key %s is missing", ErrInvalidVocab, key)
	}
	got := val.Type.String()
	if val.Type == gguf.TypeArray {
		got = "array of " + val.Elem.String()
	}
	return fmt.Errorf("%w: metadata key %s is %s, want %s", ErrInvalidVocab, key, got, want)
}
