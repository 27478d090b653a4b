package quant_test

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/attnscope/attnscope/engine/quant"
)

// randomBlocks returns n blocks of type t filled with random bytes whose binary16 scales are
// kept finite (random exponents would make many of them NaN or infinite).
func randomBlocks(r *rand.Rand, typ quant.Type, n int) []byte {
	b := make([]byte, n*typ.BlockBytes())
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	var scales []int // offsets of binary16 fields within a block
	switch typ {
	case quant.Q4_0, quant.Q5_0, quant.Q8_0:
		scales = []int{0}
	case quant.Q4_1, quant.Q5_1:
		scales = []int{0, 2}
	case quant.Q2_K:
		scales = []int{80, 82}
	case quant.Q3_K:
		scales = []int{108}
	case quant.Q4_K, quant.Q5_K:
		scales = []int{0, 2}
	case quant.Q6_K:
		scales = []int{208}
	}
	for blk := 0; blk < n; blk++ {
		for _, o := range scales {
			o += blk * typ.BlockBytes()
			b[o+1] &^= 0x40 // exponent below 16: finite, at most 2
		}
	}
	return b
}

func f16(b []byte, o int) float32 { return quant.F16ToF32(uint16(b[o]) | uint16(b[o+1])<<8) }

// kquantElement computes element e of a K-quant super-block straight from the layout, as the
// block types' comments describe it, without the loop structure of the decoders.
func kquantElement(typ quant.Type, b []byte, e int) float32 {
	half, r := e/128, e%128 // 128-element halves (Q2_K, Q3_K, Q6_K)
	l := e % 32
	switch typ {
	case quant.Q2_K:
		qs := b[16:80]
		sc := b[e/16]
		q := qs[32*half+l] >> (2 * (r / 32)) & 3
		return float32(f16(b, 80)*float32(sc&15)*float32(q)) - f16(b, 82)*float32(sc>>4)
	case quant.Q3_K:
		hmask, qs, scales := b[0:32], b[32:96], b[96:108]
		g := e / 16
		var lo byte
		if g < 8 {
			lo = scales[g] & 15
		} else {
			lo = scales[g-8] >> 4
		}
		s := int(lo|(scales[8+g%4]>>(2*(g/4))&3)<<4) - 32
		q := int(qs[32*half+l] >> (2 * (r / 32)) & 3)
		if hmask[l]>>(e/32)&1 == 0 {
			q -= 4
		}
		return f16(b, 108) * float32(s) * float32(q)
	case quant.Q4_K, quant.Q5_K:
		var scales [12]uint8
		copy(scales[:], b[4:16])
		sc, m := quant.ScaleMinK4(e/32, &scales)
		qs := b[16:]
		if typ == quant.Q5_K {
			qs = b[48:]
		}
		v := qs[32*(e/64)+l]
		q := int(v & 15)
		if e%64 >= 32 {
			q = int(v >> 4)
		}
		if typ == quant.Q5_K && b[16+l]>>(e/32)&1 == 1 {
			q += 16
		}
		return float32(f16(b, 0)*float32(sc)*float32(q)) - f16(b, 2)*float32(m)
	case quant.Q6_K:
		ql, qh, scales := b[0:128], b[128:192], b[192:208]
		quarter := r / 32
		v := ql[64*half+32*(quarter%2)+l]
		lo := v & 15
		if quarter >= 2 {
			lo = v >> 4
		}
		hi := qh[32*half+l] >> (2 * quarter) & 3
		q := int(lo|hi<<4) - 32
		return f16(b, 208) * float32(int8(scales[e/16])) * float32(q)
	}
	panic("not a K-quant")
}

