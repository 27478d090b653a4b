package main

import (
	"fmt"
	"io"

	"github.com/attnscope/attnscope/engine/gguf"
	"github.com/attnscope/attnscope/engine/infer"
	"github.com/attnscope/attnscope/engine/tokenizer"
)

func cmdTokenize(args []string, stdout io.Writer) error {
	fs := newFlags("tokenize")
	var mf modelFlags
	mf.register(fs, true)
	noSpecial := fs.Bool("no-special", false, "do not add the model's special tokens (BOS, [CLS]/[SEP])")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := mf.check(fs, true); err != nil {
		return err
	}
	if len(mf.prompt) > infer.MaxPromptBytes {
		return fmt.Errorf("%w: %d bytes (the limit is %d)", infer.ErrTooLong, len(mf.prompt), infer.MaxPromptBytes)
	}
	// Only the vocabulary is needed: this works on vocabulary-only files too.
	f, err := gguf.Open(mf.model)
	if err != nil {
		return err
	}
	defer f.Close()
	tok, err := tokenizer.FromGGUF(f)
	if err != nil {
		return fmt.Errorf("%s: tokenizer: %w", mf.model, err)
	}
	ids, err := tok.Encode(mf.prompt, !*noSpecial)
	if err != nil {
		return err
	}
	pieces := make([]string, len(ids))
	for i, id := range ids {
		pieces[i] = tokenizer.PieceString(tok.Piece(id))
	}
	if mf.json {
		if ids == nil {
			ids = []int32{}
		}
		return writeJSON(stdout, struct {
			IDs    []int32  `json:"ids"`
			Pieces []string `json:"pieces"`
		}{ids, pieces})
	}
	for i, id := range ids {
		fmt.Fprintf(stdout, "%6d  %q\n", id, pieces[i])
	}
	fmt.Fprintf(stdout, "%d tokens\n", len(ids))
	return nil
}
