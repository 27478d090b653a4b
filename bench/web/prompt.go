package main

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/attnscope/attnscope/engine/gguf"
	"github.com/attnscope/attnscope/engine/tokenizer"
)

// benchText is the text bench/wasm and `attnscope bench` tokenize and repeat for their prompts.
const benchText = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her friends. One day, she found a shiny red ball under a big tree. "

// promptText returns a prefix of benchText repeated that the model's tokenizer turns into
// exactly n tokens (its special prefix, BOS, included), for engines that take text, not ids.
// The tokenizer reproduces llama.cpp's; the wllama page checks the count llama.cpp reports.
func promptText(path string, n int) (string, error) {
	text, _, err := promptAndBans(path, n)
	return text, err
}

// promptAndBans is promptText and the ids of the tokens whose text is not valid UTF-8 on its own
// (byte tokens 0x80–0xFF, broken pieces). A model with random weights generates them, and
// llama.cpp's server (inside wllama) fails to put them into its JSON answer; the wllama page
// gives them a logit bias of −∞, which changes which tokens come out, not the work per token.
func promptAndBans(path string, n int) (string, []int32, error) {
	text, tok, err := promptTextTok(path, n)
	if err != nil {
		return "", nil, err
	}
	v := tok.Vocab()
	bans := []int32{}
	for id, piece := range v.Tokens {
		typ := tokenizer.TypeNormal
		if id < len(v.Types) {
			typ = v.Types[id]
		}
		var b byte
		if typ == tokenizer.TypeByte {
			if _, err := fmt.Sscanf(piece, "<0x%02X>", &b); err == nil && b >= 0x80 {
				bans = append(bans, int32(id))
			}
			continue
		}
		if !utf8.ValidString(piece) {
			bans = append(bans, int32(id))
		}
	}
	return text, bans, nil
}

func promptTextTok(path string, n int) (string, tokenizer.Tokenizer, error) {
	f, err := gguf.Open(path)
	if err != nil {
		return "", nil, err
	}
	defer f.Close()
	tok, err := tokenizer.FromGGUF(f)
	if err != nil {
		return "", nil, fmt.Errorf("%s: tokenizer: %w", path, err)
	}
	count := func(s string) (int, error) {
		ids, err := tok.Encode(s, true)
		return len(ids), err
	}
	text := benchText
	for {
		c, err := count(text)
		if err != nil {
			return "", nil, fmt.Errorf("%s: tokenizing the prompt: %w", path, err)
		}
		if c >= n {
			break
		}
		if len(text) > 1<<20 {
			return "", nil, fmt.Errorf("%s: the tokenizer makes too few tokens of the benchmark text", path)
		}
		text += benchText
	}
	// The shortest prefix ending before a space with n tokens, else any prefix with n tokens.
	var any string
	for end := 1; end <= len(text); end++ {
		prefix := text[:end]
		c, err := count(prefix)
		if err != nil {
			continue // a prefix that ends inside a UTF-8 sequence
		}
		if c > n {
			break
		}
		if c == n {
			if end == len(text) || text[end] == ' ' {
				return prefix, tok, nil
			}
			if any == "" {
				any = prefix
			}
		}
	}
	if any == "" {
		return "", nil, fmt.Errorf("%s: no prefix of the benchmark text makes exactly %d tokens", path, n)
	}
	return strings.Clone(any), tok, nil
}
