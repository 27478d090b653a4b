package quant_test

import (
	"math"
	"testing"

	"github.com/attnscope/attnscope/engine/quant"
)

// The checks of VecDot build their expectations in float64 from the decoders (Dequantize and
// the block types' Load), never from VecDot's own code.

const u32 = 0x1p-24 // unit roundoff of float32

// scaleFields returns the byte offsets of a block's binary16 scale d and of its minimum (or
// −1 if it has none).
func scaleFields(typ quant.Type) (d, min int) {
	switch typ {
	case quant.Q4_0, quant.Q5_0, quant.Q8_0:
		return 0, -1
	case quant.Q4_1, quant.Q5_1, quant.Q4_K, quant.Q5_K:
		return 0, 2
	case quant.Q2_K:
		return 80, 82
	case quant.Q3_K:
		return 108, -1
	case quant.Q6_K:
		return 208, -1
	}
	panic("no scales in " + typ.String())
}

// weightParts splits a row exactly, in float64, into scaled[e] = d·(integer part of element
// e) and offs[e], the minimum term: −dmin·m for the K-quants, the block minimum m for Q4_1 and
// Q5_1 (which ggml multiplies with Q8_1's stored sum instead of the activations). The weight
// is scaled[e] + offs[e]. The integer parts come from Dequantize on a copy of each block with
// d = 1 and the minimum 0, the minimum terms from one with d = 0 and the minimum 1.
func weightParts(typ quant.Type, row []byte, n int) (scaled, offs []float64) {
	scaled, offs = make([]float64, n), make([]float64, n)
	tmp := make([]float32, n)
	if typ.BlockSize() == 1 {
		quant.Dequantize(typ, tmp, row)
		for e, v := range tmp {
			scaled[e] = float64(v)
		}
		return scaled, offs
	}
	bs, bb := typ.BlockSize(), typ.BlockBytes()
	do, mo := scaleFields(typ)
	blk := make([]byte, bb)
	vals := make([]float32, bs)
	for b := 0; b < n/bs; b++ {
		src := row[b*bb:][:bb]
		d := float64(f16(src, do))
		copy(blk, src)
		put16(blk, do, 0x3c00)
		if mo >= 0 {
			put16(blk, mo, 0)
		}
		quant.Dequantize(typ, vals, blk)
		for l, v := range vals {
			scaled[b*bs+l] = d * float64(v)
		}
		if mo < 0 {
			continue
		}
		m := float64(f16(src, mo))
		if typ == quant.Q4_1 || typ == quant.Q5_1 {
			for l := range vals {
				offs[b*bs+l] = m
			}
			continue
		}
		put16(blk, do, 0)
		put16(blk, mo, 0x3c00)
		quant.Dequantize(typ, vals, blk)
		for l, v := range vals {
			offs[b*bs+l] = m * float64(v) // v = −(group minimum)
		}
	}
	return scaled, offs
}

func put16(b []byte, o int, v uint16) { b[o], b[o+1] = byte(v), byte(v>>8) }

// actParts decodes activations of type vt exactly: a[e] = d·q (Q8_K's float32 d times q is
// not exact in float32, so Dequantize is not used for it), and Q8_1's stored sums.
func actParts(vt quant.Type, act []byte, n int) (a, sums []float64) {
	a = make([]float64, n)
	switch vt {
	case quant.Q8_0:
		var b quant.BlockQ8_0
		for i := 0; i < n/quant.QK; i++ {
			b.Load(act[i*vt.BlockBytes():])
			for l, q := range b.Qs {
				a[i*quant.QK+l] = float64(quant.F16ToF32(b.D)) * float64(q)
			}
		}
	case quant.Q8_1:
		var b quant.BlockQ8_1
		for i := 0; i < n/quant.QK; i++ {
			b.Load(act[i*vt.BlockBytes():])
			for l, q := range b.Qs {
				a[i*quant.QK+l] = float64(quant.F16ToF32(b.D)) * float64(q)
			}
			sums = append(sums, float64(quant.F16ToF32(b.S)))
		}
	case quant.Q8_K:
		var b quant.BlockQ8K
		for i := 0; i < n/quant.QKK; i++ {
			b.Load(act[i*vt.BlockBytes():])
			for l, q := range b.Qs {
				a[i*quant.QKK+l] = float64(b.D) * float64(q)
			}
		}
	default:
		tmp := make([]float32, n)
		quant.Dequantize(vt, tmp, act)
		for e, v := range tmp {
			a[e] = float64(v)
		}
	}
	return a, sums
}

