package infer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/attnscope/attnscope/engine/backend/cpu"
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
	// KVType is how the KV cache stores keys and values: kvcache.F32 (the default: what was
	// computed, and llama.cpp's attention to the bit in ComputeGGML) or kvcache.F16 (half the
	// memory, and half the bytes a generated token's attention reads).
	KVType kvcache.Type
	// Capture records attention in the trace, as Mode says.
	Capture bool
	// Mode is what Capture records (see trace.Capture*): CaptureAuto (the default when Capture
	// is set) holds exact rows while they take at most AutoExactBytes and ExactLimit tokens and
	// pools beyond; "exact" every row, refusing sequences over ExactLimit; "pooled" a pooled map
	// per layer and head plus the rows of Rows; "none" nothing. A Mode set without Capture
	// applies too.
	Mode string
	// ExactLimit is the most tokens exact capture holds (0: DefaultExactLimit).
	ExactLimit int
	// Rows are query positions whose whole rows pooled capture keeps (at most MaxRows).
	Rows []int
	// PoolCells is the most cells a pooled map has along an axis (0: as many as keep all maps
	// within PoolBytes, at most trace.MaxCells).
	PoolCells int
	// Window and Global restrict attention: each query sees its last Window keys (0: all) and
	// the Global positions see and are seen by every position. They change the model's outputs.
	Window int
	Global []int
}

// CaptureAuto is the Mode that chooses exact or pooled capture by the sequence's length.
const CaptureAuto = "auto"

// Bounds of capture.
const (
	DefaultExactLimit = 4096     // tokens of exact capture
	MaxExactBytes     = 2 << 30  // exact rows any capture holds
	AutoExactBytes    = 64 << 20 // exact rows auto capture holds before it pools
	PoolBytes         = 24 << 20 // all pooled maps together, unless PoolCells says otherwise
	MaxRows           = 64       // whole rows a pooled trace keeps
	// Chunk is the most tokens a causal model evaluates at once: a longer prompt runs in chunks,
	// so that activations stay the size of a chunk (llama.cpp's default micro-batch).
	Chunk = 512
)

// mode is the capture mode o asks for.
func (o *Options) mode() string {
	if o.Mode != "" {
		return o.Mode
	}
	if o.Capture {
		return CaptureAuto
	}
	return trace.CaptureNone
}

// Validate checks the options against a model of context nCtx.
func (o *Options) Validate(nCtx int) error {
	switch o.mode() {
	case CaptureAuto, trace.CaptureExact, trace.CapturePooled, trace.CaptureNone:
	default:
		return fmt.Errorf("capture mode %q is not one of auto, exact, pooled, none", o.Mode)
	}
	if o.ExactLimit < 0 || o.PoolCells < 0 || o.PoolCells > trace.MaxCells {
		return fmt.Errorf("exact limit %d and pooled cells %d must not be negative (cells at most %d)", o.ExactLimit, o.PoolCells, trace.MaxCells)
	}
	if len(o.Rows) > MaxRows {
		return fmt.Errorf("%d rows asked for, at most %d are kept", len(o.Rows), MaxRows)
	}
	if err := ascending("row", o.Rows, nCtx); err != nil {
		return err
	}
	if o.Window < 0 {
		return fmt.Errorf("attention window %d is negative", o.Window)
	}
	if len(o.Global) > 0 && o.Window == 0 {
		return errors.New("global tokens need a window (without one every token sees all keys already)")
	}
	return ascending("global position", o.Global, nCtx)
}

// ascending checks that x ascends strictly within [0, n).
func ascending(what string, x []int, n int) error {
	for i, v := range x {
		if v < 0 || v >= n {
			return fmt.Errorf("%s %d is outside the context (0..%d)", what, v, n-1)
		}
		if i > 0 && v <= x[i-1] {
			return fmt.Errorf("%s %d follows %d: positions must ascend", what, v, x[i-1])
		}
	}
	return nil
}

// Session evaluates one sequence: a prompt, then generated tokens.
type Session struct {
	M     model.Model
	Tok   tokenizer.Tokenizer
	Cache *kvcache.Cache
	Trace *trace.Trace
	opts  Options
	err   error // invalid options, reported by Eval
	exact bool  // the backend needs llama.cpp's attention order (ComputeGGML)
	// allHidden keeps the final states of every position of a prompt evaluated in chunks.
	allHidden bool
	// ahead is the positions the caller will add after the next evaluation (Generate's tokens
	// to come), which Eval reserves with it.
	ahead int
}

