//go:build goexperiment.simd

package kernels

import "simd/archsimd"

// NEON versions of the float kernels whose amd64 versions run on 256-bit vectors: the
// softmax's exponential pass, SiLU and SwiGLU, scaling, and the tiled product of MatMulLanes.
// Each does the plain version's operations in the plain version's order (NEON's multiply-add
// is fused, as FMA32), so the bits are the same.

// expConsts are ExpApprox's constants as vectors.
type expConsts struct {
	shift, log2e, ln2hi, ln2lo, c1, c2, c3, c4, c5, one, lo, hi archsimd.Float32x4
	bias                                                        archsimd.Int32x4
}

func newExpConsts() expConsts {
	return expConsts{
		shift: archsimd.BroadcastFloat32x4(expShift), log2e: archsimd.BroadcastFloat32x4(expLog2e),
		ln2hi: archsimd.BroadcastFloat32x4(expLn2Hi), ln2lo: archsimd.BroadcastFloat32x4(expLn2Lo),
		c1: archsimd.BroadcastFloat32x4(expC1), c2: archsimd.BroadcastFloat32x4(expC2),
		c3: archsimd.BroadcastFloat32x4(expC3), c4: archsimd.BroadcastFloat32x4(expC4),
		c5: archsimd.BroadcastFloat32x4(expC5), one: archsimd.BroadcastFloat32x4(1),
		lo: archsimd.BroadcastFloat32x4(-125), hi: archsimd.BroadcastFloat32x4(127),
		bias: archsimd.BroadcastInt32x4(127),
	}
}

// expRound is the first step of ExpApprox on four lanes: n = round(x·log2 e), as a float.
func (c *expConsts) expRound(x archsimd.Float32x4) archsimd.Float32x4 {
	return x.MulAdd(c.log2e, c.shift).Sub(c.shift)
}

// outside reports whether a lane of n lies outside [−125, 127], where the scaling by 2^n built
// in the exponent bits would not be exact.
func (c *expConsts) outside(n archsimd.Float32x4) archsimd.Mask32x4 {
	return c.lo.Greater(n).Or(n.Greater(c.hi))
}

// expRest finishes ExpApprox(x) on four lanes from n = expRound(x), n in range.
func (c *expConsts) expRest(x, n archsimd.Float32x4) archsimd.Float32x4 {
	return c.expPoly(x, n).Mul(n.ConvertToInt32().Add(c.bias).ShiftAllLeft(23).ToBits().BitsToFloat32())
}

// expPoly is ExpApprox's polynomial of the reduced argument on four lanes, before the scaling
// by 2^n.
func (c *expConsts) expPoly(x, n archsimd.Float32x4) archsimd.Float32x4 {
	nn := n.Neg()
	b := nn.MulAdd(c.ln2lo, nn.MulAdd(c.ln2hi, x))
	u := b.Mul(b)
	return c.c5.MulAdd(b, c.c4).MulAdd(u, c.c3.MulAdd(b, c.c2)).MulAdd(u, c.c1.MulAdd(b, c.one))
}

// above reports whether a lane of n lies above 127 or is NaN (where the softmax's vector path
// does not go).
func (c *expConsts) above(n archsimd.Float32x4) archsimd.Mask32x4 {
	return n.LessEqual(c.hi).ToInt32x4().Equal(archsimd.BroadcastInt32x4(0))
}

// anyLane reports whether m holds a true lane.
func anyLane(m archsimd.Mask32x4) bool {
	v := archsimd.BroadcastInt32x4(-1).Masked(m)
	v = v.ConcatAddPairs(v)
	return v.ConcatAddPairs(v).GetElem(0) != 0
}

