// Package webapp is the browser app's state without the browser: it checks and loads model bytes,
// runs a prompt in slices (calling back between tokens so a single-threaded host can draw), turns
// the trace into the JSON the page reads and draws the views into images through viz/paint. The
// wasm main package wraps it for JavaScript; tests use it natively.
package webapp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/attnscope/attnscope/engine/backend/cpu"
	"github.com/attnscope/attnscope/engine/gguf"
	"github.com/attnscope/attnscope/engine/infer"
	"github.com/attnscope/attnscope/engine/kvcache"
	"github.com/attnscope/attnscope/engine/quant"
	"github.com/attnscope/attnscope/engine/tokenizer"
	"github.com/attnscope/attnscope/engine/trace"
)

// MaxModelBytes is the largest model file the page loads: wasm32 addresses 4 GiB, and the engine
// needs the file plus its working copies of the weights.
const MaxModelBytes int64 = 1 << 30

// MaxPromptBytes bounds the text of one run in the page.
const MaxPromptBytes = 1 << 16

// MaxTokens bounds the tokens one run generates.
const MaxTokens = 1024

// Errors the page shows in plain words.
var (
	ErrNotGGUF  = errors.New("this is not a GGUF model file (it does not start with the bytes \"GGUF\")")
	ErrTooLarge = errors.New("the model is too large for the browser")
	ErrNoModel  = errors.New("no model is loaded")
	ErrNoTrace  = errors.New("nothing has run yet")
	ErrStopped  = errors.New("stopped")
)

// CheckHeader checks a model before its bytes are read: size (the whole file) and its first bytes.
func CheckHeader(head []byte, size int64) error {
	if size > MaxModelBytes {
		return fmt.Errorf("%w: %s (%d bytes), the page loads at most %s (%d bytes)", ErrTooLarge, humanBytes(size), size, humanBytes(MaxModelBytes), MaxModelBytes)
	}
	if size < 4 || len(head) < 4 || string(head[:4]) != "GGUF" {
		return ErrNotGGUF
	}
	return nil
}

// Info are the facts about a loaded model that the page shows.
type Info struct {
	Arch    string `json:"arch"`
	Name    string `json:"name"`
	NLayer  int    `json:"nLayer"`
	NHead   int    `json:"nHead"`
	NKVHead int    `json:"nKVHead"`
	NCtx    int    `json:"nCtx"`
	NVocab  int    `json:"nVocab"`
	NEmbd   int    `json:"nEmbd"`
	Quant   string `json:"quant"`
	Bytes   int64  `json:"bytes"`
	Causal  bool   `json:"causal"`
	// Positional is the model's position scheme (rope, learned, ...).
	Positional string `json:"positional"`
}

// Load checks and loads a model held in memory. The loaded model keeps data for the tensors
// read on demand (LearnedPositions).
func Load(data []byte) (*infer.Loaded, Info, error) {
	l, info, _, err := LoadHeld(data)
	return l, info, err
}

// LoadHeld is Load that lets the caller drop the file's bytes once it has read what it needs
// from them: after release the model keeps only its own copy of the weights (the page would
// otherwise hold the model twice), and reading a tensor from the file fails.
func LoadHeld(data []byte) (l *infer.Loaded, info Info, release func(), err error) {
	if err := CheckHeader(data, int64(len(data))); err != nil {
		return nil, Info{}, nil, err
	}
	h := &heldBytes{b: data}
	l, err = infer.Read(h, int64(len(data)), cpu.NewWithOptions(cpu.Options{Compute: cpu.ComputeAuto}))
	if err != nil {
		return nil, Info{}, nil, explain(err)
	}
	return l, describeModel(l, int64(len(data))), func() { h.b = nil }, nil
}

// ErrReleased is what reading a model file's bytes returns after LoadHeld's release.
var ErrReleased = errors.New("the model file's bytes were let go after loading")

// heldBytes is a model file in memory until it is released.
type heldBytes struct{ b []byte }

// ReadAt implements io.ReaderAt.
func (h *heldBytes) ReadAt(p []byte, off int64) (int, error) {
	if h.b == nil {
		return 0, ErrReleased
	}
	return bytes.NewReader(h.b).ReadAt(p, off)
}

