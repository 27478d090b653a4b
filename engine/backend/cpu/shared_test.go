package cpu_test

import (
	"fmt"
	"math"
	"sync/atomic"
	"testing"

	"github.com/attnscope/attnscope/engine/backend"
	"github.com/attnscope/attnscope/engine/backend/backendtest"
	"github.com/attnscope/attnscope/engine/backend/cpu"
)

// MatMulShared gives each weight's MatMul bits: weights of one type and storage sharing the
// input's preparation, of different types (each prepared on its own), two or three of them, in
// every compute mode, on one thread and on two.
func TestMatMulShared(t *testing.T) {
	byCols := map[int][]backendtest.Case{}
	for _, c := range backendtest.Cases(t) {
		byCols[c.Shape.Cols] = append(byCols[c.Shape.Cols], c)
	}
	for _, mode := range []cpu.Compute{cpu.ComputeF32, cpu.ComputeGGML, cpu.ComputeAuto} {
		for _, threads := range []int{1, 2} {
			be := cpu.NewWithOptions(cpu.Options{Threads: threads, Compute: mode})
			for cols, cs := range byCols {
				for i, c := range cs {
					// Each case three times; for the first of these columns also with the next
					// case, and with the next two (other types where there are).
					sets := [][]backendtest.Case{{c, c, c}}
					if i == 0 {
						sets = append(sets, []backendtest.Case{c, cs[1%len(cs)]}, []backendtest.Case{c, cs[1%len(cs)], cs[2%len(cs)]})
					}
					for _, set := range sets {
						checkShared(t, fmt.Sprintf("%s/threads=%d/cols=%d/%v", mode, threads, cols, set), be, set)
					}
				}
			}
		}
	}
}

// checkShared compares MatMulShared of the set's weights with their MatMuls for every batch.
func checkShared(t *testing.T, name string, be *cpu.Backend, set []backendtest.Case) {
	t.Helper()
	var ws [3]backend.Weight
	for i, c := range set {
		w, err := be.NewWeight(fmt.Sprint("w", i), c.Type, c.Shape.Rows, c.Shape.Cols, c.Data)
		if err != nil {
			t.Fatal(err)
		}
		ws[i] = w
	}
	for _, n := range backendtest.Batches {
		var got, want [3][]float32
		x := backendtest.Inputs(n, set[0].Shape.Cols, uint64(300+n))
		for i, c := range set {
			got[i], want[i] = make([]float32, n*c.Shape.Rows), make([]float32, n*c.Shape.Rows)
			be.MatMul(want[i], ws[i], x, n)
		}
		be.MatMulShared(got[0], got[1], got[2], ws[0], ws[1], ws[2], x, n)
		for i := range set {
			for k := range want[i] {
				if math.Float32bits(got[i][k]) != math.Float32bits(want[i][k]) {
					t.Fatalf("%s n=%d: product %d entry %d is %g, MatMul gives %g", name, n, i, k, got[i][k], want[i][k])
				}
			}
		}
	}
}

// countTask counts how often each part runs.
type countTask struct{ runs [8]atomic.Int32 }

func (c *countTask) Run(i int) { c.runs[i].Add(1) }

// Run runs every part below min(n, threads) once, and returns after they all have.
func TestRun(t *testing.T) {
	for _, threads := range []int{1, 2, 3} {
		be := cpu.New(threads)
		for _, n := range []int{0, 1, 2, 3, 5} {
			var c countTask
			be.Run(n, &c)
			for i := range c.runs {
				want := int32(0)
				if i < min(n, threads) {
					want = 1
				}
				if got := c.runs[i].Load(); got != want {
					t.Errorf("threads=%d n=%d: part %d ran %d times, want %d", threads, n, i, got, want)
				}
			}
		}
	}
}

// A backend's products and tasks need nothing per call once warm: no allocation.
func TestRunAllocations(t *testing.T) {
	be := cpu.New(2)
	var c countTask
	if a := testing.AllocsPerRun(100, func() { be.Run(2, &c) }); a != 0 {
		t.Errorf("Run allocates %.1f times a call", a)
	}
}
