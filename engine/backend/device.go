package backend

// Buffer is float32 storage that lives in a device's memory.
type Buffer interface {
	// Len is the number of float32 values it holds.
	Len() int
}

// AttnShape describes one attention evaluation over a KV cache: N queries at positions Pos0 …
// Pos0+N-1 of NHead heads of HeadDim values, against Total cached positions held as rows of
// KVStride values (KV head g at offset g·HeadDim). Query head h reads KV head h / (NHead/NKVHead).
// Causal queries see positions 0 … their own, others all Total.
type AttnShape struct {
	N, Pos0, Total          int
	NHead, NKVHead, HeadDim int
	KVStride                int
	Scale                   float32
	Causal                  bool
}

// Ops are the operations a Device runs on its own buffers. Offsets and lengths count float32
// values. Ops may only be used inside the Device.Do call that handed them out; they queue work
// in order and Download waits for it.
type Ops interface {
	Alloc(n int) (Buffer, error)
	Free(b Buffer)
	Upload(dst Buffer, off int, src []float32)
	Download(dst []float32, src Buffer, off int)
	Copy(dst Buffer, dstOff int, src Buffer, srcOff, n int)
	// Rows sets dst (len(ids), w.Cols()) to the rows ids of w: an embedding lookup.
	Rows(dst Buffer, w Weight, ids []int32)
	// MatMul sets dst (n, w.Rows()) = x (n, w.Cols()) · Wᵀ.
	MatMul(dst Buffer, w Weight, x Buffer, n int)
	// RMSNorm sets each of the rows of dst to the row of x divided by its root mean square
	// (+eps), times w (dim values).
	RMSNorm(dst, x, w Buffer, rows, dim int, eps float32)
	// LayerNorm normalizes each row to zero mean and unit variance (+eps), times w plus b (b may be nil).
	LayerNorm(dst, x, w, b Buffer, rows, dim int, eps float32)
	// RoPE rotates x (rows, heads, headDim) in place; row i is at position pos0+i. table holds
	// cos and sin of the angle of position p and pair j at (p·ropeDims/2 + j)·2 and +1.
	RoPE(x, table Buffer, rows, heads, headDim, ropeDims, pos0 int, neox bool)
	// SwiGLU sets gate = silu(gate)·up over n values; GELU applies GELU (tanh form) in place.
	SwiGLU(gate, up Buffer, n int)
	GELU(x Buffer, n int)
	// Add sets x += y over n values; AddRows adds b (dim values) to each row of x (n values).
	Add(x, y Buffer, n int)
	AddRows(x, b Buffer, n, dim int)
	// Softmax replaces each row of x (rows, cols) by its softmax.
	Softmax(x Buffer, rows, cols int)
	// Attention sets out (N, NHead, HeadDim) from q (N, NHead, HeadDim) and the cache k, v
	// without materializing probabilities. AttentionProbs writes them: probs (NHead, N, Total),
	// each row its softmax over the keys it sees, zero beyond.
	Attention(out, q, k, v Buffer, s AttnShape)
	AttentionProbs(probs, q, k Buffer, s AttnShape)
}

// Device is a Backend whose memory is not the host's. Model code may keep activations and the
// KV cache there and run whole evaluations without copying through the host.
type Device interface {
	Backend
	// Do runs f with exclusive use of the device; f's error (or the first device error) is returned.
	Do(f func(Ops) error) error
}
