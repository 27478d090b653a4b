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
	// Half lets the device round queries, keys, values and probabilities to half precision
	// (IEEE binary16) for its matrix units, summing in float32, as llama.cpp's and PyTorch's F16
	// attention do; results then differ from float32 by about 1e-3. Devices may ignore it.
	Half bool
}

// Norm, where W is not nil, has a product read its input's rows RMS-normalized: each row
// divided by the root of its mean square plus Eps, times W, as RMSNorm writes them (the device
// need not write them out).
type Norm struct {
	W   Buffer
	Eps float32
}

// KVStore says where RoPEStore puts a layer's new keys and values: at value offset Off of K and V
// (the KV cache), and, when Stage is not nil, also at StageOff (keys) and StageOff + rows·kvDim
// (values) of Stage.
type KVStore struct {
	K, V     Buffer
	Off      int
	Stage    Buffer
	StageOff int
}

// Ops are the operations a Device runs on its own buffers. Offsets and lengths count float32
// values. Ops may only be used inside the Device.Do call that handed them out; they queue work
// in order and Download waits for it.
type Ops interface {
	Alloc(n int) (Buffer, error)
	Free(b Buffer)
	// Upload copies src to dst from value off on; src may be reused once it returns.
	Upload(dst Buffer, off int, src []float32)
	Download(dst []float32, src Buffer, off int)
	Copy(dst Buffer, dstOff int, src Buffer, srcOff, n int)
	// Rows sets dst (len(ids), w.Cols()) to the rows ids of w: an embedding lookup.
	Rows(dst Buffer, w Weight, ids []int32)
	// MatMul sets dst (n, w.Rows()) = x (n, w.Cols()) · Wᵀ.
	MatMul(dst Buffer, w Weight, x Buffer, n int)
	// MatMulAdd sets dst (n, w.Rows()) += x · Wᵀ (a product added to the residual stream).
	MatMulAdd(dst Buffer, w Weight, x Buffer, n int)
	// MatMul3 is three MatMuls of the same x: d0 = x·W0ᵀ, d1 = x·W1ᵀ, d2 = x·W2ᵀ (a layer's
	// queries, keys and values), which a device may run as one; x normalized as norm says.
	MatMul3(d0, d1, d2 Buffer, w0, w1, w2 Weight, x Buffer, n int, norm Norm)
	// MatMulSwiGLU sets dst (n, gate.Rows()) = silu(x·Gateᵀ) · (x·Upᵀ), x normalized as norm says.
	MatMulSwiGLU(dst Buffer, gate, up Weight, x Buffer, n int, norm Norm)
	// RMSNorm sets each of the rows of dst to the row of x divided by its root mean square
	// (+eps), times w (dim values).
	RMSNorm(dst, x, w Buffer, rows, dim int, eps float32)
	// LayerNorm normalizes each row to zero mean and unit variance (+eps), times w plus b (b may be nil).
	LayerNorm(dst, x, w, b Buffer, rows, dim int, eps float32)
	// RoPE rotates x (rows, heads, headDim) in place; row i is at position pos0+i. table holds
	// cos and sin of the angle of position p and pair j at (p·ropeDims/2 + j)·2 and +1.
	RoPE(x, table Buffer, rows, heads, headDim, ropeDims, pos0 int, neox bool)
	// RoPEStore rotates q (rows, heads, headDim) and k (rows, kvHeads, headDim) in place as RoPE
	// does, then copies k and v (rows, kvHeads·headDim) where kv says.
	RoPEStore(q, k, v, table Buffer, rows, heads, kvHeads, headDim, ropeDims, pos0 int, neox bool, kv KVStore)
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
