package kernels_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/attnscope/attnscope/engine/kernels"
	"github.com/attnscope/attnscope/engine/quant"
)

// checkQuantAct compares QuantizeQ8_0Activations, vector and plain, with the quant package's
// quantizer on x, byte for byte.
func checkQuantAct(t *testing.T, name string, x []float32) {
	t.Helper()
	want := make([]byte, len(x)/32*34)
	quant.QuantizeActivations(quant.Q8_0, want, x)
	for _, on := range []bool{true, false} {
		got := make([]byte, len(want))
		for i := range got {
			got[i] = 0xa5 // every byte must be written
		}
		restore := kernels.UseSIMD(on)
		kernels.QuantizeQ8_0Activations(got, x)
		restore()
		if bytes.Equal(got, want) {
			continue
		}
		for b := 0; b < len(x)/32; b++ {
			g, w := got[b*34:(b+1)*34], want[b*34:(b+1)*34]
			if !bytes.Equal(g, w) {
				t.Fatalf("%s (simd %v) n=%d block %d: got % x, want % x\nvalues %v", name, on, len(x), b, g, w, x[b*32:(b+1)*32])
			}
		}
	}
}

func TestQuantizeQ8_0ActivationsRandom(t *testing.T) {
	r := newRand(171)
	for _, n := range []int{0, 32, 64, 96, 288, 31 * 32, 32 * 32, 33 * 32, 65 * 32, 768, 2048, 4096 + 96} {
		for _, sigma := range []float64{1, 1e-3, 250, 1e-20, 1e20, 1e-28, 1e30} {
			checkQuantAct(t, fmt.Sprintf("normal σ=%g", sigma), normal(r, n, sigma))
		}
		checkQuantAct(t, "uniform", uniform(r, n, -3, 7))
		// Blocks of very different scales side by side, some below the vector path's range.
		x := make([]float32, n)
		for i := range x {
			e := int(r.Uint32()%260) - 130
			if i%32 == 0 {
				e = int(r.Uint32()%280) - 150
			}
			x[i] = float32(math.Ldexp(r.NormFloat64(), e))
		}
		checkQuantAct(t, "wide", x)
		for i := range x {
			x[i] = math.Float32frombits(r.Uint32()) // any bit pattern, NaN and Inf included
		}
		checkQuantAct(t, "bits", x)
	}
}

// specialBlocks returns blocks the vector path must reproduce or hand to the plain code: NaN
// and ±Inf at several places, zeros of both signs, subnormals, maxima near the
// bounds of the float32 range and of the vector path's range, and rounding ties.
func specialBlocks(r *rand.Rand) [][]float32 {
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	base := func() []float32 { return normal(r, 32, 1) }
	with := func(x []float32, at int, v float32) []float32 { x[at] = v; return x }
	var out [][]float32
	for _, at := range []int{0, 7, 8, 15, 16, 30, 31} {
		out = append(out, with(base(), at, nan), with(base(), at, -nan), with(base(), at, inf), with(base(), at, -inf))
		out = append(out, with(with(base(), at, nan), (at+9)%32, inf))
		// NaN after the maximum and NaN as the last value, with a large value after it.
		x := with(base(), at, 1000)
		out = append(out, with(x, (at+1)%32, nan))
	}
	negZero := float32(math.Copysign(0, -1))
	zeros, negZeros, mixed := make([]float32, 32), make([]float32, 32), make([]float32, 32)
	for i := range negZeros {
		negZeros[i] = negZero
		if i%2 == 1 {
			mixed[i] = negZero
		}
	}
	out = append(out, zeros, negZeros, mixed, with(make([]float32, 32), 5, 1), with(make([]float32, 32), 31, -1e-3))
	sub := make([]float32, 32)
	for i := range sub {
		sub[i] = math.Float32frombits(uint32(i*i + 1)) // subnormal only
		if i%3 == 0 {
			sub[i] = -sub[i]
		}
	}
	out = append(out, sub, with(base(), 3, math.Float32frombits(1)), with(base(), 4, negZero))
	// Maxima near the edges: the largest floats, the smallest normal, and around the point
	// where 127/amax overflows (and the vectors' products turn infinite).
	big := make([]float32, 32)
	for i := range big {
		big[i] = math.MaxFloat32 * float32(1-float64(i)/40)
		if i%2 == 1 {
			big[i] = -big[i]
		}
	}
	out = append(out, big)
	for _, m := range []float32{0x1p-96, 0x1p-126, 127 / math.MaxFloat32, 1e-38, 1e-37, 1e-30, 1e30, 1e38} {
		for _, bits := range []uint32{math.Float32bits(m) - 1, math.Float32bits(m), math.Float32bits(m) + 1} {
			x := base()
			for i := range x {
				x[i] *= math.Float32frombits(bits) / 4
			}
			out = append(out, with(x, int(bits%32), math.Float32frombits(bits)))
		}
	}
	// Ties: amax 127 gives id 1 and amax 254 gives id 1/2, so k+½ and 2k+1 land on halves.
	t1, t2 := make([]float32, 32), make([]float32, 32)
	for i := range t1 {
		t1[i] = float32(i-16) + 0.5
		t2[i] = float32(2*(i-16) + 1)
	}
	out = append(out, with(t1, 0, 127), with(t2, 0, -254))
	// Products near a tie for a random scale: (k+½)/id and its neighbours.
	for range 20 {
		amax := float32(math.Ldexp(1+r.Float64(), int(r.Uint32()%40)-20))
		id := 127 / amax
		x := make([]float32, 32)
		x[0] = amax
		for i := 1; i < 32; i++ {
			k := float64(int(r.Uint32()%254) - 127)
			v := float32((k + 0.5) / float64(id))
			switch i % 3 {
			case 1:
				v = math.Nextafter32(v, float32(math.Inf(1)))
			case 2:
				v = math.Nextafter32(v, float32(math.Inf(-1)))
			}
			if float32(math.Abs(float64(v))) > amax {
				v = amax
			}
			x[i] = v
		}
		out = append(out, x)
	}
	return out
}

