package infer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/attnscope/attnscope/engine/kvcache"
	"github.com/attnscope/attnscope/engine/model"
	"github.com/attnscope/attnscope/engine/tokenizer"
	"github.com/attnscope/attnscope/engine/trace"
)

// Errors a caller can act on.
var (
	ErrEmptyPrompt = errors.New("the prompt is empty")
	ErrTooLong     = errors.New("the prompt is longer than the model's context")
	ErrNoLMHead    = errors.New("the model has no language-model head (it is an encoder: use embed)")
)

// MaxPromptBytes bounds the text a session accepts (the tokenizer's work is proportional to it).
const MaxPromptBytes = 1 << 22

// Options configure a session.
type Options struct {
	// Context is the most positions the KV cache holds (0: the model's context length).
	Context int
	// Capture records every attention row in the trace (memory grows with n² per head).
	Capture bool
}

// Session evaluates one sequence: a prompt, then generated tokens.
type Session struct {
	M     model.Model
	Tok   tokenizer.Tokenizer
	Cache *kvcache.Cache
	Trace *trace.Trace
	opts  Options
}

// New starts a session with an empty cache.
func New(m model.Model, tok tokenizer.Tokenizer, opts Options) *Session {
	cfg := m.Config()
	s := &Session{M: m, Tok: tok, opts: opts, Cache: model.NewCache(cfg, opts.Context)}
	s.Trace = trace.New(trace.Model{Arch: cfg.Arch, Name: cfg.Name, NLayer: cfg.NLayer, NHead: cfg.NHead,
		NKVHead: cfg.NKVHead, HeadDim: cfg.HeadDim, NEmbd: cfg.NEmbd, NCtx: cfg.NCtx, NVocab: cfg.NVocab, Causal: cfg.Causal},
		trace.Positional{Scheme: cfg.Positional, RopeDims: ropeDims(cfg), RopeBase: ropeBase(cfg), RopeScale: ropeScale(cfg), MaxPositions: cfg.NCtx})
	return s
}

func ropeDims(c *model.Config) int {
	if c.Positional == "rope" {
		return c.RopeDims
	}
	return 0
}
func ropeBase(c *model.Config) float32 {
	if c.Positional == "rope" {
		return c.RopeBase
	}
	return 0
}
func ropeScale(c *model.Config) float32 {
	if c.Positional == "rope" {
		return c.RopeScale
	}
	return 0
}

// Tokenize turns text into ids (with the model's default special tokens when addSpecial) and the
// matching trace tokens with their byte spans in text. Empty, over-long or non-fitting text is an
// error; invalid UTF-8 is tokenized as the tokenizer defines it.
func (s *Session) Tokenize(text string, addSpecial bool) ([]int32, []trace.Token, error) {
	if len(text) == 0 {
		return nil, nil, ErrEmptyPrompt
	}
	if len(text) > MaxPromptBytes {
		return nil, nil, fmt.Errorf("%w: %d bytes (the limit is %d)", ErrTooLong, len(text), MaxPromptBytes)
	}
	ids, err := s.Tok.Encode(text, addSpecial)
	if err != nil {
		return nil, nil, err
	}
	if len(ids) == 0 {
		return nil, nil, fmt.Errorf("%w: no tokens", ErrEmptyPrompt)
	}
	if len(ids) > s.Cache.Capacity() {
		return nil, nil, fmt.Errorf("%w: %d tokens, the context holds %d", ErrTooLong, len(ids), s.Cache.Capacity())
	}
	return ids, s.spans(text, ids), nil
}

// spans locates each token's bytes in text, best effort: pieces are matched in order, case
// folded, allowing for a space the tokenizer inserted (SentencePiece's dummy prefix, WordPiece's
// word starts). Tokens that cannot be placed (special tokens, normalized text) get -1.
func (s *Session) spans(text string, ids []int32) []trace.Token {
	v := s.Tok.Vocab()
	out := make([]trace.Token, len(ids))
	cur := 0
	for i, id := range ids {
		piece := s.Tok.Piece(id)
		out[i] = trace.Token{ID: id, Text: tokenizer.PieceString(piece), Start: -1, End: -1}
		if isSpecial(v, id) {
			out[i].Special = true
			continue
		}
		if hasPrefixFold(text[cur:], piece) {
			out[i].Start, out[i].End = cur, cur+len(piece)
			cur += len(piece)
			continue
		}
		q := bytes.TrimLeft(piece, " ")
		j := cur
		for j < len(text) && (text[j] == ' ' || text[j] == '\t' || text[j] == '\n') {
			j++
		}
		if len(q) > 0 && hasPrefixFold(text[j:], q) {
			out[i].Start, out[i].End = j, j+len(q)
			cur = j + len(q)
		}
	}
	return out
}

// isSpecial reports control tokens (BOS, EOS, [CLS], [SEP], …), which have no span in the text.
func isSpecial(v *tokenizer.Vocab, id int32) bool {
	if int(id) < len(v.Types) && v.Types[id] == tokenizer.TypeControl {
		return true
	}
	switch id {
	case v.BOS, v.EOS, v.CLS, v.SEP, v.PAD, v.MASK:
		return true
	}
	return false
}

