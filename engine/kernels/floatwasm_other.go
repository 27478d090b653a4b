//go:build !(goexperiment.simd && wasm)

package kernels

import "github.com/attnscope/attnscope/engine/quant"

// wasmFloatSIMD is false here: see floatwasm_simd_wasm.go.
const wasmFloatSIMD = false

func dotLanesF32x4(a, b []float32) float32   { panic("kernels: no v128 float kernels") }
func dotBlockedF32x4(a, b []float32) float32 { panic("kernels: no v128 float kernels") }
func dotQLanesF32x4(t quant.Type, row []byte, x []float32) float32 {
	panic("kernels: no v128 float kernels")
}

func siluLanesV128(x, up []float32) int { panic("kernels: no v128 float kernels") }
func softmaxChunksV128(x []float32, n int, maxv float32) float64 {
	panic("kernels: no v128 float kernels")
}
