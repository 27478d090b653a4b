package plan

import (
	"fmt"
	"strings"
)

// KVType is how the KV cache stores keys and values.
type KVType string

// KV cache types: 4 bytes, 2 bytes, or blocks of 32 values in 34 bytes (an F16 scale and 32 int8).
const (
	KVF32  KVType = "f32"
	KVF16  KVType = "f16"
	KVQ8_0 KVType = "q8_0"
)

// Attention is how the attention of one layer is computed.
type Attention string

// Naive materializes every head's n×n scores in F32; Tiled (FlashAttention-style) streams key
// tiles through an online softmax and keeps O(n·head_dim) per head.
const (
	Naive Attention = "naive"
	Tiled Attention = "tiled"
)

const (
	// MaxSeq is the longest sequence the planner accepts.
	MaxSeq = 1 << 24
	// DefaultTile is the tiled attention's tile edge (query rows and key columns) when unset.
	DefaultTile = 64
	// MaxTile bounds a tile edge.
	MaxTile = 4096
	// MaxBatch bounds a batch to check.
	MaxBatch = 1 << 40
)

// Input is everything a plan depends on.
type Input struct {
	Model     Model
	Seq       int64     // tokens per sequence
	GPU       GPU       // the card; gpu_bytes derive from its TotalBytes unless GPUBytes is set
	GPUBytes  int64     // > 0: the usable memory, taken as given (nothing reserved)
	KVType    KVType    // "" means f16
	Attention Attention // "" means tiled
	TileQ     int64     // tiled attention: query rows per tile (0: DefaultTile)
	TileK     int64     // tiled attention: key columns per tile (0: DefaultTile)
	Batch     int64     // > 0: also check whether this many sequences fit
}

// BatchCheck says whether a requested batch fits.
type BatchCheck struct {
	Batch     int64  `json:"batch"`
	Bytes     int64  `json:"bytes"`      // weights_bytes + batch × bytes_per_sequence
	Fits      bool   `json:"fits"`       // Bytes ≤ gpu_bytes
	FreeBytes int64  `json:"free_bytes"` // gpu_bytes − Bytes; negative: short by that much
	Formula   string `json:"formula"`
}

// Result is a plan: every quantity in bytes unless named otherwise.
type Result struct {
	Model          Model     `json:"model"`
	Seq            int64     `json:"seq"`
	KVType         KVType    `json:"kv_type"`
	Attention      Attention `json:"attention"`
	TileQ          int64     `json:"tile_q,omitempty"`
	TileK          int64     `json:"tile_k,omitempty"`
	ActivationType string    `json:"activation_type"`

	GPU           string `json:"gpu"`
	GPUTotalBytes int64  `json:"gpu_total_bytes,omitempty"` // the card's memory.total; 0 with --gpu-mem
	GPUBytes      int64  `json:"gpu_bytes"`                 // usable memory assumed
	GPUBytesNote  string `json:"gpu_bytes_note"`            // how GPUBytes was derived

	WeightsBytes          int64 `json:"weights_bytes"`
	KVBytesPerToken       int64 `json:"kv_bytes_per_token"`
	KVBytesPerTokenMHA    int64 `json:"kv_bytes_per_token_mha"` // with n_kv_head = n_head
	KVBytesPerSequence    int64 `json:"kv_bytes_per_sequence"`
	KVBytesPerSequenceMHA int64 `json:"kv_bytes_per_sequence_mha"`

	ActivationBytesPerSequence int64 `json:"activation_bytes_per_sequence"`
	AttentionBytesPerSequence  int64 `json:"attention_bytes_per_sequence"`
	AttentionBytesNaive        int64 `json:"attention_bytes_per_sequence_naive"`
	AttentionBytesTiled        int64 `json:"attention_bytes_per_sequence_tiled"`
	WorkspaceBytesPerSequence  int64 `json:"workspace_bytes_per_sequence"` // activations + attention
	BytesPerSequence           int64 `json:"bytes_per_sequence"`           // kv + workspace

	MaxBatch       int64  `json:"max_batch"`
	MaxBatchReason string `json:"max_batch_reason,omitempty"` // why max_batch is 0
	MaxBatchMHA    int64  `json:"max_batch_mha"`              // the same plan with n_kv_head = n_head
	MaxBatchNaive  int64  `json:"max_batch_naive"`
	MaxBatchTiled  int64  `json:"max_batch_tiled"`

	Batch *BatchCheck `json:"batch,omitempty"`

	Formula     string   `json:"formula"` // how max_batch was computed, numbers substituted
	Terms       []Term   `json:"terms"`
	Assumptions []string `json:"assumptions"`
	Warnings    []string `json:"warnings,omitempty"`
}

