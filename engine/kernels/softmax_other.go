//go:build !(goexperiment.simd && amd64)

package kernels

// expPartialChunkSIMD has no vectors here: SoftmaxChunked's scalar loop does the last chunk.
func expPartialChunkSIMD(chunk *[16]float32, x []float32, maxv float32) bool { return false }
