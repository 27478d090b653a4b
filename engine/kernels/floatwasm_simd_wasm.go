//go:build goexperiment.simd

package kernels

import (
	"simd/archsimd"

	"github.com/attnscope/attnscope/engine/quant"
)

// wasmFloatSIMD: on WebAssembly with the SIMD experiment, the unfused lane loops (see
// fused_wasm.go) run on v128 vectors. Lane l of the 16 lives in vector l/4, element l mod 4, and
// every step rounds the product and then the sum, as the plain loops do, so both give the same bits.
var wasmFloatSIMD = true // a variable only so that tests can switch it off (UseSIMD)

func zero4() archsimd.Float32x4 { return archsimd.BroadcastFloat32x4(0) }

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
	// The four lane vectors stay in locals and each 16 values of a and b are taken as arrays
	// (one bounds check each), not through lanes16's pointer and slices.
	a0, a1, a2, a3 := zero4(), zero4(), zero4(), zero4()
	n := len(a) &^ 15
	b = b[:len(a)]
	for i := 0; i < n; i += 16 {
		x, y := (*[16]float32)(a[i:i+16]), (*[16]float32)(b[i:i+16])
		a0 = a0.Add(archsimd.LoadFloat32x4Array((*[4]float32)(x[0:4])).Mul(archsimd.LoadFloat32x4Array((*[4]float32)(y[0:4]))))
		a1 = a1.Add(archsimd.LoadFloat32x4Array((*[4]float32)(x[4:8])).Mul(archsimd.LoadFloat32x4Array((*[4]float32)(y[4:8]))))
		a2 = a2.Add(archsimd.LoadFloat32x4Array((*[4]float32)(x[8:12])).Mul(archsimd.LoadFloat32x4Array((*[4]float32)(y[8:12]))))
		a3 = a3.Add(archsimd.LoadFloat32x4Array((*[4]float32)(x[12:16])).Mul(archsimd.LoadFloat32x4Array((*[4]float32)(y[12:16]))))
	}
	acc := [4]archsimd.Float32x4{a0, a1, a2, a3}
	s := reduceLanes(&acc)
	for i := n; i < len(a); i++ {
		s = mulAdd(a[i], b[i], s)
	}
	return s
}

// dotBlockedF32x4 is dotBlockedPlain (unfused) on vectors, for len(a) ≥ 64: accumulator j's 16
// lanes in four vectors, each step's product rounded and then added; combined 0+2 and 1+3,
// then 0+1, and reduced as combine4 does; the tail added in order.
func dotBlockedF32x4(a, b []float32) float32 {
	n := len(a) &^ 63
	b = b[:len(a)]
	z := zero4()
	a0, a1, a2, a3 := z, z, z, z // accumulator 0
	b0, b1, b2, b3 := z, z, z, z // 1
	c0, c1, c2, c3 := z, z, z, z // 2
	d0, d1, d2, d3 := z, z, z, z // 3
	for i := 0; i < n; i += 64 {
		x, y := (*[64]float32)(a[i:i+64]), (*[64]float32)(b[i:i+64])
		term := func(k int) archsimd.Float32x4 {
			return archsimd.LoadFloat32x4Array((*[4]float32)(x[k : k+4])).Mul(archsimd.LoadFloat32x4Array((*[4]float32)(y[k : k+4])))
		}
		a0, a1, a2, a3 = a0.Add(term(0)), a1.Add(term(4)), a2.Add(term(8)), a3.Add(term(12))
		b0, b1, b2, b3 = b0.Add(term(16)), b1.Add(term(20)), b2.Add(term(24)), b3.Add(term(28))
		c0, c1, c2, c3 = c0.Add(term(32)), c1.Add(term(36)), c2.Add(term(40)), c3.Add(term(44))
		d0, d1, d2, d3 = d0.Add(term(48)), d1.Add(term(52)), d2.Add(term(56)), d3.Add(term(60))
	}
	// combine4: (0+2) + (1+3), lane by lane.
	acc := [4]archsimd.Float32x4{a0.Add(c0).Add(b0.Add(d0)), a1.Add(c1).Add(b1.Add(d1)),
		a2.Add(c2).Add(b2.Add(d2)), a3.Add(c3).Add(b3.Add(d3))}
	s := reduceLanes(&acc)
	for i := n; i < len(a); i++ {
		s += float32(a[i] * b[i])
	}
	return s
}

// dotQLanesF32x4 is dotQLanesPlain (unfused) on vectors: each block dequantized into 32 values,
// which go to lanes 0–15 twice, in order.
func dotQLanesF32x4(t quant.Type, row []byte, x []float32) float32 {
	a0, a1, a2, a3 := zero4(), zero4(), zero4(), zero4()
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
		xb := (*[qk]float32)(x[b*qk : (b+1)*qk])
		for h := 0; h < qk; h += 16 {
			a0 = a0.Add(archsimd.LoadFloat32x4Array((*[4]float32)(v[h : h+4])).Mul(archsimd.LoadFloat32x4Array((*[4]float32)(xb[h : h+4]))))
			a1 = a1.Add(archsimd.LoadFloat32x4Array((*[4]float32)(v[h+4 : h+8])).Mul(archsimd.LoadFloat32x4Array((*[4]float32)(xb[h+4 : h+8]))))
			a2 = a2.Add(archsimd.LoadFloat32x4Array((*[4]float32)(v[h+8 : h+12])).Mul(archsimd.LoadFloat32x4Array((*[4]float32)(xb[h+8 : h+12]))))
			a3 = a3.Add(archsimd.LoadFloat32x4Array((*[4]float32)(v[h+12 : h+16])).Mul(archsimd.LoadFloat32x4Array((*[4]float32)(xb[h+12 : h+16]))))
		}
	}
	acc := [4]archsimd.Float32x4{a0, a1, a2, a3}
	return reduceLanes(&acc)
}

