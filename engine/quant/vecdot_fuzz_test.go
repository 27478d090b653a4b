package quant_test

import (
	"math"
	"testing"

	"github.com/attnscope/attnscope/engine/quant"
)

// FuzzVecDot takes arbitrary bytes as a weight row of every supported type (as many whole
// blocks as they hold) and multiplies it with Gaussian activations of scale 2^exp, encoded by
// QuantizeActivations, and with the same bytes taken as already encoded activations. Nothing
// may panic; where the weights and activations decode to finite values and the products stay
// far from float32's range, the result must be finite and agree with the exact value of
// ggml's formula.
func FuzzVecDot(f *testing.F) {
	f.Add([]byte{}, uint64(0), int8(0))
	f.Add(make([]byte, 584), uint64(1), int8(3))
	ff := make([]byte, 600)
	for i := range ff {
		ff[i] = 0xff // NaN scales
	}
	f.Add(ff, uint64(2), int8(-5))
	ramp := make([]byte, 1200)
	for i := range ramp {
		ramp[i] = byte(i * 37)
	}
	f.Add(ramp, uint64(3), int8(12))
	f.Fuzz(func(t *testing.T, data []byte, seed uint64, exp int8) {
		data = data[:min(len(data), 1200)]
		for _, typ := range quant.Supported() {
			bs, bb := typ.BlockSize(), typ.BlockBytes()
			n := len(data) / bb * bs
			row := data[:n/bs*bb]
			vt := quant.VecDotType(typ)

			// The same bytes as encoded activations: any value, any sum.
			m := min(n, len(data)/vt.BlockBytes()*bs)
			quant.VecDot(typ, row[:m/bs*bb], data[:m/bs*vt.BlockBytes()], m)

			x := gaussian(seed, n, math.Ldexp(1, int(exp)%16))
			act := make([]byte, rowBytes(t, vt, n))
			quant.QuantizeActivations(typ, act, x)
			got := quant.VecDot(typ, row, act, n)
			exact, mag, bound := exactDot(typ, row, act, n)
			if math.IsNaN(mag) || math.IsInf(mag, 0) || mag > 1e30 {
				continue
			}
			if math.IsNaN(float64(got)) || math.IsInf(float64(got), 0) {
				t.Fatalf("%s n=%d: VecDot = %g for finite inputs (exact %g)", typ, n, got, exact)
			}
			if d := math.Abs(float64(got) - exact); !(d <= bound) {
				t.Fatalf("%s n=%d: VecDot = %g, exact %g, |difference| %g > bound %g", typ, n, got, exact, d, bound)
			}
		}
	})
}
