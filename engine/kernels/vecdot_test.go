package kernels_test

import (
	"encoding/binary"
	"fmt"
	"math"
	"testing"

	"github.com/attnscope/attnscope/engine/kernels"
	"github.com/attnscope/attnscope/engine/quant"
)

// randomRow fills a row of nb blocks of blockBytes with random bytes and, at the start of
// each block, a binary16 scale: usually a modest one, sometimes any bit pattern (NaN, Inf,
// subnormal).
func randomRow(seed uint64, nb, blockBytes int) []byte {
	r := newRand(seed)
	row := make([]byte, nb*blockBytes)
	for i := range row {
		row[i] = byte(r.Uint32())
	}
	for b := 0; b < nb; b++ {
		h := uint16(r.Uint32())
		if r.IntN(8) != 0 {
			h = 0x1c00 + uint16(r.IntN(0x1800)) // about 2⁻⁸ … 2⁴, either sign
			h |= uint16(r.IntN(2)) << 15
		}
		binary.LittleEndian.PutUint16(row[b*blockBytes:], h)
	}
	return row
}

// activations encodes n normal values as Q8_0 the way the backend does.
func activations(seed uint64, n int) []byte {
	act := make([]byte, n/32*34)
	quant.QuantizeActivations(quant.Q8_0, act, normal(newRand(seed), n, 1))
	return act
}

func TestVecDotSIMDMatchesPlain(t *testing.T) {
	for _, typ := range []quant.Type{quant.Q8_0, quant.Q4_0} {
		bb := typ.BlockBytes()
		for _, nb := range []int{1, 2, 3, 9, 24, 63, 64, 65, 128, 200} {
			for k := 0; k < 4; k++ {
				seed := uint64(nb*10 + k)
				row := randomRow(seed, nb, bb)
				act := activations(seed+1, nb*32)
				if k == 3 {
					act = randomRow(seed+2, nb, 34) // any bytes, -128 included
				}
				got := kernels.VecDot(typ, row, act, nb*32)
				want := quant.VecDot(typ, row, act, nb*32)
				if !sameBits(got, want) {
					t.Fatalf("%s nb=%d k=%d: VecDot %x, quant.VecDot %x", typ, nb, k, got, want)
				}
			}
		}
	}
	// Other types pass through.
	row := make([]byte, 4*32)
	act := make([]byte, 4*32)
	if got := kernels.VecDot(quant.F32, row, act, 32); got != 0 {
		t.Errorf("F32 VecDot of zeros = %g", got)
	}
	mustPanic(t, "quant: VecDot", func() { kernels.VecDot(quant.Q8_0, row[:33], act[:34], 32) })
}

func FuzzVecDotSIMD(f *testing.F) {
	f.Add(false, make([]byte, 34+34))
	f.Add(true, randomRow(1, 3, 18+34))
	f.Fuzz(func(t *testing.T, q4 bool, data []byte) {
		typ, bb := quant.Q8_0, 34
		if q4 {
			typ, bb = quant.Q4_0, 18
		}
		nb := len(data) / (bb + 34)
		if nb == 0 {
			return
		}
		row, act := data[:nb*bb], data[nb*bb:nb*(bb+34)]
		got := kernels.VecDot(typ, row, act, nb*32)
		want := quant.VecDot(typ, row, act, nb*32)
		if !sameBits(got, want) {
			t.Fatalf("%s nb=%d: VecDot %x, quant.VecDot %x", typ, nb, got, want)
		}
	})
}

