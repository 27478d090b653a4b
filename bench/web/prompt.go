package main

import (
	"fmt"
	"strings"

	"github.com/attnscope/attnscope/engine/gguf"
	"github.com/attnscope/attnscope/engine/tokenizer"
)

// benchText is the text bench/wasm and `attnscope bench` tokenize and repeat for their prompts.
const benchText = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her friends. One day, she found a shiny red ball under a big tree. "

// promptText returns a prefix of benchText repeated that the model's tokenizer turns into
// exactly n tokens (its special prefix, BOS, included), for engines that take text, not ids.
// The tokenizer reproduces llama.cpp's; the wllama page checks the count llama.cpp reports.
func promptText(path string, n int) (string, error) {
	f, err := gguf.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	tok, err := tokenizer.FromGGUF(f)
	if err != nil {
		return "", fmt.Errorf("%s: tokenizer: %w", path, err)
	}
	count := func(s string) (int, error) {
		ids, err := tok.Encode(s, true)
		return len(ids), err
	}
	text := benchText
	for {
		c, err := count(text)
		if err != nil {
			return "", fmt.Errorf("%s: tokenizing the prompt: %w", path, err)
		}
		if c >= n {
			break
		}
		if len(text) > 1<<20 {
			return "", fmt.Errorf("%s: the tokenizer makes too few tokens of the benchmark text", path)
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
				return prefix, nil
			}
			if any == "" {
				any = prefix
			}
		}
	}
	if any == "" {
		return "", fmt.Errorf("%s: no prefix of the benchmark text makes exactly %d tokens", path, n)
	}
	return strings.Clone(any), nil
}
