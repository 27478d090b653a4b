package kernels

import "github.com/attnscope/attnscope/engine/quant"

// Dequantize is quant.Dequantize(t, dst, src): it decodes one row of type t into dst. For Q8_0
// and Q4_0 it runs on vector units when the CPU has them, with the same arithmetic per value
// (float32(q)·d, resp. float32(q−8)·d, one rounding), so the same bits; F16 and BF16 values
// widen on vector units too (exactly, as any conversion of them), and on AVX2 so do Q4_K, Q5_K
// and Q6_K, with quant's operations per value.
func Dequantize(t quant.Type, dst []float32, src []byte) error {
	if quantSIMD && kquantsSIMD(t) && len(dst)%quant.QKK == 0 && len(src) == len(dst)/quant.QKK*t.BlockBytes() {
		dequantKSIMD(t, dst, src, len(dst)/quant.QKK)
		return nil
	}
	if quantSIMD && len(dst)%qk == 0 {
		nb := len(dst) / qk
		switch {
		case t == quant.Q8_0 && len(src) == nb*q8_0Bytes:
			dequantQ8_0SIMD(dst, src, nb)
			return nil
		case t == quant.Q4_0 && len(src) == nb*q4_0Bytes:
			dequantQ4_0SIMD(dst, src, nb)
			return nil
		case legacySIMD(t) && len(src) == nb*t.BlockBytes():
			dequantLegacySIMD(t, dst, src, nb)
			return nil
		}
	}
	if quantSIMD && (t == quant.F16 || t == quant.BF16) && len(src) == 2*len(dst) {
		// Halves widen exactly: any order gives the same bits.
		i := halvesSIMD(dst, src, t == quant.BF16)
		if i == len(dst) {
			return nil
		}
		dst, src = dst[i:], src[2*i:]
	}
	return quant.Dequantize(t, dst, src)
}
