package synth

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/attnscope/attnscope/engine/gguf"
	"github.com/attnscope/attnscope/engine/quant"
	"github.com/attnscope/attnscope/engine/tokenizer"
)

const english = "Once upon a time, there was a little girl named Lily. She liked to play in the park with her dog.\n" +
	"The quick brown fox jumps over the lazy dog! Why? Because 42 is the answer (and 7% of it).\n" +
	"Tom said: \"Let's go home\" - and they went back to the house together before it was night."

func TestTokenizerRoundTrip(t *testing.T) {
	for _, arch := range []string{"llama", "gpt2"} {
		for _, n := range []int{600, 5000, 32000} {
			o := small(arch, quant.F32, 1)
			o.Vocab = n
			f := parse(t, generate(t, o))
			tok, err := tokenizer.FromGGUF(f)
			if err != nil {
				t.Fatalf("%s %d: %v", arch, n, err)
			}
			ids, err := tok.Encode(english, false)
			if err != nil {
				t.Fatal(err)
			}
			want := english
			if arch == "llama" {
				want = " " + english // the dummy-prefix space
			}
			if got := string(tok.Decode(ids)); got != want {
				t.Errorf("%s %d: round trip gave %q", arch, n, got)
			}
			// Common words are single tokens, so text takes far fewer tokens than bytes.
			if n >= 5000 && len(ids) > len(english)/3 || len(ids) > len(english)*3/4 {
				t.Errorf("%s %d: %d tokens for %d bytes", arch, n, len(ids), len(english))
			}
			for _, w := range []string{" the", " little", " girl", " Once", " She", "The"} {
				if arch == "llama" {
					w = strings.TrimPrefix(w, " ") // the dummy prefix adds the space
				}
				if got, _ := tok.Encode(w, false); len(got) != 1 && n >= 5000 {
					t.Errorf("%s %d: %q is %d tokens", arch, n, w, len(got))
				}
			}
			withSpecial, _ := tok.Encode("hi", true)
			v := tok.Vocab()
			if arch == "llama" && (withSpecial[0] != 1 || v.BOS != 1 || v.EOS != 2 || v.UNK != 0) {
				t.Errorf("llama specials: %v, BOS %d EOS %d UNK %d", withSpecial, v.BOS, v.EOS, v.UNK)
			}
			if arch == "gpt2" && (v.BOS != int32(n-1) || v.EOS != int32(n-1) || v.Tokens[n-1] != "<|endoftext|>") {
				t.Errorf("gpt2 specials: BOS %d EOS %d", v.BOS, v.EOS)
			}
		}
	}
}

func TestGPT2MergesConsistent(t *testing.T) {
	v := gpt2Vocab(20000)
	if len(v.tokens) != 20000 || len(v.merges) != 20000-257 {
		t.Fatalf("%d tokens, %d merges", len(v.tokens), len(v.merges))
	}
	id := map[string]int{}
	for i, s := range v.tokens {
		if _, dup := id[s]; dup {
			t.Fatalf("token %q twice", s)
		}
		id[s] = i
	}
	for i, m := range v.merges {
		l, r, ok := strings.Cut(m, " ")
		li, lok := id[l]
		ri, rok := id[r]
		if !ok || !lok || !rok || v.tokens[256+i] != l+r {
			t.Fatalf("merge %d %q: operands or result missing (token %q)", i, m, v.tokens[256+i])
		}
		if li >= 256+i || ri >= 256+i {
			t.Fatalf("merge %d %q uses a later token", i, m)
		}
	}
	// GPT-2's own first tokens and byte symbols.
	if v.tokens[0] != "!" || v.tokens[93] != "~" || v.tokens[188] != "Ā" || v.tokens[255] != "Ń" || v.merges[0] != "Ġ t" {
		t.Errorf("tokens 0, 93, 188, 255: %q %q %q %q; merge 0 %q", v.tokens[0], v.tokens[93], v.tokens[188], v.tokens[255], v.merges[0])
	}
	sym, _ := gpt2ByteSymbols()
	if sym[' '] != "Ġ" || sym['\n'] != "Ċ" || sym['a'] != "a" || sym[0xAD] != "Ń" {
		t.Errorf("byte symbols: space %q newline %q", sym[' '], sym['\n'])
	}
}

