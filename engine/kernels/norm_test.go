package kernels_test

import (
	"math"
	"slices"
	"testing"

	"github.com/attnscope/attnscope/engine/kernels"
)

func rmsNorm64(x, w []float32, eps float32) []float64 {
	var ss float64
	for _, v := range x {
		ss += float64(v) * float64(v)
	}
	scale := 1 / math.Sqrt(ss/float64(len(x))+float64(eps))
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v) * scale
		if w != nil {
			out[i] *= float64(w[i])
		}
	}
	return out
}

func layerNorm64(x, w, b []float32, eps float32) []float64 {
	var mean float64
	for _, v := range x {
		mean += float64(v)
	}
	mean /= float64(len(x))
	var ss float64
	for _, v := range x {
		ss += (float64(v) - mean) * (float64(v) - mean)
	}
	scale := 1 / math.Sqrt(ss/float64(len(x))+float64(eps))
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = (float64(v) - mean) * scale
		if w != nil {
			out[i] *= float64(w[i])
		}
		if b != nil {
			out[i] += float64(b[i])
		}
	}
	return out
}

// normTol is the allowed error of a normalized entry: 1e-6 relative to the entry before the
// bias is added, and to the row's own scale — the normalized values are O(1), so an entry that
// is near zero only through cancellation (x−mean, or a bias) is measured against that scale.
func normTol(want float64, w, b []float32, i int) float64 {
	ws := 1.0
	if w != nil {
		ws = math.Abs(float64(w[i]))
	}
	bs := 0.0
	if b != nil {
		bs = math.Abs(float64(b[i]))
	}
	return 1e-6 * (math.Abs(want) + ws + bs)
}

func TestNorms(t *testing.T) {
	r := newRand(11)
	var worstRMS, worstLN float64
	for _, n := range []int{1, 2, 7, 64, 288, 768, 4096} {
		for _, eps := range []float32{1e-5, 1e-6} {
			inputs := [][]float32{normal(r, n, 1), uniform(r, n, -50, 50), normal(r, n, 1e-3)}
			offset := normal(r, n, 0.5)
			for i := range offset {
				offset[i] += 3 // a row with a mean well away from 0
			}
			inputs = append(inputs, offset)
			for k, x := range inputs {
				w, b := uniform(r, n, 0.5, 1.5), normal(r, n, 0.2)
				for _, withW := range []bool{false, true} {
					ww, bb := w, b
					if !withW {
						ww, bb = nil, nil
					}
					got := make([]float32, n)
					kernels.RMSNorm(got, x, ww, eps)
					want := rmsNorm64(x, ww, eps)
					for i := range got {
						err := math.Abs(float64(got[i]) - want[i])
						worstRMS = max(worstRMS, err/(math.Abs(want[i])+1e-300))
						if err > 1e-6*math.Abs(want[i]) {
							t.Fatalf("RMSNorm n=%d input %d weights=%v: entry %d = %g, want %g", n, k, withW, i, got[i], want[i])
						}
					}
					if n == 1 {
						continue // a single entry is its own mean: LayerNorm gives 0 (or the bias)
					}
					kernels.LayerNorm(got, x, ww, bb, eps)
					want = layerNorm64(x, ww, bb, eps)
					for i := range got {
						err := math.Abs(float64(got[i]) - want[i])
						worstLN = max(worstLN, err/normTol(want[i], ww, bb, i)*1e-6)
						if err > normTol(want[i], ww, bb, i) {
							t.Fatalf("LayerNorm n=%d input %d weights=%v: entry %d = %g, want %g", n, k, withW, i, got[i], want[i])
						}
					}
				}
			}
		}
	}
	t.Logf("largest relative error: RMSNorm %.3g, LayerNorm %.3g", worstRMS, worstLN)
}

func TestNormsInPlace(t *testing.T) {
	r := newRand(12)
	x, w, b := normal(r, 100, 2), normal(r, 100, 1), normal(r, 100, 1)
	want := make([]float32, 100)
	kernels.RMSNorm(want, x, w, 1e-5)
	got := slices.Clone(x)
	kernels.RMSNorm(got, got, w, 1e-5)
	if !slices.Equal(got, want) {
		t.Error("RMSNorm in place differs from RMSNorm into a separate slice")
	}
	kernels.LayerNorm(want, x, w, b, 1e-5)
	got = slices.Clone(x)
	kernels.LayerNorm(got, got, w, b, 1e-5)
	if !slices.Equal(got, want) {
		t.Error("LayerNorm in place differs from LayerNorm into a separate slice")
	}
}

// A constant row has no variance: LayerNorm returns the bias, and eps keeps it finite.
func TestLayerNormConstantRow(t *testing.T) {
	x := []float32{4, 4, 4, 4}
	b := []float32{1, -2, 0, 0.5}
	got := make([]float32, 4)
	kernels.LayerNorm(got, x, nil, b, 1e-5)
	if !slices.Equal(got, b) {
		t.Errorf("LayerNorm of a constant row = %v, want the bias %v", got, b)
	}
	kernels.RMSNorm(got, make([]float32, 4), nil, 1e-6)
	if !slices.Equal(got, make([]float32, 4)) {
		t.Errorf("RMSNorm of zeros = %v, want zeros", got)
	}
}

func TestAddMul(t *testing.T) {
	dst := []float32{1, 2, 3}
	kernels.Add(dst, []float32{0.5, -2, 4})
	if !slices.Equal(dst, []float32{1.5, 0, 7}) {
		t.Errorf("Add: %v", dst)
	}
	kernels.Mul(dst, []float32{2, 5, -1})
	if !slices.Equal(dst, []float32{3, 0, -7}) {
		t.Errorf("Mul: %v", dst)
	}
}

func TestNormPanics(t *testing.T) {
	three, four := make([]float32, 3), make([]float32, 4)
	mustPanic(t, "kernels: RMSNorm", func() { kernels.RMSNorm(three, four, nil, 1e-5) })
	mustPanic(t, "kernels: RMSNorm weight", func() { kernels.RMSNorm(three, three, four, 1e-5) })
	mustPanic(t, "kernels: LayerNorm", func() { kernels.LayerNorm(three, four, nil, nil, 1e-5) })
	mustPanic(t, "kernels: LayerNorm weight", func() { kernels.LayerNorm(three, three, four, nil, 1e-5) })
	mustPanic(t, "kernels: LayerNorm bias", func() { kernels.LayerNorm(three, three, nil, four, 1e-5) })
	mustPanic(t, "kernels: Add", func() { kernels.Add(three, four) })
	mustPanic(t, "kernels: Mul", func() { kernels.Mul(three, four) })
}