// Assumptions is the memory model in words.
var Assumptions = []string{
	fmt.Sprintf("gpu_bytes: the card's memory.total less %d MiB for the driver and a CUDA context with our kernels, of which %d%% is allocated (the rest is headroom for 2 MiB allocation rounding and fragmentation); --gpu-mem gives gpu_bytes directly", ReserveBytes/mib, UsablePercent),
	"weights: every tensor on the GPU, token embedding and output matrix included",
	"KV cache: K and V of every layer reserved for the whole sequence; f32 4 bytes, f16 2 bytes per value, q8_0 34 bytes per block of 32 values of one head (a head of fewer values still takes a whole block)",
	"workspace: the whole sequence prefilled in one pass (the peak; decoding a token at a time needs less); activations in F32; one layer's buffers are allocated once and reused by every layer, and all buffers of a layer are counted as live together",
	"activations of one layer: residual stream, normed input (also the target of the output projections), queries, the new keys and values in F32 before they are stored, the feed-forward hidden (gate and up for SwiGLU), and the logits of the last position only",
	"naive attention: the F32 scores of all heads of one layer at once (n×n per head; the causal mask does not shrink the buffer), softmax in place, plus the attention output",
	"tiled attention: per head an F32 output accumulator (n × head_dim), a running max and sum per query row, and one tile of scores (counted in device memory, though a GPU kernel keeps it in shared memory)",
	"a batch of B sequences needs B times the per-sequence bytes: the sequences are prefilled together",
}

func (in *Input) check() error {
	m := &in.Model
	switch {
	case in.Seq < 1 || in.Seq > MaxSeq:
		return fmt.Errorf("plan: sequence length %d: must be 1 to %d tokens", in.Seq, MaxSeq)
	case m.Layers < 1 || m.Embd < 1 || m.Heads < 1 || m.KVHeads < 1 || m.HeadDim < 1 || m.FFN < 1 || m.Vocab < 0:
		return fmt.Errorf("plan: model %q: bad shape (%d layers, width %d, %d heads, %d KV heads, head size %d, feed-forward %d, vocabulary %d)",
			m.Name, m.Layers, m.Embd, m.Heads, m.KVHeads, m.HeadDim, m.FFN, m.Vocab)
	case m.KVHeads > m.Heads:
		return fmt.Errorf("plan: model %q: %d KV heads exceed its %d query heads", m.Name, m.KVHeads, m.Heads)
	case m.Weights.Value < 0:
		return fmt.Errorf("plan: model %q: negative weight bytes %d", m.Name, m.Weights.Value)
	case in.GPUBytes < 0:
		return fmt.Errorf("plan: GPU memory %d bytes is negative", in.GPUBytes)
	case in.GPUBytes == 0 && in.GPU.TotalBytes <= 0:
		return fmt.Errorf("plan: no GPU memory given (name a GPU: %s; or give the bytes)", strings.Join(GPUNames(), ", "))
	case in.Batch < 0 || in.Batch > MaxBatch:
		return fmt.Errorf("plan: batch %d: must be 0 (none) to %d", in.Batch, int64(MaxBatch))
	case in.TileQ < 0 || in.TileQ > MaxTile || in.TileK < 0 || in.TileK > MaxTile:
		return fmt.Errorf("plan: tile %d×%d: each edge must be 1 to %d", in.TileQ, in.TileK, MaxTile)
	}
	switch in.KVType {
	case KVF32, KVF16, KVQ8_0:
	default:
		return fmt.Errorf("plan: unknown KV cache type %q (f32, f16, q8_0)", in.KVType)
	}
	switch in.Attention {
	case Naive, Tiled:
	default:
		return fmt.Errorf("plan: unknown attention %q (naive, tiled)", in.Attention)
	}
	return nil
}