func hasPrefixFold(s string, p []byte) bool {
	return len(p) > 0 && len(s) >= len(p) && bytes.EqualFold([]byte(s[:len(p)]), p)
}

// Eval evaluates ids at the end of the sequence, recording trace rows and KV growth. It returns
// the batch with its outputs (logits for every position when allLogits).
func (s *Session) Eval(ids []int32, toks []trace.Token, allLogits bool) (*model.Batch, error) {
	b := &model.Batch{Tokens: ids, Cache: s.Cache, AllLogits: allLogits}
	if s.opts.Capture {
		t := s.Trace
		b.Attn = func(layer, head, pos int, probs []float32) {
			t.Attn[layer][head] = append(t.Attn[layer][head], append([]float32(nil), probs...))
		}
	}
	pos := s.Cache.Len()
	start := time.Now()
	if err := s.M.Eval(b); err != nil {
		s.Cache.Truncate(pos)
		return nil, err
	}
	s.Trace.Tokens = append(s.Trace.Tokens, toks...)
	st := trace.Step{Pos: pos, N: len(ids), Seconds: time.Since(start).Seconds()}
	st.KV.Tokens = s.Cache.Len()
	for l := 0; l < s.M.Config().NLayer; l++ {
		st.KV.BytesPerLayer = append(st.KV.BytesPerLayer, s.Cache.Bytes(l))
		st.KV.CapacityPerLayer = append(st.KV.CapacityPerLayer, s.Cache.Reserved(l))
	}
	s.Trace.Steps = append(s.Trace.Steps, st)
	return b, nil
}

// Prefill tokenizes text (default special tokens) and evaluates it in one batch.
func (s *Session) Prefill(text string, allLogits bool) ([]int32, *model.Batch, error) {
	ids, toks, err := s.Tokenize(text, true)
	if err != nil {
		return nil, nil, err
	}
	b, err := s.Eval(ids, toks, allLogits)
	return ids, b, err
}

// Step evaluates one generated token and returns the logits for the next.
func (s *Session) Step(id int32) ([]float32, error) {
	piece := s.Tok.Piece(id)
	b, err := s.Eval([]int32{id}, []trace.Token{{ID: id, Text: tokenizer.PieceString(piece), Start: -1, End: -1, Generated: true}}, false)
	if err != nil {
		return nil, err
	}
	return b.Logits, nil
}

// GenerateOptions bound a generation.
type GenerateOptions struct {
	MaxTokens int
	Sampler   SamplerOptions
	// AllLogits keeps the prompt's logits for every position in the result.
	AllLogits bool
}

// Result is a finished generation.
type Result struct {
	Prompt       []int32
	Generated    []int32
	Text         []byte    // the generated tokens' bytes, without the prompt
	PromptLogits []float32 // (len(Prompt), NVocab) when AllLogits
	StoppedAtEOS bool
	PrefillSecs  float64
	DecodeSecs   float64
}

// Generate prefills text and samples up to MaxTokens tokens, stopping at end-of-sequence, when
// the context is full or when ctx is done. emit (optional) sees each token as it is produced and
// may stop generation by returning false.
func (s *Session) Generate(ctx context.Context, text string, g GenerateOptions, emit func(id int32, piece []byte) bool) (*Result, error) {
	if !s.M.HasLMHead() {
		return nil, ErrNoLMHead
	}
	if err := g.Sampler.Validate(); err != nil {
		return nil, err
	}
	if g.MaxTokens < 0 {
		return nil, fmt.Errorf("max tokens %d is negative", g.MaxTokens)
	}
	t0 := time.Now()
	ids, b, err := s.Prefill(text, g.AllLogits)
	if err != nil {
		return nil, err
	}
	res := &Result{Prompt: ids, PrefillSecs: time.Since(t0).Seconds()}
	nv := s.M.Config().NVocab
	logits := b.Logits
	if g.AllLogits {
		res.PromptLogits = b.Logits
		logits = b.Logits[(len(ids)-1)*nv:]
	}
	smp := NewSampler(g.Sampler)
	eos := s.Tok.Vocab().EOS
	t1 := time.Now()
	for len(res.Generated) < g.MaxTokens {
		if err := ctx.Err(); err != nil {
			break
		}
		id := smp.Sample(logits)
		res.Generated = append(res.Generated, id)
		piece := s.Tok.Piece(id)
		res.Text = append(res.Text, piece...)
		if emit != nil && !emit(id, piece) {
			break
		}
		if id == eos {
			res.StoppedAtEOS = true
			break
		}
		if len(res.Generated) == g.MaxTokens || s.Cache.Len() >= s.Cache.Capacity() {
			break
		}
		if logits, err = s.Step(id); err != nil {
			return res, err
		}
	}
	res.DecodeSecs = time.Since(t1).Seconds()
	return res, nil
}

// Embed evaluates text with an encoder and returns the final hidden states (n, NEmbd) and the
// model's pooled vector (nil when its pooling type is none).
func (s *Session) Embed(text string) (ids []int32, hidden, pooled []float32, err error) {
	ids, b, err := s.Prefill(text, false)
	if err != nil {
		return nil, nil, nil, err
	}
	cfg := s.M.Config()
	return ids, b.Hidden, model.Pool(cfg.Pooling, b.Hidden, len(ids), cfg.NEmbd), nil
}