// describeModel gathers the facts the page shows about a model file of size bytes.
func describeModel(l *infer.Loaded, size int64) Info {
	cfg := l.Model.Config()
	info := Info{Arch: cfg.Arch, Name: cfg.Name, NLayer: cfg.NLayer, NHead: cfg.NHead, NKVHead: cfg.NKVHead,
		NCtx: cfg.NCtx, NVocab: cfg.NVocab, NEmbd: cfg.NEmbd, Bytes: size, Causal: cfg.Causal,
		Positional: cfg.Positional, Quant: quantName(l.File)}
	return info
}

// explain words loader errors for the page.
func explain(err error) error {
	switch {
	case errors.Is(err, gguf.ErrNotGGUF):
		return ErrNotGGUF
	case errors.Is(err, gguf.ErrUnknownType):
		return fmt.Errorf("unsupported tensor type (the engine reads F32, F16, BF16 and the ggml Q4/Q5/Q8/K quantizations): %w", err)
	case errors.Is(err, gguf.ErrTruncated):
		return fmt.Errorf("the file is incomplete (was the download cut short?): %w", err)
	}
	return err
}

// quantName is general.file_type's name, or else the type holding most of the tensor bytes.
func quantName(f *gguf.File) string {
	s := f.Summary()
	if s.FileTypeName != "" {
		return s.FileTypeName
	}
	best := quant.Type(0)
	var most int64 = -1
	for _, tc := range s.Types {
		if tc.Bytes > most {
			best, most = tc.Type, tc.Bytes
		}
	}
	if most < 0 {
		return ""
	}
	return best.String()
}

// RunOptions are a run's generation settings as the page passes them.
type RunOptions struct {
	MaxTokens   int     `json:"maxTokens"`
	Temperature float32 `json:"temperature"`
	TopK        int     `json:"topK"`
	TopP        float32 `json:"topP"`
	Seed        uint64  `json:"seed"`
	// SliceBudget (0: none) is how long the prompt may run between two yields: the prompt is
	// evaluated in chunks sized from the time per token so far (MinSliceTokens to PrefillChunk
	// tokens).
	SliceBudget time.Duration `json:"-"`
	// Capture is the engine's capture mode ("": auto, exact while the rows fit its budget, then
	// pooled), and PoolCells the most cells a pooled map has along an axis (0: the engine's).
	Capture   string `json:"-"`
	PoolCells int    `json:"-"`
	// KVType is how the KV cache stores keys and values (kvcache.F32 by default; F16 halves it).
	KVType kvcache.Type `json:"-"`
}

// RunResult is what a run returns to the page.
type RunResult struct {
	PromptTokens []int32 `json:"promptTokens"`
	Generated    []int32 `json:"generated"`
	Text         string  `json:"text"`
	// Top[i] are the most likely next tokens before generated token i was chosen.
	Top          [][]Candidate `json:"top"`
	StoppedAtEOS bool          `json:"stoppedAtEOS"`
	Stopped      bool          `json:"stopped"`
	PrefillSecs  float64       `json:"prefillSeconds"`
	DecodeSecs   float64       `json:"decodeSeconds"`
}

// PrefillChunk is the most prompt tokens evaluated between two yields.
const PrefillChunk = 64

// MinSliceTokens is the fewest prompt tokens evaluated between two yields once the time per
// token is known, even where they take longer than the slice budget: each evaluation reads
// every cached key and value of every layer, and one token at a time (where a long prompt's
// tokens each outlast the budget) read them once per token, 2.6 times as long in all for a
// 3,900-token prompt (s15m, pooled capture) as 16 at a time (1.1 times 64 at a time).
const MinSliceTokens = 16

