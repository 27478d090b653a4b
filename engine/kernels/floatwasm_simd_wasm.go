//go:build goexperiment.simd

package kernels

import (
	"simd/archsimd"

	"github.com/attnscope/attnscope/engine/quant"
)

// wasmFloatSIMD: on WebAssembly with the SIMD experiment, the unfused lane loops (see
// fused_wasm.go) run on v128 vectors. Lane l of the 16 lives in vector l/4, element l mod 4, and
// every step rounds the product and then the sum, as the plain loops do, so both give the same bits.
const wasmFloatSIMD = true

func zero4() archsimd.Float32x4 { return archsimd.BroadcastFloat32x4(0) }

// lanes16 adds x·y (16 values each) into the four lane vectors.
func lanes16(acc *[4]archsimd.Float32x4, x, y []float32) {
	acc[0] = acc[0].Add(archsimd.LoadFloat32x4(x[0:4]).Mul(archsimd.LoadFloat32x4(y[0:4])))
	acc[1] = acc[1].Add(archsimd.LoadFloat32x4(x[4:8]).Mul(archsimd.LoadFloat32x4(y[4:8])))
	acc[2] = acc[2].Add(archsimd.LoadFloat32x4(x[8:12]).Mul(archsimd.LoadFloat32x4(y[8:12])))
	acc[3] = acc[3].Add(archsimd.LoadFloat32x4(x[12:16]).Mul(archsimd.LoadFloat32x4(y[12:16])))
}

// reduceLanes is reduce16 of the four lane vectors.
func reduceLanes(acc *[4]archsimd.Float32x4) float32 {
	var a [16]float32
	for k := range acc {
		acc[k].Store(a[4*k : 4*k+4])
	}
	return reduce16(&a)
}

// dotLanesF32x4 is dotLanesPlain (unfused) on vectors.
func dotLanesF32x4(a, b []float32) float32 {
	acc := [4]archsimd.Float32x4{zero4(), zero4(), zero4(), zero4()}
	n := len(a) &^ 15
	for i := 0; i < n; i += 16 {
		lanes16(&acc, a[i:i+16:i+16], b[i:i+16:i+16])
	}
	s := reduceLanes(&acc)
	for i := n; i < len(a); i++ {
		s = mulAdd(a[i], b[i], s)
	}
	return s
}

// dotQLanesF32x4 is dotQLanesPlain (unfused) on vectors: each block dequantized into 32 values,
// which go to lanes 0–15 twice, in order.
func dotQLanesF32x4(t quant.Type, row []byte, x []float32) float32 {
	acc := [4]archsimd.Float32x4{zero4(), zero4(), zero4(), zero4()}
	var v [qk]float32
	bs := q8_0Bytes
	if t == quant.Q4_0 {
		bs = q4_0Bytes
	}
	for b := 0; b < len(x)/qk; b++ {
		blk := row[b*bs : (b+1)*bs]
		if t == quant.Q8_0 {
			dequantQ8_0SIMD(v[:], blk, 1)
		} else {
			dequantQ4_0SIMD(v[:], blk, 1)
		}
		xb := x[b*qk : (b+1)*qk : (b+1)*qk]
		lanes16(&acc, v[0:16], xb[0:16])
		lanes16(&acc, v[16:32], xb[16:32])
	}
	return reduceLanes(&acc)
}