// exactDot returns the value ggml's formula has in exact arithmetic for the row and the
// encoded activations, and mag, the sum of the magnitudes of all its terms, which bounds the
// float32 rounding: |VecDot − exact| ≤ (blocks + 12)·u·mag for the block types (each block
// term is rounded a few times, then summed in float32, in lanes for the K-quants), and
// 3·u·mag for the float types (products rounded once and summed in float64), plus the
// absolute error of float32 subnormals.
func exactDot(typ quant.Type, row, act []byte, n int) (exact, mag, bound float64) {
	scaled, offs := weightParts(typ, row, n)
	a, sums := actParts(quant.VecDotType(typ), act, n)
	for e := range a {
		if sums != nil {
			exact += scaled[e] * a[e]
		} else {
			exact += (scaled[e] + offs[e]) * a[e]
		}
		mag += (math.Abs(scaled[e]) + math.Abs(offs[e])) * math.Abs(a[e])
	}
	for b, s := range sums {
		m := offs[b*quant.QK]
		exact += m * s
		mag += math.Abs(m * s)
	}
	if typ.BlockSize() == 1 {
		// Products and the result may be subnormal in float32: allow their absolute error.
		return exact, mag, 3*u32*mag + float64(n+1)*0x1p-149
	}
	nb := n / typ.BlockSize()
	// Products of scales may be subnormal in float32: allow their absolute error too.
	return exact, mag, float64(nb+12)*u32*mag + float64(nb)*0x1p-120
}

// f32Bound bounds |VecDot(row, QuantizeActivations(x)) − DotRow(row, x)|: the activation
// quantization error Σ|w|·|a − x| with the reference quantizers' per-block bound (blockBound),
// or F16/BF16's relative rounding; for Q4_1 and Q5_1 the error m·(s − Σa) of Q8_1's stored sum;
// and the float32 rounding of both products.
func f32Bound(typ quant.Type, row, act []byte, x []float32) float64 {
	n := len(x)
	vt := quant.VecDotType(typ)
	scaled, offs := weightParts(typ, row, n)
	_, sums := actParts(vt, act, n)
	_, _, vdRound := exactDot(typ, row, act, n)
	var actErr, refMag float64
	bs := vt.BlockSize()
	for b := 0; b < n; b += bs {
		var delta float64
		switch vt {
		case quant.Q8_0, quant.Q8_1, quant.Q8_K:
			delta = blockBound(vt, x[b:b+bs])
		}
		for e := b; e < b+bs; e++ {
			w := math.Abs(scaled[e] + offs[e])
			xe := math.Abs(float64(x[e]))
			switch vt {
			case quant.F16:
				delta = 0x1p-11*xe + 0x1p-25
			case quant.BF16:
				delta = 0x1p-8*xe + 0x1p-133
			}
			actErr += w * delta
			refMag += (math.Abs(scaled[e]) + math.Abs(offs[e])) * xe
		}
	}
	// s = fp16(float32(Σq)·d) was rounded twice and made with the unrounded d, while the
	// activations carry d rounded to binary16: s − dy·Σq is at most |Σq|·|d − dy| plus the
	// roundings of s.
	var blk quant.BlockQ8_1
	for b, s := range sums {
		blk.Load(act[b*vt.BlockBytes():])
		var sumq float64
		for _, q := range blk.Qs {
			sumq += float64(q)
		}
		dy := float64(quant.F16ToF32(blk.D))
		sErr := math.Abs(sumq)*math.Max(dy*0x1p-11, 0x1p-25) + math.Abs(s)*(0x1p-11+0x1p-23) + 0x1p-25
		actErr += math.Abs(offs[b*quant.QK]) * sErr
	}
	return actErr + vdRound + float64(n+5)*u32*refMag
}

// checkVecDot quantizes x for typ, takes VecDot with row, and checks it against exactDot and,
// within f32Bound, against DotRow(row, x). It returns VecDot, DotRow and the difference
// relative to f32Bound.
func checkVecDot(t testing.TB, typ quant.Type, row []byte, x []float32) (vd, ref float32, usedBound float64) {
	t.Helper()
	n := len(x)
	act := make([]byte, rowBytes(t, quant.VecDotType(typ), n))
	quant.QuantizeActivations(typ, act, x)
	vd = quant.VecDot(typ, row, act, n)
	exact, _, bound := exactDot(typ, row, act, n)
	if math.IsInf(exact, 0) || math.IsNaN(exact) {
		// Activations beyond binary16's range (F16) are infinite, as in ggml.
		if float64(vd) != exact && !(vd != vd && exact != exact) {
			t.Fatalf("%s n=%d: VecDot = %g, exact value %g", typ, n, vd, exact)
		}
		return vd, vd, 0
	}
	if d := math.Abs(float64(vd) - exact); !(d <= bound) {
		t.Fatalf("%s n=%d: VecDot = %g, exact value of ggml's formula %g: |difference| %g > bound %g",
			typ, n, vd, exact, d, bound)
	}
	ref = quant.DotRow(typ, row, x)
	fb := f32Bound(typ, row, act, x)
	d := math.Abs(float64(vd) - float64(ref))
	if !(d <= fb) {
		t.Fatalf("%s n=%d: VecDot = %g, F32 DotRow = %g: |difference| %g > activation-quantization bound %g",
			typ, n, vd, ref, d, fb)
	}
	if fb > 0 {
		usedBound = d / fb
	}
	return vd, ref, usedBound
}