// Run evaluates text with attention capture and then generates up to o.MaxTokens tokens (an
// encoder only evaluates the prompt). Every generated token is evaluated too, so the trace covers
// the prompt and then all generated tokens. yield (optional) gets the session after the prompt's chunks and
// after each token; when it returns an error the run stops there and keeps what it has. step
// (optional) sees each generated token.
func Run(ctx context.Context, l *infer.Loaded, text string, o RunOptions, yield func(s *infer.Session) error, step func(id int32, piece string)) (*infer.Session, *RunResult, error) {
	if l == nil {
		return nil, nil, ErrNoModel
	}
	if len(text) > MaxPromptBytes {
		return nil, nil, fmt.Errorf("the text is too long: %d bytes (at most %d)", len(text), MaxPromptBytes)
	}
	if o.MaxTokens < 0 || o.MaxTokens > MaxTokens {
		return nil, nil, fmt.Errorf("maxTokens %d: use 0 to %d", o.MaxTokens, MaxTokens)
	}
	sopts := infer.SamplerOptions{Temperature: o.Temperature, TopK: o.TopK, TopP: o.TopP, Seed: o.Seed}
	if err := sopts.Validate(); err != nil {
		return nil, nil, err
	}
	if yield == nil {
		yield = func(*infer.Session) error { return nil }
	}
	s := l.NewSession(infer.Options{Capture: true, Mode: o.Capture, PoolCells: o.PoolCells, KVType: o.KVType})
	ids, toks, err := s.Tokenize(text, true)
	if err != nil {
		return nil, nil, err
	}
	if len(ids) == 0 {
		return nil, nil, infer.ErrEmptyPrompt
	}
	if len(ids) > s.Cache.Capacity() {
		return nil, nil, fmt.Errorf("the text is %d tokens; the model's context holds %d", len(ids), s.Cache.Capacity())
	}
	// The run's length is known: K and V for the prompt and the tokens to generate (the last
	// sampled token is not evaluated) are allocated once, not by doubling.
	n := len(ids)
	if l.Model.HasLMHead() {
		n += max(0, o.MaxTokens-1)
	}
	n = min(s.Cache.Capacity(), n)
	// The prompt runs a few tokens at a time, so auto capture would hold exact rows until they
	// pass its bound and only then pool them: a run known to pass it pools from the start.
	if o.Capture == "" && n > s.AutoExactTokens() {
		s = l.NewSession(infer.Options{Capture: true, Mode: trace.CapturePooled, PoolCells: o.PoolCells, KVType: o.KVType})
	}
	// The collector is held to the weights, this run's K and V and infer.HeapRoom. In the browser
	// the heap is wasm memory, which never shrinks: what the heap reaches once stays taken.
	defer debug.SetMemoryLimit(infer.LimitHeap(l.HeapLimit(n, s.Cache.Type())))
	if err := s.Expect(n); err != nil { // K, V and pooled maps sized once for the run
		return nil, nil, err
	}
	res := &RunResult{PromptTokens: ids, Generated: []int32{}}
	nv := l.Model.Config().NVocab
	var logits []float32
	t0 := now()
	chunk := PrefillChunk
	if o.SliceBudget > 0 {
		chunk = 1 // until the time per token is known
	}
	for i, j := 0, 0; i < len(ids); i = j {
		j = min(i+chunk, len(ids))
		tc := now()
		b, err := s.Eval(ids[i:j], toks[i:j], false)
		if o.SliceBudget > 0 {
			perToken := time.Since(tc) / time.Duration(j-i)
			chunk = max(MinSliceTokens, min(PrefillChunk, int(o.SliceBudget/max(perToken, time.Microsecond))))
		}
		if err != nil {
			return nil, nil, err
		}
		logits = b.Logits
		if len(logits) > nv {
			logits = logits[len(logits)-nv:]
		}
		if err := stopped(ctx, s, yield); err != nil {
			res.Stopped = true
			return s, res, nil
		}
	}
	res.PrefillSecs = since(t0)
	if !l.Model.HasLMHead() {
		return s, res, nil
	}
	smp := infer.NewSampler(sopts)
	eos := s.Tok.Vocab().EOS
	var text2 []byte
	t1 := now()
	for len(res.Generated) < o.MaxTokens && s.Cache.Len() < s.Cache.Capacity() {
		res.Top = append(res.Top, topCandidates(logits, TopCandidates, s.Tok.Piece))
		id := smp.Sample(logits)
		res.Generated = append(res.Generated, id)
		piece := s.Tok.Piece(id)
		text2 = append(text2, piece...)
		if logits, err = s.Step(id); err != nil {
			return s, res, err
		}
		if step != nil {
			step(id, string(piece))
		}
		if id == eos {
			res.StoppedAtEOS = true
			break
		}
		if err := stopped(ctx, s, yield); err != nil {
			res.Stopped = true
			break
		}
	}
	res.DecodeSecs = since(t1)
	res.Text = string(bytes.ToValidUTF8(text2, []byte("\uFFFD")))
	return s, res, nil
}

// TopCandidates is how many next-token candidates a run keeps per step.
const TopCandidates = 5

// Candidate is a possible next token with its probability (softmax of the logits, temperature 1).
type Candidate struct {
	ID   int32   `json:"id"`
	Text string  `json:"text"`
	P    float32 `json:"p"`
}

