package quant_test

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/attnscope/attnscope/engine/quant"
)

func TestVecDotType(t *testing.T) {
	want := map[quant.Type]quant.Type{
		quant.F32: quant.F32, quant.F16: quant.F16, quant.BF16: quant.BF16,
		quant.Q4_0: quant.Q8_0, quant.Q5_0: quant.Q8_0, quant.Q8_0: quant.Q8_0,
		quant.Q4_1: quant.Q8_1, quant.Q5_1: quant.Q8_1,
		quant.Q2_K: quant.Q8_K, quant.Q3_K: quant.Q8_K, quant.Q4_K: quant.Q8_K, quant.Q5_K: quant.Q8_K,
		quant.Q6_K: quant.Q8_K,
	}
	for _, typ := range quant.Supported() {
		vt := quant.VecDotType(typ)
		if vt != want[typ] {
			t.Errorf("VecDotType(%s) = %s, want %s", typ, vt, want[typ])
		}
		if vt.BlockSize() != typ.BlockSize() {
			t.Errorf("%s: block size %d, its vec_dot_type %s has %d", typ, typ.BlockSize(), vt, vt.BlockSize())
		}
	}
	// QuantizeActivations is Quantize to the vec_dot_type, byte for byte, except that Q8_0 and
	// Q8_1 round ties to even and scale by 127/amax as ggml's vectorized quantizers do: their
	// blocks may differ from the reference encoder's by one step in a few values.
	x := gaussian(20, 2*quant.QKK, 1)
	for _, typ := range quant.Supported() {
		vt := quant.VecDotType(typ)
		got, ref := make([]byte, rowBytes(t, vt, len(x))), make([]byte, rowBytes(t, vt, len(x)))
		quant.QuantizeActivations(typ, got, x)
		if err := quant.Quantize(vt, ref, x); err != nil {
			t.Fatal(err)
		}
		if vt != quant.Q8_0 && vt != quant.Q8_1 {
			if !bytes.Equal(got, ref) {
				t.Errorf("QuantizeActivations(%s) differs from Quantize(%s)", typ, vt)
			}
			continue
		}
		gd, rd := make([]float32, len(x)), make([]float32, len(x))
		quant.Dequantize(vt, gd, got)
		quant.Dequantize(vt, rd, ref)
		for i := range gd {
			step := math.Abs(float64(rd[i])) / 127 * 2
			if d := math.Abs(float64(gd[i] - rd[i])); d > step+1e-6 {
				t.Fatalf("QuantizeActivations(%s)[%d] = %v, reference %v", typ, i, gd[i], rd[i])
			}
		}
	}
	// A tie: 0.5·(amax/127) rounds to 0 (even) where the reference rounds away from zero to 1.
	tie := make([]float32, quant.QK)
	tie[0], tie[1] = 127, 0.5
	q := make([]byte, quant.Q8_0.BlockBytes())
	quant.QuantizeActivations(quant.Q8_0, q, tie)
	if q[2] != 127 || q[3] != 0 {
		t.Errorf("tie rounding: quants %d %d, want 127 0", int8(q[2]), int8(q[3]))
	}
	if len(want) != len(quant.Supported()) {
		t.Errorf("%d supported types, %d in the table", len(quant.Supported()), len(want))
	}
}

// blockVecDot is VecDot of one hand-built block of typ: every byte 0x55, then d = 1 and the
// minimum (binary16 bits) min, against activations made by QuantizeActivations from x.
func blockVecDot(t *testing.T, typ quant.Type, min uint16, x []float32) float32 {
	row := make([]byte, typ.BlockBytes())
	for i := range row {
		row[i] = 0x55
	}
	d, m := scaleFields(typ)
	put16(row, d, 0x3c00)
	if m >= 0 {
		put16(row, m, min)
	}
	act := make([]byte, rowBytes(t, quant.VecDotType(typ), len(x)))
	quant.QuantizeActivations(typ, act, x)
	return quant.VecDot(typ, row, act, len(x))
}

// TestVecDotKnownValues checks blocks of bytes 0x55 (nibbles 5, bit pairs 01, every other
// bit set) with d = 1 against activations that quantize to d = 1: 127 (Q8_0, Q8_1: q = 127)
// or −127 (Q8_K: q = −127). The products are small integers, exact in float32. With a
// minimum of 1 the Q4_1 block adds m·s = 32·127 and the K-quants subtract Σ m·bsum.
func TestVecDotKnownValues(t *testing.T) {
	fill := func(n int, v float32) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = v
		}
		return x
	}
	x32, x256 := fill(quant.QK, 127), fill(quant.QKK, -127)
	for _, c := range []struct {
		typ  quant.Type
		min  uint16
		x    []float32
		want float32
	}{
		{quant.Q4_0, 0, x32, 32 * (5 - 8) * 127},
		{quant.Q4_1, 0, x32, 32 * 5 * 127},
		{quant.Q5_0, 0, x32, (16*(21-16) + 16*(5-16)) * 127}, // fifth bit of the even elements
		{quant.Q5_1, 0, x32, (16*21 + 16*5) * 127},
		{quant.Q8_0, 0, x32, 32 * 0x55 * 127},
		{quant.Q2_K, 0, x256, 5 * 256 * 1 * -127},                     // scales 5 (min 5, dmin 0), q = 1
		{quant.Q3_K, 0, x256, (21 - 32) * (128*1 + 128*(1-4)) * -127}, // high bit in even 32s
		{quant.Q4_K, 0, x256, 21 * 256 * 5 * -127},                    // every 6-bit scale 21
		{quant.Q5_K, 0, x256, 21 * (128*21 + 128*5) * -127},           // fifth bit in even groups
		{quant.Q6_K, 0, x256, 0x55 * 256 * (5 + 16 - 32) * -127},      // high bits 01: q = 21
		{quant.Q4_1, 0x3c00, x32, 32*5*127 + 32*127},
		{quant.Q5_1, 0x3c00, x32, (16*21+16*5)*127 + 32*127},
		{quant.Q2_K, 0x3c00, x256, 5*256*-127 - 5*256*-127},
		{quant.Q4_K, 0x3c00, x256, 21*256*5*-127 - 21*256*-127},
		{quant.Q5_K, 0x3c00, x256, 21*(128*21+128*5)*-127 - 21*256*-127},
	} {
		if got := blockVecDot(t, c.typ, c.min, c.x); got != c.want {
			t.Errorf("%s with min %#04x: VecDot = %g, want %g", c.typ, c.min, got, c.want)
		}
	}
}

