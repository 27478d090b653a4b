package trace

// Token is one token of the evaluated sequence.
type Token struct {
	ID    int32  `json:"id"`
	Text  string `json:"text"`  // the token's bytes as text (invalid UTF-8 shown as <0xNN>)
	Start int    `json:"start"` // byte span [Start, End) in the input text; -1 for special and generated tokens
	End   int    `json:"end"`
	// Special marks tokens the tokenizer added (BOS, [CLS], [SEP]); Generated marks sampled ones.
	Special   bool `json:"special,omitempty"`
	Generated bool `json:"generated,omitempty"`
}

// Positional describes how the model encodes positions.
type Positional struct {
	// Scheme is "rope", "learned", "sinusoidal", "alibi" or "none".
	Scheme string `json:"scheme"`
	// RoPE parameters (Scheme "rope").
	RopeDims  int     `json:"rope_dims,omitempty"`
	RopeBase  float32 `json:"rope_base,omitempty"`
	RopeScale float32 `json:"rope_scale,omitempty"`
	RopeNeoX  bool    `json:"rope_neox,omitempty"`
	// MaxPositions is the context length (rows of a learned table).
	MaxPositions int `json:"max_positions"`
}

// Model summarizes the model that produced a trace.
type Model struct {
	Arch    string `json:"arch"`
	Name    string `json:"name,omitempty"`
	NLayer  int    `json:"n_layer"`
	NHead   int    `json:"n_head"`
	NKVHead int    `json:"n_kv_head"`
	HeadDim int    `json:"head_dim"`
	NEmbd   int    `json:"n_embd"`
	NCtx    int    `json:"n_ctx"`
	NVocab  int    `json:"n_vocab"`
	Causal  bool   `json:"causal"`
}

// KVStep is the state of the KV cache after one evaluation (the prefill or one decode step).
type KVStep struct {
	Tokens int `json:"tokens"` // tokens held in every layer
	// BytesPerLayer[l] is the bytes of K and V that layer l holds; Capacity[l] what it has reserved.
	BytesPerLayer    []int64 `json:"bytes_per_layer"`
	CapacityPerLayer []int64 `json:"capacity_per_layer"`
}

// Step records one evaluation: queries at positions [Pos, Pos+N).
type Step struct {
	Pos     int     `json:"pos"`
	N       int     `json:"n"`
	Seconds float64 `json:"seconds"`
	KV      KVStep  `json:"kv"`
}

// Trace is everything recorded while a session evaluated a sequence.
type Trace struct {
	Model      Model      `json:"model"`
	Positional Positional `json:"positional"`
	Tokens     []Token    `json:"tokens"`
	// Attn holds attention probabilities, shape (layer, head, query, key): Attn[l][h][q] is the
	// softmax row of query position q over the keys it may see — q+1 keys for causal models,
	// all len(Tokens) keys for bidirectional ones. Rows are appended as queries are evaluated.
	// Attn is filled when Capture is CaptureExact; otherwise its heads hold no rows.
	Attn  [][][][]float32 `json:"-"`
	Steps []Step          `json:"steps"`

	// Capture says which attention the trace holds: CaptureExact (Attn), CapturePooled (Pooled,
	// and RowAttn for the positions in Rows) or CaptureNone.
	Capture string `json:"capture"`
	// Pooled holds one pooled map per layer and head, shape (layer, head), when Capture is
	// CapturePooled.
	Pooled [][]*Pooled `json:"-"`
	// Rows are the ascending query positions whose whole rows a pooled trace keeps; RowAttn[l][h][i]
	// is the row of query Rows[i], shape (layer, head, row, key), filled as they are evaluated.
	Rows    []int           `json:"rows,omitempty"`
	RowAttn [][][][]float32 `json:"-"`
	// Window and Global are the attention mask the model ran with beyond its own (0 and none:
	// the model's causal or full attention).
	Window int   `json:"window,omitempty"`
	Global []int `json:"global,omitempty"`
}

// New returns an empty trace for a model with nLayer layers of nHead heads, holding exact rows.
func New(m Model, p Positional) *Trace {
	return &Trace{Model: m, Positional: p, Attn: emptyMaps(m), Capture: CaptureExact}
}

// emptyMaps returns Attn shaped (layer, head) with no rows: what a trace that holds no exact
// rows keeps, so that code indexing it by layer and head finds empty heads.
func emptyMaps(m Model) [][][][]float32 {
	a := make([][][][]float32, m.NLayer)
	for l := range a {
		a[l] = make([][][]float32, m.NHead)
	}
	return a
}

// UsePooled switches t, still empty of attention, to pooled capture: a map per layer and head
// of at most limit cells along an axis, and whole rows for the query positions rows (ascending).
func (t *Trace) UsePooled(limit int, rows []int) error {
	t.Capture = CapturePooled
	t.Attn = emptyMaps(t.Model)
	t.Pooled = make([][]*Pooled, t.Model.NLayer)
	for l := range t.Pooled {
		t.Pooled[l] = make([]*Pooled, t.Model.NHead)
		for h := range t.Pooled[l] {
			p, err := NewPooled(limit, 1)
			if err != nil {
				return err
			}
			t.Pooled[l][h] = p
		}
	}
	t.Rows = append([]int(nil), rows...)
	t.RowAttn = make([][][][]float32, t.Model.NLayer)
	for l := range t.RowAttn {
		t.RowAttn[l] = make([][][]float32, t.Model.NHead)
	}
	return nil
}

// Cover makes every pooled map cover n tokens (see Pooled.Cover).
func (t *Trace) Cover(n int) {
	for _, ps := range t.Pooled {
		for _, p := range ps {
			p.Cover(n)
		}
	}
}

// Expect prepares every pooled map for n tokens to come (see Pooled.Expect).
func (t *Trace) Expect(n int) {
	for _, ps := range t.Pooled {
		for _, p := range ps {
			p.Expect(n)
		}
	}
}

// Row returns the whole row of query position q for layer l and head h, from Attn or RowAttn,
// or nil when the trace does not hold it.
func (t *Trace) Row(l, h, q int) []float32 {
	if t.Capture == CaptureExact && l < len(t.Attn) && h < len(t.Attn[l]) && q < len(t.Attn[l][h]) {
		return t.Attn[l][h][q]
	}
	if l >= len(t.RowAttn) || h >= len(t.RowAttn[l]) {
		return nil
	}
	for i, r := range t.Rows {
		if r == q && i < len(t.RowAttn[l][h]) {
			return t.RowAttn[l][h][i]
		}
	}
	return nil
}

// PoolExact pools the exact attention of layer l, head h over the first n tokens into a map of
// at most limit cells along an axis, as pooled capture would have built it.
func (t *Trace) PoolExact(l, h, n, limit int) (*Pooled, error) {
	p, err := NewPooled(limit, 1)
	if err != nil {
		return nil, err
	}
	rows := t.Attn[l][h]
	n = min(n, len(rows))
	p.Cover(n)
	for q := 0; q < n; q++ {
		p.Add(q, 0, rows[q][:min(len(rows[q]), n)])
	}
	return p, nil
}

// Dense returns the attention of layer l, head h as a full n×n matrix over the first n tokens,
// with zeros where a key was hidden from a query. Shape (query, key).
func (t *Trace) Dense(l, h, n int) [][]float32 {
	rows := t.Attn[l][h]
	if n > len(rows) {
		n = len(rows)
	}
	out := make([][]float32, n)
	for q := 0; q < n; q++ {
		out[q] = make([]float32, n)
		copy(out[q], rows[q])
	}
	return out
}
