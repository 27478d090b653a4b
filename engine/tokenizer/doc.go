// Package tokenizer builds tokenizers from the vocabulary metadata of a GGUF file
// (tokenizer.ggml.*) and reproduces llama.cpp's tokenization (build b4747) exactly:
//
//   - "llama": SentencePiece-style BPE driven by token scores, with the dummy-prefix space, spaces
//     escaped as ▁ and byte fallback to <0xNN> tokens; BOS added by default.
//   - "gpt2": byte-level BPE with ranked merges after the GPT-2 pre-tokenizer (hand-written, since
//     its regex needs lookahead), or llama.cpp's default pre-tokenizer when tokenizer.ggml.pre is
//     absent or "default"; nothing added by default.
//   - "bert": WordPiece on lowercased, accent-stripped, punctuation-split words, framed by
//     [CLS] … [SEP]. Normalisation follows Hugging Face's BertTokenizer (full NFD), which differs
//     from llama.cpp only where llama.cpp keeps just the first codepoint of a decomposition
//     (notably Hangul syllables); see wpm.go.
//
// Text is always tokenized with llama.cpp's parse_special = false: special-token text in the
// input is plain text. User-defined tokens (type 4) are still matched first, as llama.cpp does.
//
// Invalid UTF-8 never panics. "llama" works on bytes and keeps invalid bytes as byte tokens, so
// nothing is lost. "gpt2" and "bert" decode codepoints the way llama.cpp does (lenient about
// overlong forms and surrogates); every byte that does not start a decodable sequence becomes
// U+FFFD, which gpt2 encodes as the tokens of EF BF BD and bert drops.
//
// Imports: the standard library, engine/gguf (metadata access) and golang.org/x/text/unicode/norm
// (canonical decomposition for bert).
package tokenizer
