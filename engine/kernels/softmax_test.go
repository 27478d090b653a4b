package kernels_test

import (
	"math"
	"slices"
	"testing"

	"github.com/attnscope/attnscope/engine/kernels"
)

var negInf = float32(math.Inf(-1))

// softmax64 is softmax in float64; -Inf entries give 0.
func softmax64(x []float32) []float64 {
	m := math.Inf(-1)
	for _, v := range x {
		m = math.Max(m, float64(v))
	}
	out := make([]float64, len(x))
	if math.IsInf(m, -1) {
		return out
	}
	var sum float64
	for i, v := range x {
		out[i] = math.Exp(float64(v) - m)
		sum += out[i]
	}
	for i := range out {
		out[i] /= sum
	}
	return out
}

// refTol is the relative tolerance against the float64 softmax for entry v of a row whose
// maximum is m: 1e-6, plus the rounding of the float32 difference v−m (at most u·|v−m|), which
// the exponential turns into a relative error of the same size.
func refTol(v, m float32) float64 { return 1e-6 + 2*u32*math.Abs(float64(v)-float64(m)) }

// scoreRows returns rows of attention-like scores of length n, some with masked entries.
func scoreRows(seed uint64, n int) [][]float32 {
	r := newRand(seed)
	masked := uniform(r, n, -8, 8)
	for i := range masked {
		if r.IntN(3) == 0 {
			masked[i] = negInf
		}
	}
	if n > 0 {
		masked[r.IntN(n)] = 0.5 // at least one visible key
	}
	return [][]float32{normal(r, n, 1), uniform(r, n, -30, 30), masked}
}

func TestSoftmaxChunked(t *testing.T) {
	var worstRel, worstSum float64
	for n := 1; n <= 200; n++ {
		for k, row := range scoreRows(uint64(n), n) {
			ref := softmax64(row)
			plain := slices.Clone(row)
			kernels.Softmax(plain)
			for _, padded := range []bool{false, true} {
				got := slices.Clone(row)
				kernels.SoftmaxChunked(got, padded)
				var sum float64
				for i, p := range got {
					sum += float64(p)
					if math.IsInf(float64(row[i]), -1) {
						if p != 0 {
							t.Fatalf("n=%d row %d padded=%v: masked entry %d = %g, want 0", n, k, padded, i, p)
						}
						continue
					}
					if p <= 0 || math.IsNaN(float64(p)) {
						t.Fatalf("n=%d row %d padded=%v: entry %d = %g", n, k, padded, i, p)
					}
					rel := math.Abs(float64(p)-float64(plain[i])) / float64(plain[i])
					worstRel = max(worstRel, rel)
					if rel > 1e-6 {
						t.Errorf("n=%d row %d padded=%v: entry %d = %g, Softmax gives %g (relative %.3g)", n, k, padded, i, p, plain[i], rel)
					}
					if rel64 := math.Abs(float64(p)-ref[i]) / ref[i]; rel64 > refTol(row[i], slices.Max(row)) {
						t.Errorf("n=%d row %d padded=%v: entry %d = %g, float64 softmax %g (relative %.3g)", n, k, padded, i, p, ref[i], rel64)
					}
				}
				worstSum = max(worstSum, math.Abs(sum-1))
				if math.Abs(sum-1) > 1e-6 {
					t.Errorf("n=%d row %d padded=%v: sum %.9f", n, k, padded, sum)
				}
			}
		}
	}
	t.Logf("SoftmaxChunked: largest relative difference from Softmax %.3g, largest |Σ−1| %.3g", worstRel, worstSum)
}

// Rows whose length is a multiple of 16 have no tail, so padding changes nothing; on other
// lengths the tail goes through ExpApprox when padded and through math.Exp when not.
func TestSoftmaxChunkedPadding(t *testing.T) {
	for _, n := range []int{16, 32, 48, 160} {
		row := scoreRows(uint64(n), n)[0]
		a, b := slices.Clone(row), slices.Clone(row)
		kernels.SoftmaxChunked(a, false)
		kernels.SoftmaxChunked(b, true)
		for i := range a {
			if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
				t.Fatalf("n=%d: entry %d differs with padding: %g vs %g", n, i, a[i], b[i])
			}
		}
	}
	// A single entry is 1 either way.
	for _, padded := range []bool{false, true} {
		x := []float32{3.5}
		kernels.SoftmaxChunked(x, padded)
		if x[0] != 1 {
			t.Errorf("padded=%v: softmax of one entry = %g", padded, x[0])
		}
	}
}

