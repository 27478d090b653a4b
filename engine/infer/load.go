package infer

import (
	"fmt"
	"io"

	"github.com/attnscope/attnscope/engine/backend"
	"github.com/attnscope/attnscope/engine/backend/cpu"
	"github.com/attnscope/attnscope/engine/gguf"
	"github.com/attnscope/attnscope/engine/model"
	"github.com/attnscope/attnscope/engine/tokenizer"

	// The architectures this engine runs.
	_ "github.com/attnscope/attnscope/engine/model/bert"
	_ "github.com/attnscope/attnscope/engine/model/gpt2"
	_ "github.com/attnscope/attnscope/engine/model/llama"
)

// Loaded is a model file opened for inference.
type Loaded struct {
	File  *gguf.File
	Model model.Model
	Tok   tokenizer.Tokenizer
}

// Close releases the file (and the backend's weights).
func (l *Loaded) Close() error {
	l.Model.Backend().Close()
	return l.File.Close()
}

// NewSession starts a session on the loaded model.
func (l *Loaded) NewSession(opts Options) *Session { return New(l.Model, l.Tok, opts) }

// Open loads a GGUF model file with its tokenizer onto be (nil: the CPU backend).
func Open(path string, be backend.Backend) (*Loaded, error) {
	f, err := gguf.Open(path)
	if err != nil {
		return nil, err
	}
	l, err := load(f, be)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return l, nil
}

// Read loads a model from any io.ReaderAt of the given size (a buffer in the browser).
func Read(r io.ReaderAt, size int64, be backend.Backend) (*Loaded, error) {
	f, err := gguf.Read(r, size)
	if err != nil {
		return nil, err
	}
	return load(f, be)
}

func load(f *gguf.File, be backend.Backend) (*Loaded, error) {
	if len(f.Tensors) == 0 {
		return nil, fmt.Errorf("%w: the file holds only a vocabulary, no weights (tokenize works on it, run does not)", model.ErrBadModel)
	}
	if be == nil {
		be = cpu.New(0)
	}
	m, err := model.Load(f, be)
	if err != nil {
		return nil, err
	}
	tok, err := tokenizer.FromGGUF(f)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	if n := len(tok.Vocab().Tokens); n != m.Config().NVocab {
		return nil, fmt.Errorf("%w: the vocabulary has %d tokens but token_embd has %d rows", model.ErrBadModel, n, m.Config().NVocab)
	}
	return &Loaded{File: f, Model: m, Tok: tok}, nil
}
