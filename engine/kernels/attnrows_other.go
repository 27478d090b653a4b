//go:build !(goexperiment.simd && (amd64 || wasm || arm64))

package kernels

// attnRowsOn says whether AttentionRows has vector kernels for heads of hd values: not here.
func attnRowsOn(hd int) bool { return false }

func attnScoresRowsSIMD(ps, qs *[AttentionRowsAtOnce][]float32, k []float32, stride, off int, scale float32, maxKeys int) int {
	panic("kernels: no SIMD")
}
func attnValuesRowsSIMD(outs, ps *[AttentionRowsAtOnce][]float32, v []float32, stride, off int) {
	panic("kernels: no SIMD")
}