func BenchmarkVecDot(b *testing.B) {
	for _, typ := range []quant.Type{quant.Q8_0, quant.Q4_0} {
		for _, n := range []int{288, 768, 4096} {
			nb := n / 32
			row := randomRow(81, nb, typ.BlockBytes())
			for i := 0; i < nb; i++ {
				binary.LittleEndian.PutUint16(row[i*typ.BlockBytes():], 0x2000)
			}
			act := activations(82, n)
			b.Run(fmt.Sprintf("%s/n=%d", typ, n), func(b *testing.B) {
				sides(b, func(b *testing.B) {
					b.SetBytes(int64(len(row) + len(act)))
					for b.Loop() {
						sink += kernels.VecDot(typ, row, act, n)
					}
					b.ReportMetric(2*float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GOP/s")
				})
			})
		}
	}
}

func TestDequantizeSIMDMatchesPlain(t *testing.T) {
	for _, typ := range []quant.Type{quant.Q8_0, quant.Q4_0, quant.Q4_1, quant.Q5_0, quant.Q5_1} {
		for _, nb := range []int{1, 2, 9, 63, 64, 65, 200} {
			row := randomRow(uint64(nb)+7, nb, typ.BlockBytes())
			got, want := make([]float32, nb*32), make([]float32, nb*32)
			if err := kernels.Dequantize(typ, got, row); err != nil {
				t.Fatal(err)
			}
			if err := quant.Dequantize(typ, want, row); err != nil {
				t.Fatal(err)
			}
			for i := range got {
				if !sameBits(got[i], want[i]) {
					t.Fatalf("%s nb=%d: [%d] = %x, quant.Dequantize %x", typ, nb, i, got[i], want[i])
				}
			}
		}
	}
}

// Every binary16 and bfloat16 value widens to quant's bits (NaNs quieted as quant does, signed
// zeros and subnormals exact), at lengths with and without a tail for the scalar code.
func TestDequantizeHalves(t *testing.T) {
	src := make([]byte, 2*65536)
	for h := range 65536 {
		binary.LittleEndian.PutUint16(src[2*h:], uint16(h))
	}
	for _, typ := range []quant.Type{quant.F16, quant.BF16} {
		for _, n := range []int{65536, 65535, 13, 7, 1} {
			off := (65536 - n) / 2 // a tail from the middle of the range too
			checkDequantize(t, typ, src[2*off:2*(off+n)], n, true)
		}
	}
}

// The K-quant super-blocks decode to quant's bits, whole rows of one to nine of them (the last
// group of a row read without a byte past its end), scales of any bit pattern included.
func TestDequantizeKQuants(t *testing.T) {
	for _, typ := range []quant.Type{quant.Q4_K, quant.Q5_K, quant.Q6_K, quant.Q2_K, quant.Q3_K} {
		for _, nb := range []int{1, 2, 3, 9} {
			for seed := range uint64(20) {
				row := randomRow(seed*31+uint64(nb), nb, typ.BlockBytes())
				if seed%2 == 1 && typ == quant.Q6_K { // Q6_K's d is last: a modest one too
					for b := 0; b < nb; b++ {
						binary.LittleEndian.PutUint16(row[(b+1)*typ.BlockBytes()-2:], 0x1c00+uint16(seed*997%0x1800))
					}
				}
				checkDequantize(t, typ, row, nb*256, false)
			}
		}
	}
}

// checkDequantize compares kernels.Dequantize of row (n values of typ) with quant.Dequantize,
// bit for bit: NaNs too where exact, else any NaN matching any NaN.
func checkDequantize(t *testing.T, typ quant.Type, row []byte, n int, exact bool) {
	t.Helper()
	got, want := make([]float32, n), make([]float32, n)
	if err := kernels.Dequantize(typ, got, row); err != nil {
		t.Fatal(err)
	}
	if err := quant.Dequantize(typ, want, row); err != nil {
		t.Fatal(err)
	}
	for i := range got {
		g, w := math.Float32bits(got[i]), math.Float32bits(want[i])
		if exact && g != w || !exact && !sameBits(got[i], want[i]) {
			t.Fatalf("%s n=%d: [%d] = %#08x, quant.Dequantize %#08x", typ, n, i, g, w)
		}
	}
}

func FuzzDequantizeKQuants(f *testing.F) {
	f.Add(uint8(0), randomRow(5, 2, quant.Q4_K.BlockBytes()))
	f.Add(uint8(1), randomRow(6, 1, quant.Q5_K.BlockBytes()))
	f.Add(uint8(2), randomRow(7, 3, quant.Q6_K.BlockBytes()))
	f.Add(uint8(3), randomRow(8, 2, quant.Q2_K.BlockBytes()))
	f.Add(uint8(4), randomRow(9, 2, quant.Q3_K.BlockBytes()))
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		typ := []quant.Type{quant.Q4_K, quant.Q5_K, quant.Q6_K, quant.Q2_K, quant.Q3_K}[which%5]
		nb := min(len(data)/typ.BlockBytes(), 16)
		if nb == 0 {
			return
		}
		checkDequantize(t, typ, data[:nb*typ.BlockBytes()], nb*256, false)
	})
}

func FuzzDequantizeSIMD(f *testing.F) {
	f.Add(uint8(0), randomRow(3, 2, 34))
	f.Add(uint8(3), randomRow(4, 3, 22))
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		typ := []quant.Type{quant.Q8_0, quant.Q4_0, quant.Q4_1, quant.Q5_0, quant.Q5_1}[which%5]
		nb := len(data) / typ.BlockBytes()
		if nb == 0 {
			return
		}
		row := data[:nb*typ.BlockBytes()]
		got, want := make([]float32, nb*32), make([]float32, nb*32)
		kernels.Dequantize(typ, got, row)
		quant.Dequantize(typ, want, row)
		for i := range got {
			if !sameBits(got[i], want[i]) {
				t.Fatalf("%s nb=%d: [%d] = %x, quant.Dequantize %x", typ, nb, i, got[i], want[i])
			}
		}
	})
}

func BenchmarkDequantize(b *testing.B) {
	for _, typ := range []quant.Type{quant.Q8_0, quant.Q4_0, quant.Q4_1, quant.Q5_0, quant.Q5_1, quant.F16, quant.BF16, quant.Q2_K, quant.Q3_K, quant.Q4_K, quant.Q5_K, quant.Q6_K} {
		const n = 768
		row := randomRow(83, n/typ.BlockSize(), typ.BlockBytes())
		switch typ {
		case quant.F16, quant.BF16: // halves of normal values (weights), not random bits
			row = make([]byte, 2*n)
			if err := quant.Quantize(typ, row, normal(newRand(83), n, 0.02)); err != nil {
				b.Fatal(err)
			}
		case quant.Q2_K, quant.Q3_K, quant.Q4_K, quant.Q5_K, quant.Q6_K: // modest super-block scales
			for o := 0; o < len(row); o += typ.BlockBytes() {
				at := o + 2 // dmin
				switch typ {
				case quant.Q6_K, quant.Q3_K:
					at = o + typ.BlockBytes() - 2 // d
				case quant.Q2_K:
					at = o + typ.BlockBytes() - 2 // dmin
				}
				binary.LittleEndian.PutUint16(row[at:], 0x2400)
			}
		}
		dst := make([]float32, n)
		b.Run(fmt.Sprintf("%s/n=%d", typ, n), func(b *testing.B) {
			sides(b, func(b *testing.B) {
				b.SetBytes(int64(len(row)))
				for b.Loop() {
					kernels.Dequantize(typ, dst, row)
				}
			})
		})
	}
}
