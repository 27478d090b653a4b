package tokenizer

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestVocabFromGGUFErrors(t *testing.T) {
	toks := []string{"<unk>", "<s>", "</s>", "a"}
	model := kv{keyModel, "llama"}
	tokens := kv{keyTokens, toks}
	cases := []struct {
		name string
		kvs  []kv
		want string
		is   error
	}{
		{"no model", []kv{tokens}, "tokenizer.ggml.model is missing", ErrInvalidVocab},
		{"unknown model", []kv{{keyModel, "t5"}, tokens}, `"t5"`, ErrUnsupportedModel},
		{"model not a string", []kv{{keyModel, uint32(1)}, tokens}, "tokenizer.ggml.model is uint32, want a string", ErrInvalidVocab},
		{"no tokens", []kv{model}, "tokenizer.ggml.tokens is missing", ErrInvalidVocab},
		{"tokens not an array", []kv{model, {keyTokens, "a"}}, "tokenizer.ggml.tokens is string, want an array of strings", ErrInvalidVocab},
		{"empty vocab", []kv{model, {keyTokens, []string{}}}, "tokenizer.ggml.tokens is empty", ErrInvalidVocab},
		{"short scores", []kv{model, tokens, {keyScores, []float32{0, 0}}}, "scores has 2 entries for 4 tokens", ErrInvalidVocab},
		{"scores wrong type", []kv{model, tokens, {keyScores, []int32{0, 0, 0, 0}}}, "scores is array of int32, want an array of float32", ErrInvalidVocab},
		{"long types", []kv{model, tokens, {keyTypes, []int32{1, 1, 1, 1, 1}}}, "token_type has 5 entries for 4 tokens", ErrInvalidVocab},
		{"bos out of range", []kv{model, tokens, {"tokenizer.ggml.bos_token_id", uint32(4)}}, "bos_token_id = 4 is outside the vocabulary of 4 tokens", ErrInvalidVocab},
		{"eos negative", []kv{model, tokens, {"tokenizer.ggml.eos_token_id", int32(-7)}}, "eos_token_id = -7", ErrInvalidVocab},
		{"id not an integer", []kv{model, tokens, {"tokenizer.ggml.unknown_token_id", "0"}}, "unknown_token_id is string, want an integer", ErrInvalidVocab},
		{"flag not a bool", []kv{model, tokens, {keyAddBOS, uint32(1)}}, "add_bos_token is uint32, want a bool", ErrInvalidVocab},
		{"duplicate token", []kv{model, {keyTokens, []string{"<unk>", "a", "b", "a"}}}, `tokens 1 and 3 are both "a"`, ErrInvalidVocab},
		{"bad byte token", []kv{model, tokens, {keyTypes, []int32{2, 3, 3, 6}}}, `token 3 "a" has type byte`, ErrInvalidVocab},
		{"gpt2 without merges", []kv{{keyModel, "gpt2"}, tokens}, "merges is missing", ErrInvalidVocab},
		{"gpt2 unknown pre", []kv{{keyModel, "gpt2"}, {keyPre, "qwen2"}, tokens, {keyMerges, []string{}}}, `"qwen2" (supported for gpt2:`, ErrUnsupportedPre},
		{"add_bos without bos", []kv{{keyModel, "gpt2"}, tokens, {keyMerges, []string{}}, {keyAddBOS, true}}, "add_bos_token is set but the vocabulary has no BOS", ErrInvalidVocab},
		{"add_eos without eos", []kv{model, {keyTokens, []string{"x", "y"}}, {keyAddEOS, true}}, "no EOS token", ErrInvalidVocab},
		{"bert without unk", []kv{{keyModel, "bert"}, tokens}, "needs an unknown token", ErrInvalidVocab},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := metaFile(t, c.kvs...)
			_, err := VocabFromGGUF(f)
			if err == nil {
				t.Fatalf("no error, want %q", c.want)
			}
			if !strings.Contains(err.Error(), c.want) || !errors.Is(err, c.is) {
				t.Fatalf("error %q, want it to contain %q and wrap %v", err, c.want, c.is)
			}
			if _, err2 := FromGGUF(f); err2 == nil || err2.Error() != err.Error() {
				t.Fatalf("FromGGUF error %v, want %v", err2, err)
			}
		})
	}
}

