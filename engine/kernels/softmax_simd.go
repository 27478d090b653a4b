//go:build goexperiment.simd && amd64

package kernels

import "simd/archsimd"

// softmaxChunksSIMD does the exponential pass of SoftmaxChunked over the full chunks of 16 in
// x[:n] (n a multiple of 16): x[i] = ExpApprox(x[i] − maxv), and returns Σ over the chunks, in
// order, of float64(reduce16(chunk)). ExpApprox runs on eight lanes at a time with the same
// operations; its final scaling by 2^n is a multiplication by a power of two built in the
// exponent bits, which is exact whenever the result is a normal float32 (n ≥ −125 here, the
// polynomial being above 1/2). Below that (an exponential that underflows into the subnormals,
// common in a peaked row of a trained model) the scaling is two multiplications, by 2^(n+100)
// (exact) and 2⁻¹⁰⁰ (rounded once, as ExpApprox's float64 scaling and conversion round), and
// from n < −192 on (a masked entry among them) the result is 0, as ExpApprox's. Only a chunk
// with an n above 127 (never in a softmax, whose arguments are at most 0) is computed by the
// scalar ExpApprox instead.
func softmaxChunksSIMD(x []float32, n int, maxv float32) float64 {
	var part [4 * softmaxBatch]float32
	var sum float64
	for c0 := 0; c0 < n; c0 += 16 * softmaxBatch {
		m := min(softmaxBatch, (n-c0)/16)
		// The vector work runs in its own function: float scalars live across it (sum) would be
		// reloaded with legacy SSE instructions between the 256-bit ones, which is slow.
		scalar := expChunksSIMD(x[c0:c0+16*m], maxv, &part)
		for c := 0; c < m; c++ {
			if scalar&(1<<c) != 0 {
				var chunk [16]float32
				i := c0 + 16*c
				for l := range chunk {
					chunk[l] = ExpApprox(x[i+l] - maxv)
					x[i+l] = chunk[l]
				}
				sum += float64(reduce16(&chunk))
				continue
			}
			q := part[4*c : 4*c+4]
			sum += float64((q[0] + q[2]) + (q[1] + q[3]))
		}
	}
	return sum
}

// softmaxBatch is the number of chunks whose partial sums expChunksSIMD leaves for the scalar
// float64 additions.
const softmaxBatch = 64

// expChunksSIMD replaces each chunk of 16 in x (at most softmaxBatch chunks) by ExpApprox(x −
// maxv) and stores its lanes reduced to four, h[l] + h[l+4] with h[l] = e[l] + e[l+8], in part.
// It leaves alone the chunks with a lane outside the exact range and returns them as a bit set.
func expChunksSIMD(x []float32, maxv float32, part *[4 * softmaxBatch]float32) (scalar uint64) {
	var (
		mx    = archsimd.BroadcastFloat32x8(maxv)
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
		low   scaleLow
	)
	// Field by field: a struct of vectors returned from a call is copied with legacy SSE moves.
	low.lo, low.floor, low.up = lo, archsimd.BroadcastFloat32x8(-192), archsimd.BroadcastFloat32x8(100)
	low.down, low.zero, low.bias = archsimd.BroadcastFloat32x8(0x1p-100), archsimd.BroadcastFloat32x8(0), bias
	m := len(x) / 16
	for c := 0; c < m; c++ {
		i := 16 * c
		v0 := archsimd.LoadFloat32x8(x[i : i+8]).Sub(mx)
		v1 := archsimd.LoadFloat32x8(x[i+8 : i+16]).Sub(mx)
		k0 := v0.MulAdd(log2e, shift).Sub(shift)
		k1 := v1.MulAdd(log2e, shift).Sub(shift)
		if k0.Greater(hi).Or(k1.Greater(hi)).ToBits() != 0 {
			scalar |= 1 << c
			continue
		}
		n0, n1 := k0.Neg(), k1.Neg()
		b0 := n0.MulAdd(ln2lo, n0.MulAdd(ln2hi, v0))
		b1 := n1.MulAdd(ln2lo, n1.MulAdd(ln2hi, v1))
		u0, u1 := b0.Mul(b0), b1.Mul(b1)
		p0 := c5.MulAdd(b0, c4).MulAdd(u0, c3.MulAdd(b0, c2)).MulAdd(u0, c1.MulAdd(b0, one))
		p1 := c5.MulAdd(b1, c4).MulAdd(u1, c3.MulAdd(b1, c2)).MulAdd(u1, c1.MulAdd(b1, one))
		var e0, e1 archsimd.Float32x8
		if k0.Less(lo).Or(k1.Less(lo)).ToBits() == 0 {
			e0 = p0.Mul(k0.ConvertToInt32().Add(bias).ShiftAllLeft(23).AsFloat32x8())
			e1 = p1.Mul(k1.ConvertToInt32().Add(bias).ShiftAllLeft(23).AsFloat32x8())
		} else {
			e0, e1 = low.scale(p0, k0), low.scale(p1, k1)
		}
		e0.Store(x[i : i+8])
		e1.Store(x[i+8 : i+16])
		h := e0.Add(e1)
		h.GetLo().Add(h.GetHi()).Store(part[4*c : 4*c+4])
	}
	archsimd.ClearAVXUpperBits()
	return scalar
}

