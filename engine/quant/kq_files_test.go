package quant_test

import (
	"bytes"
	"math"
	"testing"

	"github.com/attnscope/attnscope/engine/quant"
)

// The tiny-llama-kq files hold the same N(0, 0.08²) weights, quantized by llama-quantize --pure
// from one F32 original (not shipped) into each type. The F16 file is the reference: its own
// error (relative 2⁻¹¹ at most, about 2·10⁻⁴ RMS) is far below every other type's.
//
// maxRelRMS bounds RMS(w − w_f16)/RMS(w_f16) over all matrices and maxAbs the largest single
// error in units of the weights' σ = 0.08. A uniform rounding error of step s has RMS s/√12;
// for N(0, σ²) weights the expected step and the values measured on these files are
//
//	type  step                                   expected RMS   measured RMS   measured max
//	BF16  2⁻⁷ relative (8 significant bits)      ≈ 0.17%        0.169%         0.012σ
//	Q4_1  (max−min)/15 over 32 ≈ 4.1σ/15         ≈ 7.9%         7.82%          0.27σ
//	Q5_0  max|x|/16 over 32 ≈ 2.1σ/16            ≈ 3.8%         4.27%          0.21σ
//	Q5_1  (max−min)/31 over 32 ≈ 4.1σ/31         ≈ 3.8%         3.79%          0.12σ
//	Q4_K  as Q4_1, scale and min optimized       < Q4_1         7.13%          0.28σ
//	Q5_K  as Q5_1, optimized                     < Q5_1         3.61%          0.16σ
//	Q6_K  max|x|/32 over 16 ≈ 1.8σ/32            ≈ 1.6%         1.77%          0.075σ
//
// and the bounds sit about a quarter above the measured values: a decoding error (a wrong bit,
// nibble or scale) moves them by far more.
var kqFiles = []struct {
	file      string
	typ       quant.Type
	maxRelRMS float64
	maxAbs    float64 // in σ
}{
	{"tiny-llama-kq-bf16.gguf", quant.BF16, 0.0022, 0.016},
	{"tiny-llama-kq-q4_1.gguf", quant.Q4_1, 0.098, 0.34},
	{"tiny-llama-kq-q5_0.gguf", quant.Q5_0, 0.054, 0.26},
	{"tiny-llama-kq-q5_1.gguf", quant.Q5_1, 0.048, 0.16},
	{"tiny-llama-kq-q4_k.gguf", quant.Q4_K, 0.090, 0.35},
	{"tiny-llama-kq-q5_k.gguf", quant.Q5_K, 0.046, 0.20},
	{"tiny-llama-kq-q6_k.gguf", quant.Q6_K, 0.022, 0.095},
}

const kqSigma = 0.08

// TestDequantizeKQFiles dequantizes every matrix of each type and compares it with the F16
// file's values.
func TestDequantizeKQFiles(t *testing.T) {
	ref := openModel(t, "tiny-llama-kq-f16.gguf")
	for _, c := range kqFiles {
		t.Run(c.typ.String(), func(t *testing.T) {
			f := openModel(t, c.file)
			if len(f.Tensors) != len(ref.Tensors) {
				t.Fatalf("%d tensors, the F16 file has %d", len(f.Tensors), len(ref.Tensors))
			}
			var got, want []float32
			matrices := 0
			var rq requantStats
			for i := range ref.Tensors {
				ri := &ref.Tensors[i]
				ti, ok := f.Tensor(ri.Name)
				if !ok {
					t.Fatalf("%s missing", ri.Name)
				}
				if ri.Type == quant.F32 {
					if ti.Type != quant.F32 || !bytes.Equal(tensorData(t, f, ti), tensorData(t, ref, ri)) {
						t.Errorf("%s: F32 tensor differs from the F16 file's", ri.Name)
					}
					continue
				}
				if ri.Type != quant.F16 || ti.Type != c.typ {
					t.Fatalf("%s: types %s and %s, want F16 and %s", ri.Name, ri.Type, ti.Type, c.typ)
				}
				matrices++
				w := dequantized(t, f, ti)
				w16 := dequantized(t, ref, ri)
				got, want = append(got, w...), append(want, w16...)

				// Where we can quantize the type, requantizing the F16 values must come close to
				// ggml's bytes from the F32 original: see compareRequantized.
				if quant.CanQuantize(c.typ) {
					stored := tensorData(t, f, ti)
					mine := make([]byte, len(stored))
					if err := quant.Quantize(c.typ, mine, w16); err != nil {
						t.Fatal(err)
					}
					compareRequantized(t, ri.Name, c.typ, mine, stored, w16, &rq)
				}
			}
			rel, maxAbs := errStats(got, want)
			t.Logf("%s: %d matrices, %d weights: RMS error %.3f%% of RMS weight, max |error| %.4f σ",
				c.typ, matrices, len(got), 100*rel, maxAbs/kqSigma)
			if rel > c.maxRelRMS {
				t.Errorf("relative RMS error %.4f, bound %.4f", rel, c.maxRelRMS)
			}
			if maxAbs/kqSigma > c.maxAbs {
				t.Errorf("max |error| %.4f σ, bound %.4f σ", maxAbs/kqSigma, c.maxAbs)
			}
			if rq.blocks > 0 {
				t.Logf("requantizing the F16 values: %d of %d blocks identical to the file's (%.2f%%); "+
					"%d scales one binary16 step apart; %d quants one step apart; %d scales of "+
					"flipped sign; %d subnormal F16 inputs",
					rq.same, rq.blocks, 100*float64(rq.same)/float64(rq.blocks), rq.scaleOff, rq.quantOff,
					rq.signFlip, rq.subnormal)
			}
		})
	}
}

