package train

// The models use a byte-level vocabulary in GPT-2's format (tokenizer.ggml.model "gpt2") with
// no merges: token i < 256 is one byte, in GPT-2's order, and token 256 is <|endoftext|>, the
// BOS and EOS. Every character of the tasks' ASCII text is thus one token, and both this
// engine's tokenizer and llama.cpp's load it for either architecture.

// VocabSize is the number of tokens: 256 bytes and <|endoftext|>.
const VocabSize = 257

// EOT is <|endoftext|>: the first token of every sequence and the end of every answer.
const EOT int32 = 256

// byteOrder is GPT-2's byte order of the first 256 tokens, and byteSym each byte's symbol:
// the bytes that stand for themselves (! … ~, ¡ … ¬, ® … ÿ) first, then the others, which map
// to U+0100 onwards in byte order.
var byteOrder, byteSym, byteID = func() ([]byte, [256]string, [256]int32) {
	self := func(b int) bool { return b >= '!' && b <= '~' || b >= 0xA1 && b <= 0xAC || b >= 0xAE }
	var sym [256]string
	var id [256]int32
	var order, rest []byte
	next := rune(0x100)
	for b := range 256 {
		if self(b) {
			sym[b] = string(rune(b))
			order = append(order, byte(b))
		} else {
			sym[b] = string(next)
			next++
			rest = append(rest, byte(b))
		}
	}
	order = append(order, rest...)
	for i, b := range order {
		id[b] = int32(i)
	}
	return order, sym, id
}()

// Encode maps text to token ids, one per byte.
func Encode(text string) []int32 {
	ids := make([]int32, len(text))
	for i := 0; i < len(text); i++ {
		ids[i] = byteID[text[i]]
	}
	return ids
}

// Decode maps token ids back to text; <|endoftext|> and ids out of range are skipped.
func Decode(ids []int32) string {
	b := make([]byte, 0, len(ids))
	for _, id := range ids {
		if id >= 0 && id < 256 {
			b = append(b, byteOrder[id])
		}
	}
	return string(b)
}

// vocabTokens returns the token strings and types (1 normal, 3 control) of the vocabulary.
func vocabTokens() ([]string, []int32) {
	toks := make([]string, 0, VocabSize)
	types := make([]int32, 0, VocabSize)
	for _, b := range byteOrder {
		toks = append(toks, byteSym[b])
		types = append(types, 1)
	}
	return append(toks, "<|endoftext|>"), append(types, 3)
}