func TestLlamaVocab(t *testing.T) {
	v := llamaVocab(32000)
	if len(v.tokens) != 32000 || len(v.scores) != 32000 || len(v.types) != 32000 {
		t.Fatalf("%d tokens, %d scores, %d types", len(v.tokens), len(v.scores), len(v.types))
	}
	want := map[int][2]string{0: {"<unk>", "2"}, 1: {"<s>", "3"}, 2: {"</s>", "3"}, 3: {"<0x00>", "6"}, 13: {"<0x0A>", "6"},
		258: {"<0xFF>", "6"}, 259: {"▁", "1"}, 260: {"!", "1"}, 353: {"~", "1"}, 354: {"▁t", "1"}}
	for i, w := range want {
		if v.tokens[i] != w[0] || fmt.Sprint(v.types[i]) != w[1] {
			t.Errorf("token %d: %q type %d, want %q type %s", i, v.tokens[i], v.types[i], w[0], w[1])
		}
	}
	in := map[string]bool{}
	for i, s := range v.tokens {
		if in[s] {
			t.Fatalf("token %q twice", s)
		}
		in[s] = true
		if i > MinVocabLlama && v.scores[i] >= v.scores[i-1] {
			t.Fatalf("scores do not decrease at %d", i)
		}
		if i < MinVocabLlama && v.scores[i] != 0 {
			t.Fatalf("special or byte token %d has score %g", i, v.scores[i])
		}
	}
	// Every merged piece is two earlier pieces joined, so the SentencePiece merges reach it.
	have := map[string]bool{}
	for _, s := range v.tokens[MinVocabLlama : MinVocabLlama+95] {
		have[s] = true
	}
	for i, m := range mergeList("▁", 32000-MinVocabLlama-95, have) {
		j := MinVocabLlama + 95 + i
		if v.tokens[j] != m[0]+m[1] || !slices.Contains(v.tokens[:j], m[0]) || !slices.Contains(v.tokens[:j], m[1]) {
			t.Fatalf("piece %d %q is not two earlier pieces %q joined", j, v.tokens[j], m)
		}
		if i > 2000 {
			break
		}
	}
	if n := len(llamaVocab(MinVocabLlama).tokens); n != MinVocabLlama {
		t.Errorf("smallest vocabulary has %d tokens", n)
	}
	if n := len(gpt2Vocab(MinVocabGPT2).tokens); n != MinVocabGPT2 {
		t.Errorf("smallest gpt2 vocabulary has %d tokens", n)
	}
}