func TestVocabDefaults(t *testing.T) {
	toks := make([]string, 200)
	for i := range toks {
		toks[i] = "t" + string(rune('A'+i%26)) + strings.Repeat("x", i/26)
	}
	v, err := VocabFromGGUF(metaFile(t, kv{keyModel, "llama"}, kv{keyTokens, toks},
		kv{"tokenizer.ggml.padding_token_id", uint32(math.MaxUint32)},
		kv{"tokenizer.ggml.bos_token_id", uint32(math.MaxUint32)}))
	if err != nil {
		t.Fatal(err)
	}
	if v.BOS != 1 || v.EOS != 2 || v.UNK != 0 || v.PAD != -1 || v.SEP != -1 || !v.AddBOS || v.AddEOS || !v.AddSpacePrefix {
		t.Errorf("llama defaults: %+v", *v)
	}
	if v.Scores != nil || v.Types != nil {
		t.Errorf("absent scores/types should stay nil")
	}
	v, err = VocabFromGGUF(metaFile(t, kv{keyModel, "bert"}, kv{keyTokens, toks}, kv{keyAddSpace, true}))
	if err != nil {
		t.Fatal(err)
	}
	if v.CLS != 101 || v.BOS != 101 || v.UNK != 100 || v.SEP != 102 || v.PAD != 0 || v.MASK != 103 || v.EOS != -1 || !v.AddSpacePrefix {
		t.Errorf("bert defaults: %+v", *v)
	}
	// bert: the cls key sets both CLS and BOS; a bos key alone sets both too.
	for _, c := range []struct {
		kvs      []kv
		cls, bos int32
	}{
		{[]kv{{"tokenizer.ggml.cls_token_id", uint32(7)}}, 7, 7},
		{[]kv{{"tokenizer.ggml.bos_token_id", uint32(8)}}, 8, 8},
		{[]kv{{"tokenizer.ggml.cls_token_id", uint32(7)}, {"tokenizer.ggml.bos_token_id", uint32(8)}}, 7, 8},
	} {
		v, err = VocabFromGGUF(metaFile(t, append([]kv{{keyModel, "bert"}, {keyTokens, toks}}, c.kvs...)...))
		if err != nil || v.CLS != c.cls || v.BOS != c.bos {
			t.Errorf("bert %v: CLS %d BOS %d (%v), want %d %d", c.kvs, v.CLS, v.BOS, err, c.cls, c.bos)
		}
	}
	v, err = VocabFromGGUF(metaFile(t, kv{keyModel, "gpt2"}, kv{keyTokens, toks}, kv{keyMerges, []string{"tA tB"}}))
	if err != nil {
		t.Fatal(err)
	}
	if v.BOS != -1 || v.EOS != -1 || v.AddBOS || v.AddSpacePrefix || len(v.Merges) != 1 {
		t.Errorf("gpt2 defaults: %+v", *v)
	}
	// A vocabulary too small for the default ids leaves them unset.
	v, err = VocabFromGGUF(metaFile(t, kv{keyModel, "llama"}, kv{keyTokens, []string{"<unk>", "<s>"}}, kv{keyAddBOS, true}))
	if err != nil {
		t.Fatal(err)
	}
	if v.BOS != 1 || v.EOS != -1 {
		t.Errorf("small llama vocab: BOS %d EOS %d", v.BOS, v.EOS)
	}
}

func TestNewRejectsBadVocab(t *testing.T) {
	if _, err := New(nil); !errors.Is(err, ErrInvalidVocab) {
		t.Errorf("New(nil) = %v", err)
	}
	v := &Vocab{Model: "llama", Tokens: []string{"a"}, BOS: 5, EOS: -1, UNK: -1, PAD: -1, SEP: -1, CLS: -1, MASK: -1}
	if _, err := New(v); err == nil || !strings.Contains(err.Error(), "BOS token id 5") {
		t.Errorf("New with BOS 5 of 1 token: %v", err)
	}
	v.BOS = -1
	if _, err := New(v); err != nil {
		t.Errorf("New: %v", err)
	}
	v.Model = "rwkv"
	if _, err := New(v); !errors.Is(err, ErrUnsupportedModel) || !strings.Contains(err.Error(), "supported: llama, gpt2, bert") {
		t.Errorf("New with model rwkv: %v", err)
	}
}