// scaleLow scales the exponentials of expChunksSIMD's chunks whose n goes below −125: p·2^k
// for lanes with k ≤ 127 (integers, -Inf or NaN), rounded once: as expChunksSIMD's single
// multiplication for k ≥ −125, in two for −192 ≤ k < −125 (by 2^(k+100), exact, then by 2⁻¹⁰⁰
// into the subnormals), and 0 below −192. Its constants are made once per call of
// expChunksSIMD (a zero vector is a legacy SSE instruction, slow between 256-bit ones).
type scaleLow struct {
	lo, floor, up, down, zero archsimd.Float32x8
	bias                      archsimd.Int32x8
}

func (c *scaleLow) scale(p, k archsimd.Float32x8) archsimd.Float32x8 {
	// A lane's k for each way, clamped into the range its exponent bits can hold.
	kn := k.Max(c.lo)
	kl := k.Max(c.floor).Add(c.up).Min(c.lo.Add(c.up))
	normal := p.Mul(kn.ConvertToInt32().Add(c.bias).ShiftAllLeft(23).AsFloat32x8())
	sub := p.Mul(kl.ConvertToInt32().Add(c.bias).ShiftAllLeft(23).AsFloat32x8()).Mul(c.down)
	// 0 where k < −192; a NaN lane (no comparison holds) keeps its NaN.
	return c.zero.IfElse(k.Less(c.floor), sub.IfElse(k.Less(c.lo), normal))
}

// scaleSIMD multiplies x[:len(x)&^7] by s and returns how many entries it scaled.
func scaleSIMD(x []float32, s float32) int {
	n := len(x) &^ 7
	sv := archsimd.BroadcastFloat32x8(s)
	for i := 0; i < n; i += 8 {
		archsimd.LoadFloat32x8(x[i : i+8]).Mul(sv).Store(x[i : i+8])
	}
	archsimd.ClearAVXUpperBits()
	return n
}

// expPartialChunkSIMD sets chunk to ExpApprox(x[l] − maxv) for the l < len(x) (fewer than 16)
// and 0 past them, x to the same, on vectors (the missing lanes computed from maxv itself and
// dropped), and reports whether it could: not where a lane is outside the vector range.
func expPartialChunkSIMD(chunk *[16]float32, x []float32, maxv float32) bool {
	var buf [16]float32
	n := copy(buf[:], x)
	for l := n; l < 16; l++ {
		buf[l] = maxv
	}
	var part [4 * softmaxBatch]float32
	if expChunksSIMD(buf[:], maxv, &part) != 0 {
		return false
	}
	copy(x, buf[:n])
	*chunk = [16]float32{}
	copy(chunk[:], buf[:n])
	return true
}