// TestVecDotSmallBlocks is the independent check of the integer paths: one to three random
// blocks per type, activations of very different magnitudes, compared with the float64 value
// of ggml's formula over the decoded weights and activations.
func TestVecDotSmallBlocks(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for _, typ := range quant.Supported() {
		bs := max(typ.BlockSize(), quant.QK)
		for trial := 0; trial < 200; trial++ {
			n := bs * (1 + trial%3)
			if typ.BlockSize() == 1 {
				n = 1 + trial%40
			}
			row := randomRow(r, typ, n)
			x := gaussian(r.Uint64(), n, math.Ldexp(1, r.IntN(16)-10))
			switch trial % 5 {
			case 1: // one large value per block: all other quants small
				x[r.IntN(n)] *= 100
			case 2: // a zero block
				clear(x[:min(bs, n)])
			case 3: // constant: every quant saturates
				for i := range x {
					x[i] = -3
				}
			}
			checkVecDot(t, typ, row, x)
		}
	}
}

// TestVecDotRandomRows checks VecDot on random rows of every type against the exact value of
// ggml's formula and against DotRow with the F32 activations, and logs the relative error.
func TestVecDotRandomRows(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	for _, typ := range quant.Supported() {
		var got, want []float32
		worst := 0.0
		for _, n := range []int{256, 512, 2048} {
			for range 40 {
				row := randomRow(r, typ, n)
				vd, ref, used := checkVecDot(t, typ, row, gaussian(r.Uint64(), n, 1))
				got, want = append(got, vd), append(want, ref)
				worst = max(worst, used)
			}
		}
		// Random bytes give a few blocks with large scales that dominate a row, so the RMS
		// is noisy here; TestVecDotModelFiles bounds it on real weights.
		rel, _ := errStats(got, want)
		t.Logf("%-4s (activations %-4s): RMS |VecDot − DotRow| %.4f%% of RMS DotRow; worst row %.3f of its bound",
			typ, quant.VecDotType(typ), 100*rel, worst)
	}
}

func TestVecDotNoAllocations(t *testing.T) {
	r := rand.New(rand.NewPCG(25, 26))
	const n = 1024
	x := gaussian(27, n, 1)
	for _, typ := range quant.Supported() {
		row := randomRow(r, typ, n)
		act := make([]byte, rowBytes(t, quant.VecDotType(typ), n))
		if a := testing.AllocsPerRun(20, func() { quant.QuantizeActivations(typ, act, x) }); a != 0 {
			t.Errorf("QuantizeActivations(%s): %v allocations", typ, a)
		}
		if a := testing.AllocsPerRun(20, func() { quant.VecDot(typ, row, act, n) }); a != 0 {
			t.Errorf("VecDot(%s): %v allocations", typ, a)
		}
	}
}

func TestVecDotPanics(t *testing.T) {
	mustPanic(t, "VecDotType(Q8_K)", "not supported", func() { quant.VecDotType(quant.Q8_K) })
	mustPanic(t, "VecDot of IQ4_XS", "not supported", func() {
		quant.VecDot(quant.IQ4_XS, make([]byte, 136), make([]byte, 292), 256)
	})
	mustPanic(t, "QuantizeActivations of 33 values", "not a multiple", func() {
		quant.QuantizeActivations(quant.Q4_0, make([]byte, 34), make([]float32, 33))
	})
	mustPanic(t, "QuantizeActivations of Q4_K into 291 bytes", "want 292", func() {
		quant.QuantizeActivations(quant.Q4_K, make([]byte, 291), make([]float32, 256))
	})
	mustPanic(t, "QuantizeActivations of Q4_1 into Q8_0 bytes", "want 36", func() {
		quant.QuantizeActivations(quant.Q4_1, make([]byte, 34), make([]float32, 32))
	})
	mustPanic(t, "VecDot with a short row", "want 144", func() {
		quant.VecDot(quant.Q4_K, make([]byte, 143), make([]byte, 292), 256)
	})
	mustPanic(t, "VecDot with Q8_0 activations for Q4_1", "want 36", func() {
		quant.VecDot(quant.Q4_1, make([]byte, 20), make([]byte, 34), 32)
	})
	mustPanic(t, "VecDot of 16 values of Q8_0", "not a multiple", func() {
		quant.VecDot(quant.Q8_0, make([]byte, 17), make([]byte, 17), 16)
	})
	mustPanic(t, "VecDot with n = −32", "negative", func() {
		quant.VecDot(quant.Q8_0, nil, nil, -32)
	})
	if got := quant.VecDot(quant.Q6_K, nil, nil, 0); got != 0 {
		t.Errorf("VecDot of nothing = %g", got)
	}
}
