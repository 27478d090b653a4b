package cpu_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/attnscope/attnscope/engine/backend"
	"github.com/attnscope/attnscope/engine/backend/backendtest"
	"github.com/attnscope/attnscope/engine/backend/cpu"
	"github.com/attnscope/attnscope/engine/quant"
)

func TestConformance(t *testing.T) {
	for _, threads := range []int{1, 2} {
		t.Run(fmt.Sprint("threads=", threads), func(t *testing.T) {
			backendtest.Run(t, func() backend.Backend {
				return cpu.NewWithOptions(cpu.Options{Threads: threads, Compute: cpu.ComputeF32})
			})
		})
	}
}

// matMul runs one product on a fresh backend with the given options.
func matMul(t *testing.T, o cpu.Options, c backendtest.Case, x []float32, n int) []float32 {
	t.Helper()
	b := cpu.NewWithOptions(o)
	w, err := b.NewWeight("w", c.Type, c.Shape.Rows, c.Shape.Cols, c.Data)
	if err != nil {
		t.Fatal(err)
	}
	dst := make([]float32, n*c.Shape.Rows)
	b.MatMul(dst, w, x, n)
	return dst
}

// ComputeGGML rounds each input row to the weights' dot-product type and takes quant.VecDot of
// every weight row with it. F32 weights are multiplied as in ComputeF32 in both modes.
func TestComputeGGML(t *testing.T) {
	for _, c := range backendtest.Cases(t) {
		if c.Type == quant.F32 {
			for _, n := range backendtest.Batches {
				x := backendtest.Inputs(n, c.Shape.Cols, uint64(100+n))
				a := matMul(t, cpu.Options{Threads: 1, Compute: cpu.ComputeGGML}, c, x, n)
				b := matMul(t, cpu.Options{Threads: 1, Compute: cpu.ComputeF32}, c, x, n)
				for k := range a {
					if math.Float32bits(a[k]) != math.Float32bits(b[k]) {
						t.Fatalf("%s n=%d: entry %d is %g in ggml mode, %g in f32 mode", c, n, k, a[k], b[k])
					}
				}
			}
			continue
		}
		rb, _ := quant.RowBytes(c.Type, c.Shape.Cols)
		vt := quant.VecDotType(c.Type)
		ab, _ := quant.RowBytes(vt, c.Shape.Cols)
		act := make([]byte, ab)
		for _, n := range backendtest.Batches {
			x := backendtest.Inputs(n, c.Shape.Cols, uint64(100+n))
			for _, threads := range []int{1, 2} {
				got := matMul(t, cpu.Options{Threads: threads, Compute: cpu.ComputeGGML}, c, x, n)
				for i := 0; i < n; i++ {
					quant.QuantizeActivations(c.Type, act, x[i*c.Shape.Cols:(i+1)*c.Shape.Cols])
					for r := 0; r < c.Shape.Rows; r++ {
						want := quant.VecDot(c.Type, c.Data[r*rb:(r+1)*rb], act, c.Shape.Cols)
						if g := got[i*c.Shape.Rows+r]; math.Float32bits(g) != math.Float32bits(want) {
							t.Fatalf("%s n=%d threads=%d: dst[%d][%d] = %g, quant.VecDot gives %g", c, n, threads, i, r, g, want)
						}
					}
				}
			}
		}
	}
}

// Splitting rows between workers changes nothing: one and two threads agree bit for bit in
// both compute modes.
func TestThreadsBitIdentical(t *testing.T) {
	for _, mode := range []cpu.Compute{cpu.ComputeF32, cpu.ComputeGGML} {
		for _, c := range backendtest.Cases(t) {
			for _, n := range backendtest.Batches {
				x := backendtest.Inputs(n, c.Shape.Cols, uint64(200+n))
				one := matMul(t, cpu.Options{Threads: 1, Compute: mode}, c, x, n)
				for _, threads := range []int{2, 3, 64} {
					many := matMul(t, cpu.Options{Threads: threads, Compute: mode}, c, x, n)
					for k := range one {
						if math.Float32bits(one[k]) != math.Float32bits(many[k]) {
							t.Fatalf("%s %s n=%d: entry %d is %g with 1 thread, %g with %d", mode, c, n, k, one[k], many[k], threads)
						}
					}
				}
			}
		}
	}
}

// ComputeAuto gives ComputeGGML's bits for Q8_0 and Q4_0 weights and ComputeF32's for every
// other type.
func TestComputeAuto(t *testing.T) {
	for _, c := range backendtest.Cases(t) {
		like := cpu.ComputeF32
		if c.Type == quant.Q8_0 || c.Type == quant.Q4_0 {
			like = cpu.ComputeGGML
		}
		for _, n := range backendtest.Batches {
			x := backendtest.Inputs(n, c.Shape.Cols, uint64(300+n))
			for _, threads := range []int{1, 2} {
				got := matMul(t, cpu.Options{Threads: threads, Compute: cpu.ComputeAuto}, c, x, n)
				want := matMul(t, cpu.Options{Threads: threads, Compute: like}, c, x, n)
				for k := range got {
					if math.Float32bits(got[k]) != math.Float32bits(want[k]) {
						t.Fatalf("%s n=%d threads=%d: entry %d is %g in auto mode, %g in %s mode", c, n, threads, k, got[k], want[k], like)
					}
				}
			}
		}
	}
}

func TestOptions(t *testing.T) {
	b := cpu.New(0)
	if b.Threads() < 1 || b.Compute() != cpu.ComputeF32 || b.Name() != "cpu" {
		t.Errorf("New(0): %d threads, compute %s, name %q", b.Threads(), b.Compute(), b.Name())
	}
	if b := cpu.NewWithOptions(cpu.Options{Threads: 3, Compute: cpu.ComputeGGML}); b.Threads() != 3 || b.Compute() != cpu.ComputeGGML {
		t.Errorf("NewWithOptions: %d threads, compute %s", b.Threads(), b.Compute())
	}
	for s, want := range map[string]cpu.Compute{"": cpu.ComputeF32, "f32": cpu.ComputeF32, "ggml": cpu.ComputeGGML, "auto": cpu.ComputeAuto} {
		if got, err := cpu.ParseCompute(s); err != nil || got != want {
			t.Errorf("ParseCompute(%q) = %s, %v", s, got, err)
		}
		if s != "" && want.String() != s {
			t.Errorf("%d.String() = %q, want %q", want, want.String(), s)
		}
	}
	if _, err := cpu.ParseCompute("f16"); err == nil {
		t.Error(`ParseCompute("f16") succeeded`)
	}
}

// Both compute modes accept a batch of no rows.
func TestComputeGGMLEmptyBatch(t *testing.T) {
	for _, c := range backendtest.Cases(t) {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("%s: MatMul with n=0 in ggml mode panicked: %v", c, r)
				}
			}()
			matMul(t, cpu.Options{Threads: 1, Compute: cpu.ComputeGGML}, c, nil, 0)
		}()
	}
}
