//go:build goexperiment.simd && amd64

package kernels

import "simd/archsimd"

// siluSIMD computes SiLU (up nil) or SwiGLU over the groups of eight entries of x (len(x) a
// multiple of 8; up as long as x when given) with 256-bit vectors, in the operations of the
// scalar silu: ExpApprox(−v) by the same fused multiply-adds, 1 + e, v / (1 + e), then the
// product with up. ExpApprox's final scaling j·2^k is a multiplication by 2^k built in the
// exponent bits, which is exact for k in [−125, 127] (j lies in about [0.7, 1.42], so j·2^k is
// a normal float32). It stops at the first group with a lane whose k lies outside that range
// (|v| above about 86.6, or ±Inf), leaving it for the scalar code, and returns the number of
// entries it did.
func siluSIMD(x, up []float32) int {
	var (
		shift = archsimd.BroadcastFloat32x8(0x1.8p23)
		log2e = archsimd.BroadcastFloat32x8(0x1.715476p+0)
		ln2hi = archsimd.BroadcastFloat32x8(0x1.62e4p-1)
		ln2lo = archsimd.BroadcastFloat32x8(0x1.7f7d1cp-20)
		c1    = archsimd.BroadcastFloat32x8(0x1.ffffecp-1)
		c2    = archsimd.BroadcastFloat32x8(0x1.fffdb6p-2)
		c3    = archsimd.BroadcastFloat32x8(0x1.555e66p-3)
		c4    = archsimd.BroadcastFloat32x8(0x1.573e2ep-5)
		c5    = archsimd.BroadcastFloat32x8(0x1.0e4020p-7)
		one   = archsimd.BroadcastFloat32x8(1)
		lo    = archsimd.BroadcastFloat32x8(-125)
		hi    = archsimd.BroadcastFloat32x8(127)
		bias  = archsimd.BroadcastInt32x8(127)
	)
	i := 0
	for ; i+8 <= len(x); i += 8 {
		v := archsimd.LoadFloat32x8(x[i : i+8])
		a := v.Neg()
		k := a.MulAdd(log2e, shift).Sub(shift)
		if k.Less(lo).Or(k.Greater(hi)).ToBits() != 0 {
			break
		}
		nk := k.Neg()
		b := nk.MulAdd(ln2lo, nk.MulAdd(ln2hi, a))
		u := b.Mul(b)
		p := c5.MulAdd(b, c4).MulAdd(u, c3.MulAdd(b, c2)).MulAdd(u, c1.MulAdd(b, one))
		e := p.Mul(k.ConvertToInt32().Add(bias).ShiftAllLeft(23).AsFloat32x8())
		r := v.Div(one.Add(e))
		if up != nil {
			r = r.Mul(archsimd.LoadFloat32x8(up[i : i+8]))
		}
		r.Store(x[i : i+8])
	}
	archsimd.ClearAVXUpperBits()
	return i
}