// TestMetadata checks the keys, their GGUF types and the tensors against what llama.cpp writes
// (compare /work/shared/models: stories260K.gguf, llama-2-tiny-random.gguf, tiny-gpt2-synthetic*).
func TestMetadata(t *testing.T) {
	type kv struct {
		key string
		typ gguf.ValueType
		val any
	}
	u32, f32, str, arr, boolean := gguf.TypeUint32, gguf.TypeFloat32, gguf.TypeString, gguf.TypeArray, gguf.TypeBool
	cases := []struct {
		arch    string
		typ     quant.Type
		keys    []kv
		tensors []string
	}{
		{"llama", quant.Q8_0, []kv{
			{"general.architecture", str, "llama"}, {"general.name", str, "synth-llama"},
			{"llama.context_length", u32, uint32(64)}, {"llama.embedding_length", u32, uint32(64)},
			{"llama.block_count", u32, uint32(2)}, {"llama.feed_forward_length", u32, uint32(128)},
			{"llama.rope.dimension_count", u32, uint32(16)}, {"llama.attention.head_count", u32, uint32(4)},
			{"llama.attention.head_count_kv", u32, uint32(2)}, {"llama.attention.layer_norm_rms_epsilon", f32, float32(1e-5)},
			{"general.file_type", u32, uint32(7)}, {"tokenizer.ggml.model", str, "llama"},
			{"tokenizer.ggml.tokens", arr, nil}, {"tokenizer.ggml.scores", arr, nil}, {"tokenizer.ggml.token_type", arr, nil},
			{"tokenizer.ggml.bos_token_id", u32, uint32(1)}, {"tokenizer.ggml.eos_token_id", u32, uint32(2)},
			{"tokenizer.ggml.unknown_token_id", u32, uint32(0)}, {"tokenizer.ggml.add_bos_token", boolean, true},
			{"tokenizer.ggml.add_eos_token", boolean, false}, {"general.quantization_version", u32, uint32(2)},
		}, []string{
			"token_embd.weight Q8_0 [64 600]", "output_norm.weight F32 [64]", "output.weight Q8_0 [64 600]",
			"blk.0.attn_norm.weight F32 [64]", "blk.0.attn_q.weight Q8_0 [64 64]", "blk.0.attn_k.weight Q8_0 [64 32]",
			"blk.0.attn_v.weight Q8_0 [64 32]", "blk.0.attn_output.weight Q8_0 [64 64]", "blk.0.ffn_norm.weight F32 [64]",
			"blk.0.ffn_gate.weight Q8_0 [64 128]", "blk.0.ffn_up.weight Q8_0 [64 128]", "blk.0.ffn_down.weight Q8_0 [128 64]",
		}},
		{"gpt2", quant.F16, []kv{
			{"general.architecture", str, "gpt2"}, {"general.name", str, "synth-gpt2"},
			{"gpt2.context_length", u32, uint32(64)}, {"gpt2.embedding_length", u32, uint32(64)},
			{"gpt2.block_count", u32, uint32(2)}, {"gpt2.feed_forward_length", u32, uint32(128)},
			{"gpt2.attention.head_count", u32, uint32(4)}, {"gpt2.attention.layer_norm_epsilon", f32, float32(1e-5)},
			{"general.file_type", u32, uint32(1)}, {"tokenizer.ggml.model", str, "gpt2"}, {"tokenizer.ggml.pre", str, "gpt-2"},
			{"tokenizer.ggml.tokens", arr, nil}, {"tokenizer.ggml.token_type", arr, nil}, {"tokenizer.ggml.merges", arr, nil},
			{"tokenizer.ggml.bos_token_id", u32, uint32(599)}, {"tokenizer.ggml.eos_token_id", u32, uint32(599)},
		}, []string{
			"token_embd.weight F16 [64 600]", "position_embd.weight F16 [64 64]",
			"blk.0.attn_norm.weight F32 [64]", "blk.0.attn_norm.bias F32 [64]", "blk.0.attn_qkv.weight F16 [64 192]",
			"blk.0.attn_qkv.bias F32 [192]", "blk.0.attn_output.weight F16 [64 64]", "blk.0.attn_output.bias F32 [64]",
			"blk.0.ffn_norm.weight F32 [64]", "blk.0.ffn_norm.bias F32 [64]", "blk.0.ffn_up.weight F16 [64 128]",
			"blk.0.ffn_up.bias F32 [128]", "blk.0.ffn_down.weight F16 [128 64]", "blk.0.ffn_down.bias F32 [64]",
		}},
	}
	for _, c := range cases {
		f := parse(t, generate(t, small(c.arch, c.typ, 1)))
		if len(f.KVs) != len(c.keys) {
			t.Errorf("%s: %d metadata entries, want %d", c.arch, len(f.KVs), len(c.keys))
		}
		for i, k := range c.keys {
			if i >= len(f.KVs) {
				break
			}
			got := f.KVs[i]
			if got.Key != k.key || got.Value.Type != k.typ || (k.val != nil && got.Value.V != k.val) {
				t.Errorf("%s: entry %d is %s %s %v, want %s %s %v", c.arch, i, got.Key, got.Value.Type, got.Value.V, k.key, k.typ, k.val)
			}
		}
		if f.Alignment != gguf.DefaultAlignment {
			t.Errorf("%s: alignment %d", c.arch, f.Alignment)
		}
		per := len(c.tensors) - 3 // per layer
		if c.arch == "gpt2" {
			per = len(c.tensors) - 2
		}
		for i, want := range c.tensors {
			ti := f.Tensors[i]
			if got := fmt.Sprintf("%s %s %v", ti.Name, ti.Type, ti.Dims); got != want {
				t.Errorf("%s: tensor %d is %s, want %s", c.arch, i, got, want)
			}
		}
		if n := len(f.Tensors); n != len(c.tensors)+per+map[string]int{"llama": 0, "gpt2": 3}[c.arch] {
			t.Errorf("%s: %d tensors", c.arch, n)
		}
		last := f.Tensors[len(f.Tensors)-1]
		if c.arch == "gpt2" && (last.Name != "output.weight" || f.Tensors[len(f.Tensors)-2].Name != "output_norm.bias") {
			t.Errorf("gpt2: last tensors %s, %s", f.Tensors[len(f.Tensors)-2].Name, last.Name)
		}
		// Norm weights are 1, biases 0.
		nw, _ := f.Tensor("blk.1.ffn_norm.weight")
		d, _ := f.TensorData(nw)
		if d[0] != 0 || d[1] != 0 || d[2] != 0x80 || d[3] != 0x3f {
			t.Errorf("%s: norm weight bytes % x", c.arch, d[:4])
		}
	}
	// Under a quantized type gpt2's position embeddings stay F32, as llama-quantize leaves them.
	f := parse(t, generate(t, small("gpt2", quant.Q4_0, 1)))
	if pe, _ := f.Tensor("position_embd.weight"); pe.Type != quant.F32 {
		t.Errorf("q4_0 position_embd is %s", pe.Type)
	}
	if te, _ := f.Tensor("token_embd.weight"); te.Type != quant.Q4_0 {
		t.Errorf("q4_0 token_embd is %s", te.Type)
	}
}