// softmaxChunksSIMD does the exponential pass of SoftmaxChunked over the full chunks of 16 in
// x[:n] (n a multiple of 16), as the amd64 version: x[i] = ExpApprox(x[i] − maxv), and returns
// Σ over the chunks, in order, of float64(reduce16(chunk)); lanes whose exponential underflows
// are scaled as there too (expScaleLow4), and only a chunk with an n above 127 or a NaN goes
// through the scalar ExpApprox.
func softmaxChunksSIMD(x []float32, n int, maxv float32) float64 {
	c := newExpConsts()
	mx := archsimd.BroadcastFloat32x4(maxv)
	var sum float64
	for i := 0; i+16 <= n; i += 16 {
		ch := (*[16]float32)(x[i : i+16])
		v0 := archsimd.LoadFloat32x4Array((*[4]float32)(ch[0:4])).Sub(mx)
		v1 := archsimd.LoadFloat32x4Array((*[4]float32)(ch[4:8])).Sub(mx)
		v2 := archsimd.LoadFloat32x4Array((*[4]float32)(ch[8:12])).Sub(mx)
		v3 := archsimd.LoadFloat32x4Array((*[4]float32)(ch[12:16])).Sub(mx)
		n0, n1, n2, n3 := c.expRound(v0), c.expRound(v1), c.expRound(v2), c.expRound(v3)
		if anyLane(c.above(n0).Or(c.above(n1)).Or(c.above(n2)).Or(c.above(n3))) {
			var chunk [16]float32
			for l := range chunk {
				chunk[l] = ExpApprox(ch[l] - maxv)
				ch[l] = chunk[l]
			}
			sum += float64(reduce16(&chunk))
			continue
		}
		var e0, e1, e2, e3 archsimd.Float32x4
		if anyLane(c.lo.Greater(n0).Or(c.lo.Greater(n1)).Or(c.lo.Greater(n2)).Or(c.lo.Greater(n3))) {
			e0, e1 = expScaleLow4(c.expPoly(v0, n0), n0), expScaleLow4(c.expPoly(v1, n1), n1)
			e2, e3 = expScaleLow4(c.expPoly(v2, n2), n2), expScaleLow4(c.expPoly(v3, n3), n3)
		} else {
			e0, e1, e2, e3 = c.expRest(v0, n0), c.expRest(v1, n1), c.expRest(v2, n2), c.expRest(v3, n3)
		}
		e0.StoreArray((*[4]float32)(ch[0:4]))
		e1.StoreArray((*[4]float32)(ch[4:8]))
		e2.StoreArray((*[4]float32)(ch[8:12]))
		e3.StoreArray((*[4]float32)(ch[12:16]))
		sum += float64(reduce4x4(e0, e1, e2, e3))
	}
	return sum
}

// scaleSIMD multiplies x[:len(x)&^3] by s and returns how many entries it scaled.
func scaleSIMD(x []float32, s float32) int {
	n := len(x) &^ 3
	sv := archsimd.BroadcastFloat32x4(s)
	for i := 0; i < n; i += 4 {
		archsimd.LoadFloat32x4(x[i : i+4]).Mul(sv).Store(x[i : i+4])
	}
	return n
}

// siluSIMD computes SiLU (up nil) or SwiGLU over the groups of eight entries of x (len(x) a
// multiple of 8; up as long as x when given) as the amd64 version does, in two vectors of four:
// ExpApprox(−v), 1 + e, v / (1 + e), then the product with up. It stops at the first group with
// a lane outside the exact range, leaving it whole for the scalar code, and returns the number
// of entries it did.
func siluSIMD(x, up []float32) int {
	c := newExpConsts()
	i := 0
	for ; i+8 <= len(x); i += 8 {
		g := (*[8]float32)(x[i : i+8])
		v0 := archsimd.LoadFloat32x4Array((*[4]float32)(g[0:4]))
		v1 := archsimd.LoadFloat32x4Array((*[4]float32)(g[4:8]))
		a0, a1 := v0.Neg(), v1.Neg()
		n0, n1 := c.expRound(a0), c.expRound(a1)
		if anyLane(c.outside(n0).Or(c.outside(n1))) {
			break
		}
		r0 := v0.Div(c.one.Add(c.expRest(a0, n0)))
		r1 := v1.Div(c.one.Add(c.expRest(a1, n1)))
		if up != nil {
			u := (*[8]float32)(up[i : i+8])
			r0 = r0.Mul(archsimd.LoadFloat32x4Array((*[4]float32)(u[0:4])))
			r1 = r1.Mul(archsimd.LoadFloat32x4Array((*[4]float32)(u[4:8])))
		}
		r0.StoreArray((*[4]float32)(g[0:4]))
		r1.StoreArray((*[4]float32)(g[4:8]))
	}
	return i
}

