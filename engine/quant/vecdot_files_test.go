package quant_test

import (
	"testing"

	"github.com/attnscope/attnscope/engine/quant"
)

// rmsBound bounds the relative RMS error, over a model's matrix–vector products with N(0, 1)
// activations, of VecDot (quantized activations) against DotRow (F32 activations). With the
// weights independent of x, the product's relative error is that of the activations:
//   - Q8_0, Q8_1: step s = max|x|/127 over 32 values, E max|x| ≈ 2.35σ, rounding error uniform
//     with RMS s/√12: 2.35/127/√12 ≈ 0.53%;
//   - Q8_K: over 256 values, E max|x| ≈ 3.05σ: 0.69%;
//   - F16, BF16: rounding to 11 and 8 significant bits, RMS ulp/√12 against values whose
//     significand lies in [1, 2): about 2⁻¹⁰/4.8 ≈ 0.020% and 2⁻⁷/4.8 ≈ 0.16%;
//   - F32: float32 rounding only.
//
// Each bound sits about a quarter above its expected value; the measured values are
// 0.515–0.541% (Q8_0, Q8_1), 0.693% (Q8_K), 0.0204% (F16) and 0.164% (BF16).
var rmsBound = map[quant.Type]float64{
	quant.Q8_0: 0.0067, quant.Q8_1: 0.0067, quant.Q8_K: 0.0087,
	quant.F16: 0.00025, quant.BF16: 0.0020, quant.F32: 1e-6,
}

// vecDotFiles are the model files whose matrices TestVecDotModelFiles multiplies.
var vecDotFiles = []string{
	"tiny-llama-kq-f16.gguf", "tiny-llama-kq-bf16.gguf", "tiny-llama-kq-q4_1.gguf",
	"tiny-llama-kq-q5_0.gguf", "tiny-llama-kq-q5_1.gguf", "tiny-llama-kq-q4_k.gguf",
	"tiny-llama-kq-q5_k.gguf", "tiny-llama-kq-q6_k.gguf", "stories260K-q8_0.gguf",
	"stories260K-q4_0.gguf",
}

// TestVecDotModelFiles multiplies every row of every matrix in the model files with Gaussian
// activations: each row must agree with the exact value of ggml's formula and, within the
// activation-quantization bound, with DotRow; per type, the relative RMS error over all rows
// must stay under rmsBound.
func TestVecDotModelFiles(t *testing.T) {
	for _, name := range vecDotFiles {
		t.Run(name, func(t *testing.T) {
			f := openModel(t, name)
			type stats struct {
				got, want []float32
				rows      int
				worst     float64
			}
			per := map[quant.Type]*stats{}
			for i := range f.Tensors {
				ti := &f.Tensors[i]
				if len(ti.Dims) != 2 {
					continue
				}
				data := tensorData(t, f, ti)
				cols, rows := int(ti.Dims[0]), int(ti.Dims[1])
				rb := len(data) / rows
				s := per[ti.Type]
				if s == nil {
					s = &stats{}
					per[ti.Type] = s
				}
				for r := 0; r < rows; r++ {
					x := gaussian(uint64(1000*i+r), cols, 1)
					vd, ref, used := checkVecDot(t, ti.Type, data[r*rb:(r+1)*rb], x)
					s.got, s.want = append(s.got, vd), append(s.want, ref)
					s.worst = max(s.worst, used)
					s.rows++
				}
			}
			for _, typ := range quant.Supported() {
				s := per[typ]
				if s == nil {
					continue
				}
				rel, _ := errStats(s.got, s.want)
				vt := quant.VecDotType(typ)
				t.Logf("%-4s × %-4s: %5d rows: RMS |VecDot − DotRow| %.4f%% of RMS DotRow; worst row %.3f of its bound",
					typ, vt, s.rows, 100*rel, s.worst)
				if rel > rmsBound[vt] {
					t.Errorf("%s: relative RMS error %.5f, bound %.5f", typ, rel, rmsBound[vt])
				}
			}
		})
	}
}