// New starts a session with an empty cache. Invalid options make every Eval fail with the reason.
func New(m model.Model, tok tokenizer.Tokenizer, opts Options) *Session {
	cfg := m.Config()
	s := &Session{M: m, Tok: tok, opts: opts, Cache: model.NewCacheOf(cfg, opts.Context, opts.KVType)}
	s.Trace = trace.New(trace.Model{Arch: cfg.Arch, Name: cfg.Name, NLayer: cfg.NLayer, NHead: cfg.NHead,
		NKVHead: cfg.NKVHead, HeadDim: cfg.HeadDim, NEmbd: cfg.NEmbd, NCtx: cfg.NCtx, NVocab: cfg.NVocab, Causal: cfg.Causal},
		trace.Positional{Scheme: cfg.Positional, RopeDims: ropeDims(cfg), RopeBase: ropeBase(cfg), RopeScale: ropeScale(cfg), MaxPositions: cfg.NCtx})
	s.Trace.Window, s.Trace.Global = opts.Window, opts.Global
	if c, ok := m.Backend().(interface{ Compute() cpu.Compute }); ok && c.Compute() == cpu.ComputeGGML {
		s.exact = true
	}
	s.err = opts.Validate(s.Cache.Capacity())
	switch opts.mode() {
	case trace.CaptureNone:
		s.Trace.Capture = trace.CaptureNone
	case trace.CapturePooled:
		if s.err == nil {
			s.err = s.Trace.UsePooled(s.poolCells(), opts.Rows)
		}
	}
	return s
}

// poolCells is the most cells a pooled map of this session has along an axis.
func (s *Session) poolCells() int {
	if s.opts.PoolCells > 0 {
		return s.opts.PoolCells
	}
	cfg := s.M.Config()
	maps := int64(cfg.NLayer) * int64(cfg.NHead)
	c := int(math.Sqrt(float64(PoolBytes) / float64(8*maps)))
	return max(1, min(trace.MaxCells, c))
}

// exactLimit is the most tokens exact capture holds.
func (s *Session) exactLimit() int {
	if s.opts.ExactLimit > 0 {
		return s.opts.ExactLimit
	}
	return DefaultExactLimit
}

// prepareCapture readies the trace for a sequence of n tokens: exact capture refuses n over its
// limit, auto capture switches to pooling (pooling the rows it held) when n passes its bound, and
// pooled maps grow to cover n.
func (s *Session) prepareCapture(n int) error {
	t := s.Trace
	switch s.opts.mode() {
	case trace.CaptureExact:
		if n > s.exactLimit() {
			return fmt.Errorf("exact attention capture holds at most %d tokens, the sequence has %d: capture pooled (or none)", s.exactLimit(), n)
		}
		if b := s.exactBytes(n); b > MaxExactBytes {
			return fmt.Errorf("exact attention capture of %d tokens would hold %.1f GiB of rows (at most %d GiB): capture pooled (or none)", n, float64(b)/(1<<30), MaxExactBytes>>30)
		}
	case CaptureAuto:
		if t.Capture == trace.CaptureExact && n > s.autoExactTokens() {
			if err := s.poolHeld(); err != nil {
				return err
			}
		}
	}
	if t.Capture == trace.CapturePooled {
		t.Cover(n)
	}
	return nil
}

// exactBytes is what the exact rows of a sequence of n tokens take: per layer and head
// n(n+1)/2 probabilities for a causal model, n² for an encoder.
func (s *Session) exactBytes(n int) float64 {
	cfg := s.M.Config()
	per := float64(n) * float64(n+1) / 2
	if !cfg.Causal {
		per = float64(n) * float64(n)
	}
	return 4 * per * float64(cfg.NLayer) * float64(cfg.NHead)
}

// autoExactTokens is the longest sequence auto capture keeps exact: at most the exact limit,
// and no more rows than AutoExactBytes hold.
func (s *Session) autoExactTokens() int {
	n := 1
	for n < s.exactLimit() && s.exactBytes(n+1) <= AutoExactBytes {
		n++
	}
	return n
}

// AutoExactTokens is the longest sequence auto capture keeps exact rows for; a longer one is
// pooled. A caller that evaluates a long prompt a few tokens at a time and knows its length can
// ask for pooled capture from the start, rather than hold exact rows until they are pooled.
func (s *Session) AutoExactTokens() int { return s.autoExactTokens() }

// poolHeld switches the trace from exact rows to pooled maps, pooling the rows it holds and
// keeping those of the chosen positions.
func (s *Session) poolHeld() error {
	t := s.Trace
	held := t.Attn
	if err := t.UsePooled(s.poolCells(), s.opts.Rows); err != nil {
		return err
	}
	n := 0
	if len(held) > 0 && len(held[0]) > 0 {
		n = len(held[0][0])
	}
	t.Cover(n)
	for l := range held {
		for h := range held[l] {
			for q, row := range held[l][h] {
				t.Pooled[l][h].Add(q, 0, row)
			}
			for _, r := range t.Rows {
				if r < len(held[l][h]) {
					t.RowAttn[l][h] = append(t.RowAttn[l][h], held[l][h][r])
				}
			}
		}
	}
	return nil
}