// laneMulAdd is acc + x·y with the product rounded first, as the unfused plain loops do
// (attention_v128.go).
func laneMulAdd(x, y, acc archsimd.Float32x4) archsimd.Float32x4 { return acc.Add(x.Mul(y)) }

// expUnfused4 is expUnfused of the four lanes of t, and whether it could do them on the vector:
// not where a lane's 2^n is not a normal float32 (or a lane is NaN); the caller then takes the
// scalar expUnfused lane by lane.
func expUnfused4(t archsimd.Float32x4) (archsimd.Float32x4, bool) {
	var (
		log2e = archsimd.BroadcastFloat32x4(expLog2e)
		shift = archsimd.BroadcastFloat32x4(expShift)
		one   = archsimd.BroadcastFloat32x4(1)
	)
	n := t.Mul(log2e).Add(shift).Sub(shift)
	ok := n.GreaterEqual(archsimd.BroadcastFloat32x4(-125)).And(n.LessEqual(archsimd.BroadcastFloat32x4(127))).ToInt32x4()
	if ok.GetElem(0)&ok.GetElem(1)&ok.GetElem(2)&ok.GetElem(3) != -1 {
		return t, false
	}
	b := t.Sub(n.Mul(archsimd.BroadcastFloat32x4(expLn2Hi))).Sub(n.Mul(archsimd.BroadcastFloat32x4(expLn2Lo)))
	u := b.Mul(b)
	p5 := archsimd.BroadcastFloat32x4(expC5).Mul(b).Add(archsimd.BroadcastFloat32x4(expC4))
	p3 := archsimd.BroadcastFloat32x4(expC3).Mul(b).Add(archsimd.BroadcastFloat32x4(expC2))
	p1 := archsimd.BroadcastFloat32x4(expC1).Mul(b).Add(one)
	j := p5.Mul(u).Add(p3).Mul(u).Add(p1)
	scale := n.ConvertToInt32().Add(archsimd.BroadcastInt32x4(127)).ShiftAllLeft(23).ToBits().BitsToFloat32()
	return j.Mul(scale), true
}

// siluLanesV128 applies SiLU (up nil) or SwiGLU to x (and up) four entries at a time with
// silu's operations (expUnfused, then the sum, the quotient and the product, each rounded) and
// returns how many entries it did: len(x) rounded down to a multiple of 4. A group expUnfused4
// cannot do runs silu lane by lane.
func siluLanesV128(x, up []float32) int {
	n4 := len(x) &^ 3
	one := archsimd.BroadcastFloat32x4(1)
	for i := 0; i < n4; i += 4 {
		v := archsimd.LoadFloat32x4Array((*[4]float32)(x[i : i+4]))
		e, ok := expUnfused4(v.Neg())
		if !ok {
			for l := i; l < i+4; l++ {
				if up != nil {
					x[l] = silu(x[l]) * up[l]
				} else {
					x[l] = silu(x[l])
				}
			}
			continue
		}
		r := v.Div(one.Add(e))
		if up != nil {
			r = r.Mul(archsimd.LoadFloat32x4Array((*[4]float32)(up[i : i+4])))
		}
		r.StoreArray((*[4]float32)(x[i : i+4]))
	}
	return n4
}

// softmaxChunksV128 replaces each of the first n/16 chunks of 16 in x by softmaxExp(x − maxv)
// (expUnfused here) and returns the sum of the chunks' reduce16, each added to a float64 in
// order, as SoftmaxChunked's loop does; a chunk with a lane expUnfused4 cannot do runs that
// loop's scalar steps.
func softmaxChunksV128(x []float32, n int, maxv float32) float64 {
	var sum float64
	mx := archsimd.BroadcastFloat32x4(maxv)
	for i := 0; i+16 <= n; i += 16 {
		c := (*[16]float32)(x[i : i+16])
		e0, ok0 := expUnfused4(archsimd.LoadFloat32x4Array((*[4]float32)(c[0:4])).Sub(mx))
		e1, ok1 := expUnfused4(archsimd.LoadFloat32x4Array((*[4]float32)(c[4:8])).Sub(mx))
		e2, ok2 := expUnfused4(archsimd.LoadFloat32x4Array((*[4]float32)(c[8:12])).Sub(mx))
		e3, ok3 := expUnfused4(archsimd.LoadFloat32x4Array((*[4]float32)(c[12:16])).Sub(mx))
		if !(ok0 && ok1 && ok2 && ok3) {
			var chunk [16]float32
			for l := range chunk {
				chunk[l] = softmaxExp(c[l] - maxv)
				c[l] = chunk[l]
			}
			sum += float64(reduce16(&chunk))
			continue
		}
		e0.StoreArray((*[4]float32)(c[0:4]))
		e1.StoreArray((*[4]float32)(c[4:8]))
		e2.StoreArray((*[4]float32)(c[8:12]))
		e3.StoreArray((*[4]float32)(c[12:16]))
		// reduce16: h[l] = e[l] + e[l+8], q[l] = h[l] + h[l+4], then (q0+q2) + (q1+q3).
		var q [4]float32
		e0.Add(e2).Add(e1.Add(e3)).StoreArray(&q)
		sum += float64((q[0] + q[2]) + (q[1] + q[3]))
	}
	return sum
}

// extendHi4 sign-extends the upper four values of x to 32 bits.
func extendHi4(x archsimd.Int16x8) archsimd.Int32x4 { return x.ExtendHi4ToInt32() }
