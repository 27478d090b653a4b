//go:build goexperiment.simd && arm64

package kernels

import "simd/archsimd"

// expScaleLow4 is p·2^n on four lanes for n ≤ 127 (whole numbers, or -Inf), rounded once, as
// ExpApprox scales: one multiplication by 2^n built in the exponent bits for n ≥ −125, two for
// −192 ≤ n < −125 (by 2^(n+100), exact, then by 2⁻¹⁰⁰ into the subnormals, as its float64
// scaling and conversion round), 0 below −192. (WebAssembly's softmax leaves such chunks to
// its scalar exponential, which has no fused steps to emulate: the same speed there, measured.)
func expScaleLow4(p, n archsimd.Float32x4) archsimd.Float32x4 {
	lo, floor := archsimd.BroadcastFloat32x4(-125), archsimd.BroadcastFloat32x4(-192)
	up, bias := archsimd.BroadcastFloat32x4(100), archsimd.BroadcastInt32x4(127)
	kn := n.Max(lo)
	kl := n.Max(floor).Add(up).Min(lo.Add(up))
	normal := p.Mul(kn.ConvertToInt32().Add(bias).ShiftAllLeft(23).ToBits().BitsToFloat32())
	low := p.Mul(kl.ConvertToInt32().Add(bias).ShiftAllLeft(23).ToBits().BitsToFloat32()).Mul(archsimd.BroadcastFloat32x4(0x1p-100))
	return archsimd.BroadcastFloat32x4(0).IfElse(n.Less(floor), low.IfElse(n.Less(lo), normal))
}
