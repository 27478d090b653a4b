//go:build goexperiment.simd && wasm

package kernels

// setWasmFloat switches the v128 float kernels on or off and returns the previous setting.
func setWasmFloat(on bool) bool {
	prev := wasmFloatSIMD
	wasmFloatSIMD = on
	return prev
}
