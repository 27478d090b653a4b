package kernels

import (
	"encoding/binary"
	"math"
	"math/bits"

	"github.com/attnscope/attnscope/engine/quant"
)

// MatVecQLanes sets dst[r] = DotLanes(dequantize(row r), x) for every row r of w, a row-major
// matrix of len(dst) rows of type t (Q8_0 or Q4_0) with len(x) columns: the product that
// Dequantize followed by MatVecLanes computes, bit for bit, but reading the weights once and
// never writing the dequantized rows. Each weight is decoded as Dequantize does (float32(q)·d,
// exact) and enters its lane's chain of fused multiply-adds directly:
//
//	for each row: acc[16] = 0
//	  for i in 0…cols−1: acc[i mod 16] = fma(float32(q_i)·d_block(i), x[i], acc[i mod 16])
//	  dst[r] = reduce16(acc)
//
// It runs row by row on rows in ggml's encoding (on v128 vectors in WebAssembly, in plain Go
// elsewhere); the AVX2 version reads packed rows (Pack, MatVecQLanesPacked), which a backend
// keeps instead. It reports false, and does nothing, for other types, when len(x) is not a
// multiple of 32, and on arm64, whose vector MatVecLanes after Dequantize is faster than this
// kernel's plain version.
func MatVecQLanes(t quant.Type, dst []float32, w []byte, x []float32) bool {
	c := len(x)
	if c == 0 || c%qk != 0 || (t != quant.Q8_0 && t != quant.Q4_0) || simdLevel == simdNEON {
		return false
	}
	nb := c / qk
	bs := q8_0Bytes
	if t == quant.Q4_0 {
		bs = q4_0Bytes
	}
	if len(w) != len(dst)*nb*bs {
		panic("kernels: MatVecQLanes: matrix size is not rows × row bytes")
	}
	rb := nb * bs
	for r := 0; r < len(dst); r++ {
		if wasmFloatSIMD {
			dst[r] = dotQLanesF32x4(t, w[r*rb:(r+1)*rb], x)
			continue
		}
		dst[r] = dotQLanesPlain(t, w[r*rb:(r+1)*rb], x)
	}
	return true
}

// dotQLanesPlain is one row of MatVecQLanes in plain Go.
func dotQLanesPlain(t quant.Type, row []byte, x []float32) float32 {
	var acc [16]float32
	var v [qk]float32
	bs := q8_0Bytes
	if t == quant.Q4_0 {
		bs = q4_0Bytes
	}
	for b := 0; b < len(x)/qk; b++ {
		blk := row[b*bs : (b+1)*bs]
		d := f16Scale(blk)
		if t == quant.Q8_0 {
			for j := range v {
				v[j] = float32(int8(blk[2+j])) * d
			}
		} else {
			for j := 0; j < qk/2; j++ {
				v[j] = float32(int(blk[2+j]&0x0f)-8) * d
				v[j+qk/2] = float32(int(blk[2+j]>>4)-8) * d
			}
		}
		xb := x[b*qk : (b+1)*qk : (b+1)*qk]
		for j := range v {
			l := j & 15
			if unfused {
				acc[l] += float32(v[j] * xb[j])
				continue
			}
			s, ok := fmaFast(v[j], xb[j], acc[l])
			if !ok {
				s = FMA32(v[j], xb[j], acc[l])
			}
			acc[l] = s
		}
	}
	return reduce16(&acc)
}

// f16Scale reads the binary16 block scale at the start of b.
func f16Scale(b []byte) float32 {
	return math.Float32frombits(f16Bits(uint32(binary.LittleEndian.Uint16(b))))
}

// f16Bits returns the float32 bits of the binary16 value h (as
// quant.F16ToF32), in integer arithmetic only, so that vector kernels can convert scales
// without touching the scalar floating-point unit: scalar float instructions between 256-bit
// ones are very slow on some CPUs.
func f16Bits(h uint32) uint32 {
	if v, ok := f16BitsNormal(h); ok {
		return v
	}
	return f16BitsRare(h)
}

// f16BitsNormal returns the float32 bits of h and true when h is a normal binary16 value
// (exponent field 1…30); small enough to be inlined into loops that call f16BitsRare otherwise.
func f16BitsNormal(h uint32) (uint32, bool) {
	return (h&0x8000)<<16 | (h&0x7fff+(127-15)<<10)<<13, h&0x7c00-0x400 < 0x7800
}

// f16BitsRare is f16Bits for zeros, subnormals, infinities and NaNs.
//
//go:noinline
func f16BitsRare(h uint32) uint32 {
	sign, mant := (h&0x8000)<<16, h&0x3ff
	switch {
	case h&0x7c00 != 0: // infinity or NaN (quieted)
		if mant == 0 {
			return sign | 0x7f800000
		}
		return sign | 0x7fc00000 | mant<<13
	case mant == 0:
		return sign
	}
	// Subnormal: mant·2⁻²⁴ with mant's top bit at position p (0…9): exponent p−24.
	p := uint32(31 - bits.LeadingZeros32(mant))
	return sign | (p-24+127)<<23 | (mant<<(23-p))&0x7fffff
}
