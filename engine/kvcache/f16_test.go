package kvcache

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/attnscope/attnscope/engine/quant"
)

// An F16 cache holds what a float32 cache holds, each value rounded to binary16, in the same
// places: K16/V16 in K/V's layout, and Positions gives back the rounded values through growth, Reserve and
// Truncate, and the byte counts are half a float32 cache's.
func TestF16Contents(t *testing.T) {
	const nLayer, nKVHead, headDim = 2, 3, 8
	r := rand.New(rand.NewPCG(1, 2))
	c32, c16 := New(nLayer, nKVHead, headDim, 500), NewOf(F16, nLayer, nKVHead, headDim, 500)
	if c16.Type() != F16 || c32.Type() != F32 || c16.K(0) != nil || c32.K16(0) != nil {
		t.Fatal("types or accessors do not match the cache's type")
	}
	d := c16.KVDim()
	random := func(n int) []float32 {
		x := make([]float32, n*d)
		for i := range x {
			x[i] = float32(r.NormFloat64() * math.Pow(10, float64(r.IntN(9)-6)))
		}
		return x
	}
	rounded := func(x []float32) []float32 {
		y := make([]float32, len(x))
		for i, v := range x {
			y[i] = quant.F16ToF32(quant.F32ToF16(v))
		}
		return y
	}
	for step, n := range []int{7, 1, 1, 70, 1, 200} {
		if step == 4 {
			if err := c16.Reserve(400); err != nil {
				t.Fatal(err)
			}
			c16.Truncate(c16.Len() - 5)
			c32.Truncate(c32.Len() - 5)
		}
		for l := 0; l < nLayer; l++ {
			k, v := random(n), random(n)
			mustAppend(t, c32, l, k, v)
			mustAppend(t, c16, l, k, v)
		}
	}
	for l := 0; l < nLayer; l++ {
		n := c16.LayerLen(l)
		if n != c32.LayerLen(l) || c16.Bytes(l)*2 != c32.Bytes(l) || c16.Reserved(l) != int64(c16.room(l)*d*2*2) {
			t.Fatalf("layer %d: lengths %d/%d, bytes %d/%d", l, n, c32.LayerLen(l), c16.Bytes(l), c32.Bytes(l))
		}
		k32, v32, k16, v16 := make([]float32, n*d), make([]float32, n*d), make([]float32, n*d), make([]float32, n*d)
		c32.Positions(l, 0, n, k32, v32)
		c16.Positions(l, 0, n, k16, v16)
		if !slices.Equal(k16, rounded(k32)) || !slices.Equal(v16, rounded(v32)) {
			t.Fatalf("layer %d: Positions of the F16 cache are not the float32 cache's values rounded", l)
		}
		// The same head-major layout: K16's value at an index is K's there, rounded.
		k, kh, v, vh := c32.K(l), c16.K16(l), c32.V(l), c16.V16(l)
		for h := 0; h < nKVHead; h++ {
			for p := 0; p < n; p++ {
				for i := 0; i < headDim; i++ {
					a32, a16 := h*c32.HeadStride(l)+p*headDim+i, h*c16.HeadStride(l)+p*headDim+i
					if kh[a16] != quant.F32ToF16(k[a32]) || vh[a16] != quant.F32ToF16(v[a32]) {
						t.Fatalf("layer %d head %d position %d value %d: K16/V16 %#04x/%#04x, K/V %v/%v", l, h, p, i, kh[a16], vh[a16], k[a32], v[a32])
					}
				}
			}
		}
		if !c16.Finite(l) {
			t.Errorf("layer %d: finite values reported as not finite", l)
		}
	}
	if c16.BytesPerToken()*2 != c32.BytesPerToken() {
		t.Errorf("BytesPerToken %d against %d for float32", c16.BytesPerToken(), c32.BytesPerToken())
	}
}

// Finite follows what a layer holds: a value that rounds to infinity (or a NaN) clears it for
// that layer only, and truncating the position away sets it again.
func TestF16Finite(t *testing.T) {
	c := NewOf(F16, 2, 2, 4, 100)
	d := c.KVDim()
	ones := func() []float32 {
		x := make([]float32, d)
		for i := range x {
			x[i] = 1
		}
		return x
	}
	for l := 0; l < 2; l++ {
		mustAppend(t, c, l, ones(), ones())
	}
	for _, bad := range []float32{65520, -1e9, float32(math.NaN()), float32(math.Inf(1))} {
		k := ones()
		k[d-1] = bad // the second head's last value
		mustAppend(t, c, 0, k, ones())
		mustAppend(t, c, 1, ones(), ones())
		if c.Finite(0) || !c.Finite(1) {
			t.Errorf("after storing %v in layer 0: Finite %v, %v; want false, true", bad, c.Finite(0), c.Finite(1))
		}
		c.Truncate(1)
		if !c.Finite(0) || !c.Finite(1) {
			t.Errorf("after truncating %v away: Finite %v, %v; want true", bad, c.Finite(0), c.Finite(1))
		}
	}
	v := ones()
	v[0] = 65504 // the largest half: finite
	mustAppend(t, c, 0, ones(), v)
	if !c.Finite(0) {
		t.Error("65504 reported as not finite")
	}
	if _, err := ParseType("q8_0"); err == nil {
		t.Error("ParseType accepted q8_0")
	}
	if typ, err := ParseType("f16"); err != nil || typ != F16 || typ.String() != "f16" {
		t.Errorf("ParseType(f16) = %v, %v", typ, err)
	}
}

// narrow rounds as quant.F32ToF16: every float32 exponent with random significands, the
// boundaries of its fast range and their neighbours, zeros, infinities and NaNs.
func TestNarrow(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var src []float32
	for e := uint32(0); e < 256; e++ {
		for i := 0; i < 300; i++ {
			m := r.Uint32() & 0x7fffff
			switch i {
			case 0:
				m = 0
			case 1:
				m = 0x7fffff
			case 2, 3:
				m = m&^0x1fff | 0x1000 // a tie at bit 13
			}
			src = append(src, math.Float32frombits(e<<23|m), math.Float32frombits(1<<31|e<<23|m))
		}
	}
	for _, b := range []uint32{0x38800000, 0x477ff000} {
		for d := uint32(0); d < 4; d++ {
			src = append(src, math.Float32frombits(b+d), math.Float32frombits(b-d-1))
		}
	}
	dst := make([]uint16, len(src))
	wide := narrow(dst, src)
	for i, x := range src {
		if want := quant.F32ToF16(x); dst[i] != want {
			t.Fatalf("narrow(%v = %#08x) = %#04x, quant.F32ToF16 %#04x", x, math.Float32bits(x), dst[i], want)
		}
	}
	if !wide || narrow(dst[:2], []float32{65504, -1e-30}) {
		t.Error("narrow's report of infinities is wrong")
	}
}