// topCandidates returns the k most likely tokens of logits, most likely first (ties: lower id).
func topCandidates(logits []float32, k int, piece func(int32) []byte) []Candidate {
	if len(logits) == 0 {
		return nil
	}
	mx := logits[0]
	for _, v := range logits {
		mx = max(mx, v)
	}
	var sum float64
	for _, v := range logits {
		sum += math.Exp(float64(v - mx))
	}
	var top []Candidate
	for id, v := range logits {
		if len(top) == k && v <= top[k-1].P {
			continue
		}
		c := Candidate{ID: int32(id), P: v}
		i := len(top)
		for i > 0 && top[i-1].P < v {
			i--
		}
		top = append(top, Candidate{})
		copy(top[i+1:], top[i:])
		top[i] = c
		if len(top) > k {
			top = top[:k]
		}
	}
	for i := range top {
		top[i].P = float32(math.Exp(float64(top[i].P-mx)) / sum)
		top[i].Text = tokenizer.PieceString(piece(top[i].ID))
	}
	return top
}

func stopped(ctx context.Context, s *infer.Session, yield func(*infer.Session) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return yield(s)
}

// TraceJSON is a trace in the page's layout: the tokens, then per layer and head the dense
// attention (head, query, key) over all tokens, zeros where a key was hidden.
type TraceJSON struct {
	Tokens     []trace.Token    `json:"tokens"`
	Model      trace.Model      `json:"model"`
	Positional trace.Positional `json:"positional"`
	// Capture is what the trace holds: "exact" (heads), "pooled" (pooled maps and the rows of
	// the positions in Rows) or "none".
	Capture string       `json:"capture"`
	Rows    []int        `json:"rows,omitempty"`
	Layers  []LayerJSON  `json:"layers"`
	KV      []trace.Step `json:"kv"`
}

// LayerJSON is one layer's heads, (head, query, key); for a pooled trace, its pooled maps per
// head and the whole rows of the chosen positions, (head, row, key).
type LayerJSON struct {
	Heads  [][][]F32          `json:"heads"`
	Pooled []trace.PooledJSON `json:"pooled,omitempty"`
	Rows   [][][]F32          `json:"rows,omitempty"`
}

// F32 marshals a float32 with the shortest representation that reads back exactly (NaN as null).
type F32 float32

// MarshalJSON implements json.Marshaler.
func (f F32) MarshalJSON() ([]byte, error) {
	x := float64(f)
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, x, 'g', -1, 32), nil
}

// Trace converts t to the page's layout.
func Trace(t *trace.Trace) *TraceJSON {
	out := &TraceJSON{Tokens: t.Tokens, Model: t.Model, Positional: t.Positional, KV: t.Steps, Capture: t.Capture, Rows: t.Rows}
	if out.Tokens == nil {
		out.Tokens = []trace.Token{}
	}
	n := len(t.Tokens)
	for l := range t.Attn {
		var layer LayerJSON
		if t.Capture == trace.CapturePooled && l < len(t.Pooled) {
			for h, p := range t.Pooled[l] {
				if p != nil {
					layer.Pooled = append(layer.Pooled, p.JSON())
				}
				var rows [][]F32
				if l < len(t.RowAttn) && h < len(t.RowAttn[l]) {
					for _, r := range t.RowAttn[l][h] {
						rows = append(rows, f32s(r))
					}
				}
				layer.Rows = append(layer.Rows, rows)
			}
		}
		for h := range t.Attn[l] {
			dense := t.Dense(l, h, n)
			m := make([][]F32, len(dense))
			for q, row := range dense {
				m[q] = f32s(row)
			}
			layer.Heads = append(layer.Heads, m)
		}
		out.Layers = append(out.Layers, layer)
	}
	return out
}

func f32s(r []float32) []F32 {
	out := make([]F32, len(r))
	for i, v := range r {
		out[i] = F32(v)
	}
	return out
}

// TraceBytes is Trace(t) as JSON.
func TraceBytes(t *trace.Trace) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	err := enc.Encode(Trace(t))
	return buf.Bytes(), err
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, u := float64(n), 0
	for v >= unit && u < 4 {
		v /= unit
		u++
	}
	return fmt.Sprintf("%.1f %s", v, []string{"B", "KiB", "MiB", "GiB", "TiB"}[u])
}

func now() time.Time { return time.Now() }

func since(t time.Time) float64 { return time.Since(t).Seconds() }