func TestQuantizeQ8_0ActivationsSpecial(t *testing.T) {
	r := newRand(172)
	blocks := specialBlocks(r)
	for i, blk := range blocks {
		checkQuantAct(t, fmt.Sprint("special ", i), blk)
	}
	// All of them in one row, between ordinary blocks, across vector batch boundaries.
	var row []float32
	for _, blk := range blocks {
		row = append(row, normal(r, 32, 2)...)
		row = append(row, blk...)
	}
	checkQuantAct(t, "special row", row)
}

func TestQuantizeQ8_0ActivationsLengths(t *testing.T) {
	const prefix = "kernels: QuantizeQ8_0Activations: "
	mustPanic(t, prefix, func() { kernels.QuantizeQ8_0Activations(make([]byte, 34), make([]float32, 33)) })
	mustPanic(t, prefix, func() { kernels.QuantizeQ8_0Activations(make([]byte, 33), make([]float32, 32)) })
	mustPanic(t, prefix, func() { kernels.QuantizeQ8_0Activations(make([]byte, 70), make([]float32, 64)) })
	kernels.QuantizeQ8_0Activations(nil, nil)
}

// FuzzQuantizeQ8_0Activations reads float32 bit patterns (any, NaN and Inf included), four
// bytes each, repeated to a whole number of blocks.
func FuzzQuantizeQ8_0Activations(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0, 0, 0x80, 0x3f})
	f.Add([]byte{0, 0, 0xc0, 0x7f, 0, 0, 0x80, 0x3f})
	r := newRand(173)
	seed := make([]byte, 4*96)
	for i, v := range normal(r, 96, 3) {
		binary.LittleEndian.PutUint32(seed[4*i:], math.Float32bits(v))
	}
	f.Add(seed)
	f.Fuzz(func(t *testing.T, data []byte) {
		n := min(len(data)/4, 4096)
		if n == 0 {
			return
		}
		x := make([]float32, (n+31)/32*32)
		for i := range x {
			x[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*(i%n):]))
		}
		checkQuantAct(t, "fuzz", x)
	})
}

func BenchmarkQuantizeQ8_0Activations(b *testing.B) {
	for _, n := range []int{288, 768, 2048} {
		x := normal(newRand(174), n, 2)
		dst := make([]byte, n/32*34)
		b.Run(fmt.Sprint("n=", n), func(b *testing.B) {
			sides(b, func(b *testing.B) {
				b.SetBytes(int64(4 * n))
				for b.Loop() {
					kernels.QuantizeQ8_0Activations(dst, x)
				}
			})
		})
	}
}
