//go:build !(goexperiment.simd && wasm)

package kernels

// setWasmFloat: there are no v128 float kernels here.
func setWasmFloat(on bool) bool { return false }
