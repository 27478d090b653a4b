package tokenizer

import (
	"strings"
	"testing"
	"time"

	"github.com/attnscope/attnscope/internal/shareddata"
)

// longText repeats the stories260K-long prompt (331 tokens) 31 times: about 10,000 tokens for the
// stories260K vocabulary and 25 KB of text.
func longText(tb testing.TB) string {
	tb.Helper()
	p := shareddata.LoadReference(tb, "stories260K-long.json").Prompts[0]
	return strings.TrimSpace(strings.Repeat(p+" ", 31))
}

// BenchmarkEncode tokenizes the ~10k-token text with one vocabulary of each model
// (SPM: stories260K's 512 and Llama-2's 32,000 tokens; BPE: GPT-2; WordPiece: bge).
func BenchmarkEncode(b *testing.B) {
	text := longText(b)
	for _, name := range []string{"stories260K.gguf", "llama-2-tiny-random.gguf", "ggml-vocab-gpt-2.gguf", "ggml-vocab-bert-bge.gguf"} {
		tk := load(b, name)
		b.Run(strings.TrimSuffix(name, ".gguf"), func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			n, iters := 0, 0
			for b.Loop() {
				ids, err := tk.Encode(text, true)
				if err != nil {
					b.Fatal(err)
				}
				n += len(ids)
				iters++
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "tok/s")
			b.ReportMetric(float64(n/max(iters, 1)), "tokens")
		})
	}
}

// BenchmarkDecode renders the pieces of the same text back to bytes.
func BenchmarkDecode(b *testing.B) {
	text := longText(b)
	tk := load(b, "ggml-vocab-gpt-2.gguf")
	ids, err := tk.Encode(text, false)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		tk.Decode(ids)
	}
}

// TestLongTextIsFast guards against quadratic merging: 10k tokens take a few milliseconds. The
// bound is loose (half a second) so that a loaded machine does not fail it.
func TestLongTextIsFast(t *testing.T) {
	text := longText(t)
	for _, name := range []string{"stories260K.gguf", "llama-2-tiny-random.gguf", "ggml-vocab-gpt-2.gguf", "ggml-vocab-bert-bge.gguf"} {
		tk := load(t, name)
		start := time.Now()
		ids, err := tk.Encode(text, true)
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > 500*time.Millisecond {
			t.Errorf("%s: %v to encode %d bytes into %d tokens", name, d, len(text), len(ids))
		}
	}
}
