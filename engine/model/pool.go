package model

import "github.com/attnscope/attnscope/engine/kernels"

// Pool reduces hidden states (n, E) to one vector by the model's pooling type (mean, first
// token, last token); PoolNone returns nil.
func Pool(p Pooling, hidden []float32, n, E int) []float32 {
	switch p {
	case PoolMean:
		out := make([]float32, E)
		for i := 0; i < n; i++ {
			kernels.Add(out, hidden[i*E:(i+1)*E])
		}
		inv := 1 / float32(n)
		for j := range out {
			out[j] *= inv
		}
		return out
	case PoolCLS:
		return append([]float32(nil), hidden[:E]...)
	case PoolLast:
		return append([]float32(nil), hidden[(n-1)*E:]...)
	}
	return nil
}