// SoftmaxChunked follows its documented arithmetic exactly: chunks of 16 through ExpApprox,
// each folded in float32 and added to a float64 total, the tail through math.Exp unless padded.
func TestSoftmaxChunkedDocumentedOrder(t *testing.T) {
	for _, n := range []int{1, 5, 16, 17, 31, 40, 64, 99} {
		for _, padded := range []bool{false, true} {
			for k, row := range scoreRows(uint64(500+n), n) {
				want := slices.Clone(row)
				m := slices.Max(want)
				full := n - n%16
				if padded {
					full = (n + 15) / 16 * 16
				}
				var sum float64
				for i := 0; i < full; i += 16 {
					var chunk [16]float32
					for l := 0; l < 16 && i+l < n; l++ {
						want[i+l] = kernels.SoftmaxExp(want[i+l] - m)
						chunk[l] = want[i+l]
					}
					sum += float64(fold(chunk[:]))
				}
				for i := full; i < n; i++ {
					want[i] = float32(math.Exp(float64(want[i] - m)))
					sum += float64(want[i])
				}
				inv := float32(1 / sum)
				for i := range want {
					want[i] *= inv
				}
				got := slices.Clone(row)
				kernels.SoftmaxChunked(got, padded)
				for i := range got {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("n=%d padded=%v row %d: entry %d = %g, documented arithmetic gives %g", n, padded, k, i, got[i], want[i])
					}
				}
			}
		}
	}
}

func TestSoftmaxAllMasked(t *testing.T) {
	for _, n := range []int{1, 3, 16, 17, 40} {
		for _, padded := range []bool{false, true} {
			x := make([]float32, n)
			for i := range x {
				x[i] = negInf
			}
			kernels.SoftmaxChunked(x, padded)
			for i, v := range x {
				if v != 0 || math.Signbit(float64(v)) {
					t.Fatalf("SoftmaxChunked n=%d padded=%v: entry %d = %g, want 0", n, padded, i, v)
				}
			}
		}
		x := make([]float32, n)
		for i := range x {
			x[i] = negInf
		}
		m, s := kernels.Softmax(x)
		if !math.IsInf(float64(m), -1) || s != 0 {
			t.Errorf("Softmax n=%d all masked: max %g sum %g, want -Inf and 0", n, m, s)
		}
		for i, v := range x {
			if v != 0 {
				t.Fatalf("Softmax n=%d: entry %d = %g, want 0", n, i, v)
			}
		}
	}
	// Empty rows are left alone.
	kernels.SoftmaxChunked(nil, false)
	kernels.SoftmaxChunked(nil, true)
}

func TestSoftmax(t *testing.T) {
	for n := 1; n <= 100; n++ {
		for k, row := range scoreRows(uint64(900+n), n) {
			ref := softmax64(row)
			x := slices.Clone(row)
			m, s := kernels.Softmax(x)
			if m != slices.Max(row) {
				t.Errorf("n=%d row %d: max %g, want %g", n, k, m, slices.Max(row))
			}
			var sum, esum float64
			for i, p := range x {
				sum += float64(p)
				if ref[i] == 0 {
					if p != 0 {
						t.Fatalf("n=%d row %d: masked entry %d = %g", n, k, i, p)
					}
					continue
				}
				esum += math.Exp(float64(row[i]) - float64(m))
				if rel := math.Abs(float64(p)-ref[i]) / ref[i]; rel > refTol(row[i], m) {
					t.Errorf("n=%d row %d: entry %d = %g, want %g (relative %.3g)", n, k, i, p, ref[i], rel)
				}
			}
			if math.Abs(sum-1) > 1e-6 {
				t.Errorf("n=%d row %d: sum %.9f", n, k, sum)
			}
			if math.Abs(s-esum) > 1e-6*esum {
				t.Errorf("n=%d row %d: returned sum %g, want %g", n, k, s, esum)
			}
		}
	}
}