// smallElement computes element e (0–31) of a Q4_0 … Q8_0 block straight from the layout.
func smallElement(typ quant.Type, b []byte, e int) float32 {
	nib := func(qs []byte) int {
		if e < 16 {
			return int(qs[e] & 15)
		}
		return int(qs[e-16] >> 4)
	}
	fifth := func(qh []byte) int { return int(qh[e/8]>>(e%8)&1) << 4 }
	switch typ {
	case quant.Q4_0:
		return float32(nib(b[2:])-8) * f16(b, 0)
	case quant.Q4_1:
		return float32(float32(nib(b[4:]))*f16(b, 0)) + f16(b, 2)
	case quant.Q5_0:
		return float32(nib(b[6:])|fifth(b[2:6])-16) * f16(b, 0)
	case quant.Q5_1:
		return float32(float32(nib(b[8:])|fifth(b[4:8]))*f16(b, 0)) + f16(b, 2)
	case quant.Q8_0:
		return float32(int8(b[2+e])) * f16(b, 0)
	}
	panic("not a 32-value type")
}

// TestSmallLayouts compares the 32-value decoders with the element formulas on random blocks.
func TestSmallLayouts(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, typ := range []quant.Type{quant.Q4_0, quant.Q4_1, quant.Q5_0, quant.Q5_1, quant.Q8_0} {
		const n = 256
		src := randomBlocks(r, typ, n)
		got := make([]float32, n*quant.QK)
		if err := quant.Dequantize(typ, got, src); err != nil {
			t.Fatal(err)
		}
		for i, v := range got {
			blk := src[i/quant.QK*typ.BlockBytes():][:typ.BlockBytes()]
			if want := smallElement(typ, blk, i%quant.QK); math.Float32bits(v) != math.Float32bits(want) {
				t.Fatalf("%s element %d: got %g, want %g", typ, i, v, want)
			}
		}
	}
}

// TestKQuantLayouts compares the K-quant decoders with the element-by-element formulas on
// random super-blocks, bit for bit.
func TestKQuantLayouts(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, typ := range []quant.Type{quant.Q2_K, quant.Q3_K, quant.Q4_K, quant.Q5_K, quant.Q6_K} {
		const n = 64
		src := randomBlocks(r, typ, n)
		got := make([]float32, n*quant.QKK)
		if err := quant.Dequantize(typ, got, src); err != nil {
			t.Fatal(err)
		}
		for i, v := range got {
			blk := src[i/quant.QKK*typ.BlockBytes():][:typ.BlockBytes()]
			want := kquantElement(typ, blk, i%quant.QKK)
			if math.Float32bits(v) != math.Float32bits(want) {
				t.Fatalf("%s element %d: got %g, want %g", typ, i, v, want)
			}
		}
	}
}

// TestBlockLoadStore checks that every block type reads and writes exactly its bytes.
func TestBlockLoadStore(t *testing.T) {
	type block interface {
		Load([]byte)
		Store([]byte)
	}
	blocks := []struct {
		typ quant.Type
		b   block
	}{
		{quant.Q4_0, &quant.BlockQ4_0{}}, {quant.Q4_1, &quant.BlockQ4_1{}},
		{quant.Q5_0, &quant.BlockQ5_0{}}, {quant.Q5_1, &quant.BlockQ5_1{}},
		{quant.Q8_0, &quant.BlockQ8_0{}}, {quant.Q8_1, &quant.BlockQ8_1{}},
		{quant.Q2_K, &quant.BlockQ2K{}}, {quant.Q3_K, &quant.BlockQ3K{}},
		{quant.Q4_K, &quant.BlockQ4K{}}, {quant.Q5_K, &quant.BlockQ5K{}},
		{quant.Q6_K, &quant.BlockQ6K{}}, {quant.Q8_K, &quant.BlockQ8K{}},
	}
	r := rand.New(rand.NewPCG(3, 4))
	for _, c := range blocks {
		n := c.typ.BlockBytes()
		src := make([]byte, n)
		for i := range src {
			src[i] = byte(r.Uint32())
		}
		c.b.Load(src)
		dst := make([]byte, n+1)
		dst[n] = 0xa5
		c.b.Store(dst)
		if !bytes.Equal(dst[:n], src) || dst[n] != 0xa5 {
			t.Errorf("%s: Store(Load(b)) != b", c.typ)
		}
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: Load of %d bytes did not panic", c.typ, n-1)
				}
			}()
			c.b.Load(src[:n-1])
		}()
	}
}