// Plan computes the memory plan of in. Errors name bad inputs and sizes that overflow int64.
func Plan(in Input) (*Result, error) {
	if in.KVType == "" {
		in.KVType = KVF16
	}
	if in.Attention == "" {
		in.Attention = Tiled
	}
	if in.TileQ == 0 {
		in.TileQ = DefaultTile
	}
	if in.TileK == 0 {
		in.TileK = DefaultTile
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	m := in.Model
	r := &Result{Model: m, Seq: in.Seq, KVType: in.KVType, Attention: in.Attention, ActivationType: "f32",
		GPU: in.GPU.Name, WeightsBytes: m.Weights.Value, Assumptions: Assumptions}
	if in.Attention == Tiled {
		r.TileQ, r.TileK = in.TileQ, in.TileK
	}
	var c calc
	var gpu Term
	if in.GPUBytes > 0 {
		gpu = Term{Name: "gpu_bytes", Formula: "--gpu-mem as given", Substituted: fmt.Sprint(in.GPUBytes), Value: in.GPUBytes}
		r.GPUBytesNote = "given by the user; nothing reserved"
		if r.GPU == "" {
			r.GPU = "custom"
		}
	} else {
		gpu = usable(&c, in.GPU.TotalBytes)
		r.GPUTotalBytes = in.GPU.TotalBytes
		r.GPUBytesNote = fmt.Sprintf("%s memory.total %d bytes, less %d MiB for the driver and CUDA context, %d%% of the rest", in.GPU.Name, in.GPU.TotalBytes, ReserveBytes/mib, UsablePercent)
	}
	if c.err != nil {
		return nil, c.err
	}
	r.GPUBytes = gpu.Value

	cur, err := evaluate(in, gpu.Value)
	if err != nil {
		return nil, err
	}
	mhaIn := in
	mhaIn.Model.KVHeads = m.Heads
	mha, err := evaluate(mhaIn, gpu.Value)
	if err != nil {
		return nil, err
	}
	otherIn := in
	otherIn.Attention = Naive
	if in.Attention == Naive {
		otherIn.Attention = Tiled
	}
	other, err := evaluate(otherIn, gpu.Value)
	if err != nil {
		return nil, err
	}
	naive, tiled := cur, other
	if in.Attention == Tiled {
		naive, tiled = other, cur
	}

	r.KVBytesPerToken, r.KVBytesPerSequence = cur.kvToken.Value, cur.kvSeq.Value
	r.KVBytesPerTokenMHA, r.KVBytesPerSequenceMHA = mha.kvToken.Value, mha.kvSeq.Value
	r.ActivationBytesPerSequence, r.AttentionBytesPerSequence = cur.act.Value, cur.attn.Value
	r.AttentionBytesNaive, r.AttentionBytesTiled = naive.attn.Value, tiled.attn.Value
	r.WorkspaceBytesPerSequence, r.BytesPerSequence = cur.work.Value, cur.per.Value
	r.MaxBatch, r.MaxBatchReason = cur.maxBatch, cur.reason
	r.MaxBatchMHA, r.MaxBatchNaive, r.MaxBatchTiled = mha.maxBatch, naive.maxBatch, tiled.maxBatch

	mhaToken := mha.kvToken
	mhaToken.Name = "kv_bytes_per_token_mha"
	mhaToken.Formula = strings.Replace(mhaToken.Formula, "n_kv_head", "n_head", 1)
	r.Terms = append(r.Terms, gpu, m.Weights, cur.kvToken, mhaToken, cur.kvSeq)
	r.Terms = append(r.Terms, cur.actTerms...)
	r.Terms = append(r.Terms, cur.act)
	r.Terms = append(r.Terms, cur.attnTerms...)
	r.Terms = append(r.Terms, cur.attn, cur.work, cur.per,
		Term{Name: "max_batch", Formula: "floor((gpu_bytes − weights_bytes) / bytes_per_sequence)",
			Substituted: fmt.Sprintf("(%d − %d) / %d", gpu.Value, m.Weights.Value, cur.per.Value), Value: cur.maxBatch})
	if m.Weights.Value > gpu.Value {
		last := &r.Terms[len(r.Terms)-1]
		last.Substituted = fmt.Sprintf("0, since weights_bytes %d > gpu_bytes %d", m.Weights.Value, gpu.Value)
	}

	line := func(t Term) string {
		if t.Substituted == fmt.Sprint(t.Value) {
			return fmt.Sprintf("%s = %s\n    = %d", t.Name, t.Formula, t.Value)
		}
		return fmt.Sprintf("%s = %s\n    = %s\n    = %d", t.Name, t.Formula, t.Substituted, t.Value)
	}
	r.Formula = strings.Join([]string{
		line(gpu), line(m.Weights),
		fmt.Sprintf("kv_bytes_per_sequence = %s × seq\n    = %s × %d\n    = %d", cur.kvToken.Formula, cur.kvToken.Substituted, in.Seq, cur.kvSeq.Value),
		fmt.Sprintf("workspace_bytes_per_sequence = activations + attention (%s)\n    = %d + %d\n    = %d", in.Attention, cur.act.Value, cur.attn.Value, cur.work.Value),
		cur.formulaMaxBat,
	}, "\n")

	if in.Batch > 0 {
		b := &BatchCheck{Batch: in.Batch}
		b.Bytes = c.add("batch bytes", m.Weights.Value, c.mul("batch bytes", in.Batch, cur.per.Value))
		if c.err != nil {
			return nil, c.err
		}
		b.Fits = b.Bytes <= gpu.Value
		b.FreeBytes = gpu.Value - b.Bytes
		b.Formula = fmt.Sprintf("weights_bytes + batch × bytes_per_sequence = %d + %d × %d = %d (gpu_bytes %d)",
			m.Weights.Value, in.Batch, cur.per.Value, b.Bytes, gpu.Value)
		r.Batch = b
	}
	r.Warnings = warnings(in)
	return r, nil
}