// batch returns a batch over the session's cache wired to the trace's capture.
func (s *Session) batch(allLogits bool) *model.Batch {
	b := &model.Batch{Cache: s.Cache, AllLogits: allLogits, Window: s.opts.Window, Global: s.opts.Global, ExactAttention: s.exact}
	t := s.Trace
	switch t.Capture {
	case trace.CaptureExact:
		b.Attn = func(layer, head, pos int, probs []float32) {
			t.Attn[layer][head] = append(t.Attn[layer][head], append([]float32(nil), probs...))
		}
	case trace.CapturePooled:
		b.AttnPool = func(layer, head, pos, j0 int, probs []float32) {
			t.Pooled[layer][head].Add(pos, j0, probs)
		}
		if len(t.Rows) > 0 {
			b.AttnRows = t.Rows
			b.Attn = func(layer, head, pos int, probs []float32) {
				t.RowAttn[layer][head] = append(t.RowAttn[layer][head], append([]float32(nil), probs...))
			}
		}
	}
	return b
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
// the batch with its outputs: logits for every position when allLogits, else for the last, and
// the final states (Hidden) of every position. A causal model evaluates more than Chunk tokens
// in chunks of Chunk; then, unless allLogits (or Embed) asks for every position, Hidden holds
// those of the last chunk only, the last len(Hidden)/NEmbd positions.
func (s *Session) Eval(ids []int32, toks []trace.Token, allLogits bool) (*model.Batch, error) {
	if s.err != nil {
		return nil, s.err
	}
	pos := s.Cache.Len()
	if pos+len(ids) > s.Cache.Capacity() {
		return nil, fmt.Errorf("%w: %d tokens do not fit in a context of %d", model.ErrContext, pos+len(ids), s.Cache.Capacity())
	}
	if err := s.reserve(pos, len(ids)); err != nil {
		return nil, err
	}
	if err := s.prepareCapture(pos + len(ids)); err != nil {
		return nil, err
	}
	b := s.batch(allLogits)
	start := time.Now()
	if err := s.evalChunks(b, ids, allLogits); err != nil {
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

// reserve makes the cache hold the pos positions it has, the n about to be evaluated and the
// ahead ones to come (up to its capacity) when a sequence starts with a batch of several tokens
// or the caller announced tokens to come, so that its storage is allocated once at the size the
// run needs rather than doubled as chunks arrive. Otherwise (decode steps, text appended a
// chunk at a time) the cache grows by itself, doubling, which keeps many small additions cheap.
func (s *Session) reserve(pos, n int) error {
	if s.ahead == 0 && (n <= 1 || pos > 0) {
		return nil
	}
	c := s.Cache.Capacity()
	return s.Expect(min(c, pos+n+min(s.ahead, c)))
}

// Expect prepares the session for a sequence of n positions (at most the cache's capacity):
// the KV cache's storage and the pooled attention maps are sized once for all of them, so that
// evaluating them a few at a time allocates neither again.
func (s *Session) Expect(n int) error {
	if err := s.Cache.Reserve(n); err != nil {
		return err
	}
	if s.Trace.Capture == trace.CapturePooled {
		s.Trace.Expect(n)
	}
	return nil
}

// evalChunks evaluates ids with b, in chunks of Chunk tokens for a causal model, and leaves in b
// the outputs of all of them.
func (s *Session) evalChunks(b *model.Batch, ids []int32, allLogits bool) error {
	cfg := s.M.Config()
	if !cfg.Causal || len(ids) <= Chunk {
		b.Tokens = ids
		return s.M.Eval(b)
	}
	var hidden, logits []float32
	keep := allLogits || s.allHidden
	for i := 0; i < len(ids); i += Chunk {
		j := min(len(ids), i+Chunk)
		b.Tokens = ids[i:j]
		if err := s.M.Eval(b); err != nil {
			return err
		}
		if !keep {
			continue
		}
		if hidden == nil {
			hidden = make([]float32, 0, len(ids)*cfg.NEmbd)
		}
		hidden = append(hidden, b.Hidden...)
		if allLogits {
			if logits == nil {
				logits = make([]float32, 0, len(ids)*cfg.NVocab)
			}
			logits = append(logits, b.Logits...)
		}
	}
	b.Tokens = ids
	if keep {
		b.Hidden = hidden
	}
	if allLogits {
		b.Logits = logits
	}
	return nil
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
	// The prompt and the tokens to generate take the cache's storage in one reservation (the
	// last token sampled is not evaluated).
	s.ahead = max(g.MaxTokens-1, 0)
	ids, b, err := s.Prefill(text, g.AllLogits)
	s.ahead = 0
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
	s.allHidden = true
	defer func() { s.allHidden = false }()
	ids, b, err := s.Prefill(text, false)
	if err != nil {
		return nil, nil, nil, err
	}
	cfg := s.M.Config()
	return ids, b.Hidden, model.Pool(cfg.Pooling, b.Hidden, len(ids), cfg.NEmbd), nil
}
