package trace_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/attnscope/attnscope/engine/trace"
)

func TestNew(t *testing.T) {
	m := trace.Model{Arch: "llama", NLayer: 3, NHead: 4, NKVHead: 2, HeadDim: 8, NEmbd: 32, NCtx: 128, NVocab: 100, Causal: true}
	p := trace.Positional{Scheme: "rope", RopeDims: 8, RopeBase: 10000, MaxPositions: 128}
	tr := trace.New(m, p)
	if tr.Model != m || tr.Positional != p {
		t.Errorf("New kept model %+v and positional %+v", tr.Model, tr.Positional)
	}
	if len(tr.Attn) != 3 {
		t.Fatalf("Attn has %d layers, want 3", len(tr.Attn))
	}
	for l, heads := range tr.Attn {
		if len(heads) != 4 {
			t.Errorf("layer %d has %d heads, want 4", l, len(heads))
		}
		for h, rows := range heads {
			if len(rows) != 0 {
				t.Errorf("layer %d head %d starts with %d rows", l, h, len(rows))
			}
		}
	}
	if len(tr.Tokens) != 0 || len(tr.Steps) != 0 {
		t.Error("a new trace has tokens or steps")
	}
	// The heads of different layers are distinct slices: rows appended to one stay there.
	tr.Attn[0][1] = append(tr.Attn[0][1], []float32{1})
	if len(tr.Attn[1][1]) != 0 || len(tr.Attn[0][0]) != 0 {
		t.Error("appending a row to layer 0 head 1 showed up elsewhere")
	}
}

func TestNewNoLayers(t *testing.T) {
	tr := trace.New(trace.Model{}, trace.Positional{Scheme: "none"})
	if len(tr.Attn) != 0 {
		t.Errorf("a model without layers has %d attention layers", len(tr.Attn))
	}
}

// causalTrace returns a trace of one layer and two heads holding n causal rows: row q has q+1
// keys, value (h+1)·(q+1) + key/100.
func causalTrace(n int) *trace.Trace {
	tr := trace.New(trace.Model{NLayer: 1, NHead: 2, Causal: true}, trace.Positional{Scheme: "none"})
	for h := 0; h < 2; h++ {
		for q := 0; q < n; q++ {
			row := make([]float32, q+1)
			for k := range row {
				row[k] = float32(h+1)*float32(q+1) + float32(k)/100
			}
			tr.Attn[0][h] = append(tr.Attn[0][h], row)
		}
	}
	return tr
}

func TestDenseCausal(t *testing.T) {
	tr := causalTrace(5)
	for h := 0; h < 2; h++ {
		for _, n := range []int{0, 1, 3, 5} {
			d := tr.Dense(0, h, n)
			if len(d) != n {
				t.Fatalf("head %d: Dense(%d) has %d rows", h, n, len(d))
			}
			for q, row := range d {
				if len(row) != n {
					t.Fatalf("head %d: Dense(%d) row %d has %d columns", h, n, q, len(row))
				}
				for k, v := range row {
					want := float32(0) // hidden key
					if k <= q {
						want = tr.Attn[0][h][q][k]
					}
					if v != want {
						t.Errorf("head %d Dense(%d)[%d][%d] = %g, want %g", h, n, q, k, v, want)
					}
				}
			}
		}
	}
}

// Dense copies: writing to its result leaves the trace alone.
func TestDenseCopies(t *testing.T) {
	tr := causalTrace(4)
	before := slices.Clone(tr.Attn[0][0][3])
	d := tr.Dense(0, 0, 4)
	for _, row := range d {
		for k := range row {
			row[k] = -1
		}
	}
	if !slices.Equal(tr.Attn[0][0][3], before) {
		t.Error("writing to Dense's result changed the trace")
	}
	if len(tr.Attn[0][0][0]) != 1 {
		t.Error("Dense resized a stored row")
	}
}

// Asking for more tokens than there are rows gives the rows there are.
func TestDenseBeyondRows(t *testing.T) {
	tr := causalTrace(3)
	d := tr.Dense(0, 1, 10)
	if len(d) != 3 {
		t.Fatalf("Dense(10) of 3 rows has %d rows", len(d))
	}
	for q, row := range d {
		if len(row) != 3 {
			t.Errorf("row %d has %d columns, want 3", q, len(row))
		}
	}
	if d[2][2] != tr.Attn[0][1][2][2] || d[0][2] != 0 {
		t.Errorf("Dense(10) = %v", d)
	}
	if d := tr.Dense(0, 0, 0); len(d) != 0 {
		t.Errorf("Dense(0) has %d rows", len(d))
	}
	empty := trace.New(trace.Model{NLayer: 1, NHead: 1}, trace.Positional{})
	if d := empty.Dense(0, 0, 4); len(d) != 0 {
		t.Errorf("Dense of a head without rows has %d rows", len(d))
	}
}

// Bidirectional rows span every key; Dense over fewer tokens keeps the first n keys of each.
func TestDenseBidirectional(t *testing.T) {
	tr := trace.New(trace.Model{NLayer: 2, NHead: 1}, trace.Positional{Scheme: "learned"})
	for q := 0; q < 4; q++ {
		tr.Attn[1][0] = append(tr.Attn[1][0], []float32{float32(q), 0.25, 0.5, 0.75})
	}
	d := tr.Dense(1, 0, 2)
	want := [][]float32{{0, 0.25}, {1, 0.25}}
	if len(d) != 2 || !slices.Equal(d[0], want[0]) || !slices.Equal(d[1], want[1]) {
		t.Errorf("Dense(2) = %v, want %v", d, want)
	}
	d = tr.Dense(1, 0, 4)
	if len(d) != 4 || !slices.Equal(d[3], []float32{3, 0.25, 0.5, 0.75}) {
		t.Errorf("Dense(4) = %v", d)
	}
}

// The JSON form carries the metadata and leaves the attention maps out.
func TestJSON(t *testing.T) {
	tr := causalTrace(2)
	tr.Tokens = []trace.Token{{ID: 1, Text: "<s>", Start: -1, End: -1, Special: true}, {ID: 42, Text: "hi", Start: 0, End: 2}}
	tr.Steps = []trace.Step{{Pos: 0, N: 2, KV: trace.KVStep{Tokens: 2, BytesPerLayer: []int64{64}, CapacityPerLayer: []int64{2048}}}}
	b, err := json.Marshal(tr)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{`"special":true`, `"text":"hi"`, `"bytes_per_layer":[64]`, `"causal":true`} {
		if !strings.Contains(s, want) {
			t.Errorf("JSON lacks %s: %s", want, s)
		}
	}
	if strings.Contains(s, "attn") || strings.Contains(s, `"generated"`) {
		t.Errorf("JSON holds the attention maps or an unset flag: %s", s)
	}
	var back trace.Trace
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(back.Tokens, tr.Tokens) || back.Model != tr.Model || back.Steps[0].KV.Tokens != 2 {
		t.Errorf("JSON round trip: %+v", back)
	}
}
