package tokenizer

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// tinySPM is a llama vocabulary with all 256 byte tokens and a user-defined token "<|x|>".
func tinySPM(t *testing.T, withBytes bool) Tokenizer {
	t.Helper()
	v := &Vocab{Model: ModelLlama, BOS: 1, EOS: 2, UNK: 0, PAD: -1, SEP: -1, CLS: -1, MASK: -1, AddBOS: true, AddSpacePrefix: true}
	add := func(s string, score float32, typ int32) {
		v.Tokens = append(v.Tokens, s)
		v.Scores = append(v.Scores, score)
		v.Types = append(v.Types, typ)
	}
	add("<unk>", 0, TypeUnknown)
	add("<s>", 0, TypeControl)
	add("</s>", 0, TypeControl)
	if withBytes {
		for c := 0; c < 256; c++ {
			add(fmt.Sprintf("<0x%02X>", c), 0, TypeByte)
		}
	}
	add("▁", -1, TypeNormal)
	add("a", -2, TypeNormal)
	add("b", -2, TypeNormal)
	add("s", -2, TypeNormal)
	add("▁a", -1.5, TypeNormal)
	add("ab", -0.5, TypeNormal)
	add("<|x|>", 0, TypeUserDefined)
	add("<|x|>y", 0, TypeUserDefined)
	add("unused", 0, TypeUnused)
	tk, err := New(v)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func texts(tk Tokenizer, ids []int32) []string {
	var s []string
	for _, id := range ids {
		s = append(s, tk.Vocab().Tokens[id])
	}
	return s
}

func TestSPMBehaviour(t *testing.T) {
	tk := tinySPM(t, true)
	cases := []struct {
		in         string
		addSpecial bool
		want       string
	}{
		{"", true, "<s>"},
		{"", false, ""},
		{"ab", true, "<s> ▁ ab"},               // "ab" (-0.5) beats "▁a" (-1.5)
		{"a a", false, "▁a ▁a"},                // spaces become ▁, dummy prefix added
		{"a<|x|>b", false, "▁a <|x|> ▁ b"},     // text after a user-defined token gets the prefix again
		{"<|x|>y<|x|>", false, "<|x|>y <|x|>"}, // longest user-defined token first
		{"<s>", false, "▁ <0x3C> s <0x3E>"},    // control-token text is plain text
		{"é", false, "▁ <0xC3> <0xA9>"},
		// Invalid UTF-8 stays bytes; 0xFF announces a 4-byte sequence, which swallows the "b" as
		// llama.cpp's lead-byte split does.
		{"a\xffb", false, "▁a <0xFF> <0x62>"},
	}
	for _, c := range cases {
		ids, err := tk.Encode(c.in, c.addSpecial)
		if err != nil {
			t.Fatalf("Encode(%q): %v", c.in, err)
		}
		if got := strings.Join(texts(tk, ids), " "); got != c.want {
			t.Errorf("Encode(%q, %v) = %q, want %q", c.in, c.addSpecial, got, c.want)
		}
	}
	ids, _ := tk.Encode("a\xffb<|x|>", false)
	if got := string(tk.Decode(ids)); got != " a\xffb<|x|>" {
		t.Errorf("Decode = %q", got)
	}
	if p := tk.Piece(int32(len(tk.Vocab().Tokens) - 1)); p == nil || len(p) != 0 {
		t.Errorf("unused token piece %q, want empty", p)
	}
	if tk.Piece(-1) != nil || tk.Piece(1<<30) != nil {
		t.Errorf("out-of-range Piece should be nil")
	}
	if got := string(tk.Decode([]int32{1, -5, 1 << 30, 2})); got != "<s></s>" {
		t.Errorf("Decode with bad ids = %q", got)
	}

	// Without byte tokens, bytes fall back to the unknown token.
	tk = tinySPM(t, false)
	ids, err := tk.Encode("ac", false)
	if err != nil || strings.Join(texts(tk, ids), " ") != "▁a <unk>" {
		t.Errorf("no byte tokens: %v %v", texts(tk, ids), err)
	}
}

func TestEmptyText(t *testing.T) {
	for name, want := range map[string][]int32{
		"stories260K.gguf":         {1},
		"ggml-vocab-gpt-2.gguf":    {},
		"ggml-vocab-bert-bge.gguf": {101, 102},
	} {
		tk := load(t, name)
		for _, add := range []bool{true, false} {
			got, err := tk.Encode("", add)
			w := want
			if !add {
				w = nil
			}
			if err != nil || len(got) != len(w) || !slices.Equal(got, w) && len(w) > 0 {
				t.Errorf("%s: Encode(\"\", %v) = %v, %v; want %v", name, add, got, err, w)
			}
		}
	}
}

func TestInvalidUTF8(t *testing.T) {
	gpt := load(t, "ggml-vocab-gpt-2.gguf")
	a, _ := gpt.Encode("ab\xff\xc3cd", false)
	b, _ := gpt.Encode("ab\uFFFD\uFFFDcd", false)
	if !slices.Equal(a, b) {
		t.Errorf("gpt2: invalid bytes %v, U+FFFD %v", a, b)
	}
	// Truncated sequence at the end, and a lone continuation byte.
	a, _ = gpt.Encode("x\xe4\xb8", false)
	b, _ = gpt.Encode("x\uFFFD\uFFFD", false)
	if !slices.Equal(a, b) {
		t.Errorf("gpt2: truncated %v, U+FFFD %v", a, b)
	}
	bert := load(t, "ggml-vocab-bert-bge.gguf")
	a, _ = bert.Encode("hello\xff wor\x80ld", false)
	b, _ = bert.Encode("hello world", false)
	if !slices.Equal(a, b) {
		t.Errorf("bert: invalid bytes %v, dropped %v", a, b)
	}
	spm := load(t, "llama-2-tiny-random.gguf")
	s := "a\xffb\xe2\x96"
	ids, _ := spm.Encode(s, false)
	if got := string(spm.Decode(ids)); got != " "+s {
		t.Errorf("spm: Decode(Encode(%q)) = %q", s, got)
	}
}

func TestPieceString(t *testing.T) {
	for in, want := range map[string]string{
		"":             "",
		" once":        " once",
		"\xec":         "<0xEC>",
		"a\xec\x95b":   "a<0xEC><0x95>b",
		"\uFFFD":       "\uFFFD",
		"안\xff":        "안<0xFF>",
		"\xed\xa0\x80": "<0xED><0xA0><0x80>",
	} {
		if got := PieceString([]byte(in)); got != want {
			t.Errorf("PieceString(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDefaultPreTokenizer(t *testing.T) {
	in := "Hello, world! 12345 x's\u00a0\u0663\u0664"
	cpts := []rune(in)
	var got []string
	for _, s := range pretokenize("", cpts) {
		got = append(got, string(cpts[s.start:s.end]))
	}
	// The punctuation pass runs first, so "'s" is split before the contraction rule sees it.
	want := []string{"Hello", ",", " world", "!", " ", "123", "45", " x", "'", "s", "\u00a0", "\u0663\u0664"}
	if !slices.Equal(got, want) {
		t.Errorf("default pre-tokenizer: %q, want %q", got, want)
	}
	got = got[:0]
	for _, s := range pretokenize("gpt-2", cpts) {
		got = append(got, string(cpts[s.start:s.end]))
	}
	want = []string{"Hello", ",", " world", "!", " 12345", " x", "'s", "\u00a0", "\u0663\u0664"}
	if !slices.Equal(got, want) {
		t.Errorf("gpt-2 pre-tokenizer: %q, want %q", got, want)
	}
}

func TestBERTNormalisation(t *testing.T) {
	tk := load(t, "ggml-vocab-bert-bge.gguf")
	want, _ := tk.Encode("cafe naive", false)
	// Precomposed and decomposed accents, upper case, a lone combining mark, control and format
	// characters (U+200B is Cf) all normalise away.
	for _, s := range []string{"Café naïve", "CAFE\u0301 NAI\u0308VE", "caf\u200be\x00 \u0301naive\x7f"} {
		got, err := tk.Encode(s, false)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("Encode(%q) = %v %q, want %v %q", s, got, texts(tk, got), want, texts(tk, want))
		}
	}
	// A word with a character no piece covers becomes a single [UNK]; punctuation and CJK split.
	got, _ := tk.Encode("ab\u2603cd,中文", false)
	if s := strings.Join(texts(tk, got), " "); s != "[UNK] ▁, ▁中 ▁文" {
		t.Errorf("got %q", s)
	}
}

func TestBERTWithoutSEP(t *testing.T) {
	v := &Vocab{Model: ModelBERT, Tokens: []string{"[UNK]", "▁a"}, UNK: 0, BOS: -1, EOS: -1, PAD: -1, SEP: -1, CLS: -1, MASK: -1}
	tk, err := New(v)
	if err != nil {
		t.Fatal(err)
	}
	if ids, err := tk.Encode("a b", false); err != nil || !slices.Equal(ids, []int32{1, 0}) {
		t.Errorf("Encode = %v, %v", ids, err)
	}
	if _, err := tk.Encode("a", true); err == nil || !strings.Contains(err.Error(), "[CLS] … [SEP]") {
		t.Errorf("Encode with special tokens but no CLS/SEP: %v", err)
	}
}

func TestConcurrentEncode(t *testing.T) {
	tks := []Tokenizer{load(t, "stories260K.gguf"), load(t, "ggml-vocab-gpt-2.gguf"), load(t, "ggml-vocab-bert-bge.gguf")}
	text := "The little dog ran across the park, 안녕하세요 123."
	done := make(chan []int32, 8*len(tks))
	for i := 0; i < 8; i++ {
		for _, tk := range tks {
			go func() {
				ids, _ := tk.Encode(text, true)
				done <- ids
			}()
		}
	}
	for i := 0; i < 8*len(tks); i++ {
		if len(<-done) == 0 {
			t.Error("empty encoding")
		}
	}
}