// matMulLanesSIMD computes MatMulLanes for the inputs n&^1 in pairs (c a multiple of 16) and
// returns how many inputs it did. Rows go two at a time (tile22), each (row, input) entry's
// 16 lanes in four vectors as in dotLanesSIMD, so that each weight vector loaded feeds two
// inputs and each input vector two rows; a last odd row takes dotLanesSIMD.
func matMulLanesSIMD(dst []float32, ldd int, w, x []float32, c int) int {
	rows, n := len(w)/c, len(x)/c
	n2 := n &^ 1
	for i := 0; i < n2; i += 2 {
		x0, x1 := x[i*c:(i+1)*c], x[(i+1)*c:(i+2)*c]
		r := 0
		for ; r+2 <= rows; r += 2 {
			e := tile22(w[r*c:(r+2)*c], x0, x1, c)
			dst[i*ldd+r], dst[(i+1)*ldd+r] = e[0], e[1]
			dst[i*ldd+r+1], dst[(i+1)*ldd+r+1] = e[2], e[3]
		}
		for ; r < rows; r++ {
			wr := w[r*c : (r+1)*c]
			dst[i*ldd+r] = dotLanesSIMD(wr, x0)
			dst[(i+1)*ldd+r] = dotLanesSIMD(wr, x1)
		}
	}
	return n2
}

// tile22 returns DotLanes of the two rows of w (c columns each) with x0 and x1: row 0 with x0,
// row 0 with x1, row 1 with x0, row 1 with x1.
func tile22(w, x0, x1 []float32, c int) [4]float32 {
	w0, w1 := w[:c], w[c:2*c]
	x0, x1 = x0[:c], x1[:c]
	z := archsimd.BroadcastFloat32x4(0)
	a0, a1, a2, a3 := z, z, z, z // row 0, x0
	b0, b1, b2, b3 := z, z, z, z // row 0, x1
	c0, c1, c2, c3 := z, z, z, z // row 1, x0
	d0, d1, d2, d3 := z, z, z, z // row 1, x1
	for k := 0; k+16 <= c; k += 16 {
		u, v := (*[16]float32)(x0[k:k+16]), (*[16]float32)(x1[k:k+16])
		p, q := (*[16]float32)(w0[k:k+16]), (*[16]float32)(w1[k:k+16])
		u0, v0 := archsimd.LoadFloat32x4Array((*[4]float32)(u[0:4])), archsimd.LoadFloat32x4Array((*[4]float32)(v[0:4]))
		u1, v1 := archsimd.LoadFloat32x4Array((*[4]float32)(u[4:8])), archsimd.LoadFloat32x4Array((*[4]float32)(v[4:8]))
		u2, v2 := archsimd.LoadFloat32x4Array((*[4]float32)(u[8:12])), archsimd.LoadFloat32x4Array((*[4]float32)(v[8:12]))
		u3, v3 := archsimd.LoadFloat32x4Array((*[4]float32)(u[12:16])), archsimd.LoadFloat32x4Array((*[4]float32)(v[12:16]))
		t := archsimd.LoadFloat32x4Array((*[4]float32)(p[0:4]))
		a0, b0 = t.MulAdd(u0, a0), t.MulAdd(v0, b0)
		t = archsimd.LoadFloat32x4Array((*[4]float32)(p[4:8]))
		a1, b1 = t.MulAdd(u1, a1), t.MulAdd(v1, b1)
		t = archsimd.LoadFloat32x4Array((*[4]float32)(p[8:12]))
		a2, b2 = t.MulAdd(u2, a2), t.MulAdd(v2, b2)
		t = archsimd.LoadFloat32x4Array((*[4]float32)(p[12:16]))
		a3, b3 = t.MulAdd(u3, a3), t.MulAdd(v3, b3)
		t = archsimd.LoadFloat32x4Array((*[4]float32)(q[0:4]))
		c0, d0 = t.MulAdd(u0, c0), t.MulAdd(v0, d0)
		t = archsimd.LoadFloat32x4Array((*[4]float32)(q[4:8]))
		c1, d1 = t.MulAdd(u1, c1), t.MulAdd(v1, d1)
		t = archsimd.LoadFloat32x4Array((*[4]float32)(q[8:12]))
		c2, d2 = t.MulAdd(u2, c2), t.MulAdd(v2, d2)
		t = archsimd.LoadFloat32x4Array((*[4]float32)(q[12:16]))
		c3, d3 = t.MulAdd(u3, c3), t.MulAdd(v3, d3)
	}
	return [4]float32{reduce4x4(a0, a1, a2, a3), reduce4x4(b0, b1, b2, b3), reduce4x4(c0, c1, c2, c3), reduce4x4(d0, d1, d2, d3)}
}

// laneMulAdd is x·y + acc with one rounding, as the plain loops' FMA32 (attention_v128.go).
func laneMulAdd(x, y, acc archsimd.Float32x4) archsimd.Float32x4 { return x.MulAdd(y, acc) }

// extendHi4 sign-extends the upper four values of x to 32 bits.
func extendHi4(x archsimd.Int16x8) archsimd.Int32x4 { return x.HiToLo().ExtendLo4ToInt32() }