type requantStats struct{ blocks, same, scaleOff, quantOff, signFlip, subnormal int }

func abs(x float32) float32 { return max(x, -x) }

// bothSigns reports whether the largest magnitude in x occurs with both signs.
func bothSigns(x []float32) bool {
	var m float32
	for _, v := range x {
		m = max(m, abs(v))
	}
	pos, neg := false, false
	for _, v := range x {
		pos = pos || v == m
		neg = neg || v == -m
	}
	return pos && neg
}

// unpack32 returns the scale, minimum and quants of a 32-value block of Q4_1, Q5_0 or Q5_1
// (quants recovered by dequantizing with d = 1 and m = 0).
func unpack32(typ quant.Type, b []byte) (d, m uint16, q [quant.QK]float32) {
	switch typ {
	case quant.Q4_1:
		var blk quant.BlockQ4_1
		blk.Load(b)
		d, m, blk.D, blk.M = blk.D, blk.M, 0x3c00, 0
		blk.Dequantize(&q)
	case quant.Q5_0:
		var blk quant.BlockQ5_0
		blk.Load(b)
		d, blk.D = blk.D, 0x3c00
		blk.Dequantize(&q)
	case quant.Q5_1:
		var blk quant.BlockQ5_1
		blk.Load(b)
		d, m, blk.D, blk.M = blk.D, blk.M, 0x3c00, 0
		blk.Dequantize(&q)
	}
	return d, m, q
}

// compareRequantized compares our quantization of the F16 values (mine) with ggml's of the F32
// original (stored). The F16 values are the original rounded to binary16, so:
//   - BF16: an element can differ only where its F16 value lies exactly half way between two
//     BF16 values (double rounding); the file then holds the other neighbour.
//   - Q4_1, Q5_1: the minimum is an F16 value either way, so M is identical; the scale comes
//     from slightly different extremes, so D may be one binary16 step off; each quant may move
//     by one step where x·id sits near a rounding boundary.
//   - Q5_0: D = max/−16 is exact in binary16 from either input, so D is identical; quants as
//     above.
func compareRequantized(t *testing.T, name string, typ quant.Type, mine, stored []byte, w16 []float32, st *requantStats) {
	t.Helper()
	if typ == quant.BF16 {
		for i := 0; i+1 < len(stored); i += 2 {
			st.blocks++
			a, b := le16(mine[i:]), le16(stored[i:])
			if a == b {
				st.same++
				continue
			}
			x := w16[i/2]
			if abs(x) < 0x1p-14 {
				// A subnormal F16 value is the original only to within 2⁻²⁵: the file's
				// BF16 must be the rounding of some value in that interval.
				lo := quant.BF16ToF32(quant.F32ToBF16(x - 0x1p-25))
				hi := quant.BF16ToF32(quant.F32ToBF16(x + 0x1p-25))
				if v := quant.BF16ToF32(b); v < min(lo, hi) || v > max(lo, hi) {
					t.Fatalf("%s[%d]: subnormal F16 value %g, file has BF16 %g", name, i/2, x, v)
				}
				st.subnormal++
				continue
			}
			tie := math.Float32bits(x)&0xffff == 0x8000
			if !tie || (a != b+1 && a+1 != b) || a&1 != 0 {
				t.Fatalf("%s[%d]: F16 value %g gives BF16 %#04x, file has %#04x", name, i/2, x, a, b)
			}
			st.quantOff++
		}
		return
	}
	bb := typ.BlockBytes()
	for o := 0; o < len(stored); o += bb {
		st.blocks++
		if bytes.Equal(mine[o:o+bb], stored[o:o+bb]) {
			st.same++
			continue
		}
		d1, m1, q1 := unpack32(typ, mine[o:])
		d2, m2, q2 := unpack32(typ, stored[o:])
		if typ == quant.Q5_0 && d1 == d2^0x8000 && bothSigns(w16[o/bb*quant.QK:][:quant.QK]) {
			// Two values of opposite sign and nearly equal magnitude became equal in F16, so
			// the first now wins where the larger won in F32: the scale changes sign.
			st.signFlip++
			continue
		}
		if m1 != m2 || (d1 != d2 && d1 != d2+1 && d1+1 != d2) || (typ == quant.Q5_0 && d1 != d2) {
			t.Fatalf("%s block %d: scale/min %#04x/%#04x, file %#04x/%#04x", name, o/bb, d1, m1, d2, m2)
		}
		if d1 != d2 {
			st.scaleOff++
		}
		for j := range q1 {
			switch q1[j] - q2[j] {
			case 0:
			case 1, -1:
				st.quantOff++
			default:
				t.Fatalf("%s block %d: quant %d is %g, file has %g", name, o/bb, j, q1[j], q2[j])
			}
		}
	}
}

func le16(b []byte) uint16 { return uint16(b[0]) | uint16(b[1])<<8 }
