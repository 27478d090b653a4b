package shareddata

import "testing"

// Reference is a reference file of schema gguf-reference/v1 (see shared/reference/README.md).
type Reference struct {
	Schema   string    `json:"schema"`
	Model    string    `json:"model"`
	Prompts  []string  `json:"prompts"`
	Notes    []string  `json:"notes"`
	Variants []Variant `json:"variants"`
}

// Variant is one run of one model file.
type Variant struct {
	File        string   `json:"file"`
	Dequantized bool     `json:"weights_dequantized_to_f32"`
	SHA256      string   `json:"sha256"`
	Results     []Result `json:"results"`
}

// Tokens is a tokenization as llama.cpp produced it.
type Tokens struct {
	IDs       []int32   `json:"ids"`
	VocabText []string  `json:"vocab_text"`
	PiecesHex []string  `json:"pieces_hex"`
	Pieces    []*string `json:"pieces"`
}

// Result is one prompt's outputs.
type Result struct {
	Prompt        string     `json:"prompt"`
	AddBOSDefault bool       `json:"add_bos_default"`
	NVocab        int        `json:"n_vocab"`
	Default       Tokens     `json:"tokens_default"`
	NoSpecial     Tokens     `json:"tokens_no_special"`
	Logits        *Logits    `json:"logits"`
	Greedy        *Greedy    `json:"greedy"`
	Attention     *Attention `json:"attention"`
	Hidden        *Hidden    `json:"hidden_states"`
	Pooled        *Pooled    `json:"pooled"`
}

// Logits holds the top-10 logits of every prompt position from one forward pass.
type Logits struct {
	TopK      int `json:"top_k"`
	Positions []struct {
		Pos       int          `json:"pos"`
		Token     int32        `json:"token"`
		Top       [][2]float64 `json:"top"` // [id, logit]
		LogSumExp float64      `json:"logsumexp"`
		Mean      float64      `json:"mean"`
		Min       float64      `json:"min"`
		L2        float64      `json:"l2"`
	} `json:"positions"`
}

// Greedy is the argmax continuation after the prompt.
type Greedy struct {
	NRequested   int     `json:"n_requested"`
	StoppedAtEOG bool    `json:"stopped_at_eog"`
	IDs          []int32 `json:"ids"`
	Text         string  `json:"text"`
	TextHex      string  `json:"text_hex"`
}

// Attention holds softmax probabilities, layers[l].heads[h][q][k].
type Attention struct {
	Layers []struct {
		Heads [][][]float64 `json:"heads"`
	} `json:"layers"`
}

// Hidden holds BERT final hidden states, values[token][n_embd].
type Hidden struct {
	NEmbd  int         `json:"n_embd"`
	Values [][]float64 `json:"values"`
}

// Pooled is the model's own pooling of the hidden states (not normalized).
type Pooled struct {
	PoolingType string    `json:"pooling_type"`
	Normalized  bool      `json:"normalized"`
	Values      []float64 `json:"values"`
}

// LoadReference loads reference/<name>.json.
func LoadReference(tb testing.TB, name string) *Reference {
	tb.Helper()
	var r Reference
	LoadJSON(tb, "reference/"+name, &r)
	return &r
}

// Variant returns the variant for file with the given dequantized flag, or nil.
func (r *Reference) Variant(file string, dequantized bool) *Variant {
	for i := range r.Variants {
		if r.Variants[i].File == file && r.Variants[i].Dequantized == dequantized {
			return &r.Variants[i]
		}
	}
	return nil
}
