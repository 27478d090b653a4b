package model

import (
	"fmt"

	"github.com/attnscope/attnscope/engine/backend"
	"github.com/attnscope/attnscope/engine/gguf"
)

// Base holds what every architecture keeps besides its weights and implements the Model methods
// that only report it. Architectures embed it.
type Base struct {
	Cfg   *Config
	BE    backend.Backend
	Bytes int64 // weight storage
}

// Config implements Model.
func (b *Base) Config() *Config { return b.Cfg }

// Backend implements Model.
func (b *Base) Backend() backend.Backend { return b.BE }

// WeightBytes implements Model.
func (b *Base) WeightBytes() int64 { return b.Bytes }

// maxVocab bounds the rows of a token embedding a file may declare.
const maxVocab = 1 << 24

// VocabSize reads the vocabulary size from the token embedding token_embd.weight, (nVocab, nEmbd).
func VocabSize(f *gguf.File) (int, error) {
	te, ok := f.Tensor("token_embd.weight")
	if !ok || len(te.Dims) != 2 {
		return 0, fmt.Errorf("%w: tensor token_embd.weight is missing or not a matrix", ErrBadModel)
	}
	if te.Dims[1] > maxVocab {
		return 0, fmt.Errorf("%w: vocabulary of %d tokens (at most %d)", ErrBadModel, te.Dims[1], maxVocab)
	}
	return int(te.Dims[1]), nil
}

// LMHead finishes a decoder's evaluation: x (n, NEmbd) holds the final normalized states, which
// become b.Hidden, and the logits of every position (AllLogits) or of the last one are computed
// with the output matrix into b.Logits, reusing its storage when it is large enough.
func LMHead(b *Batch, be backend.Backend, output backend.Weight, x []float32, n int, cfg *Config) {
	b.Hidden = x
	if b.AllLogits {
		b.Logits = Output(b.Logits, n*cfg.NVocab)
		be.MatMul(b.Logits, output, x, n)
		return
	}
	b.Logits = Output(b.Logits, cfg.NVocab)
	be.MatMul(b.Logits, output, x[(n-1)*cfg.NEmbd:], 1)
}
