package cpu

import (
	"encoding/binary"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/attnscope/attnscope/engine/backend"
	"github.com/attnscope/attnscope/engine/kernels"
	"github.com/attnscope/attnscope/engine/quant"
)

// Compute selects how products with non-F32 weights are computed.
type Compute int

const (
	// ComputeF32 (the default) dequantizes the weights and computes every product in float32
	// with float32 activations: no activation rounding.
	ComputeF32 Compute = iota
	// ComputeGGML computes as llama.cpp's CPU backend does: each activation row is first rounded
	// to the weights' dot-product type (F16, BF16, Q8_0, Q8_1 or Q8_K) and the dot products are
	// taken block by block in integers (or half precision) and scaled.
	ComputeGGML
	// ComputeAuto computes Q8_0 and Q4_0 weights as ComputeGGML does (integer products of
	// quantized activations: generation about twice as fast as dequantizing, natively and in
	// WebAssembly) and every other type as ComputeF32. The attention keeps the tiled order.
	ComputeAuto
)

func (c Compute) String() string {
	switch c {
	case ComputeF32:
		return "f32"
	case ComputeGGML:
		return "ggml"
	}
	return "auto"
}

// ParseCompute reads "auto", "ggml" or "f32" ("" is f32, the zero value).
func ParseCompute(s string) (Compute, error) {
	switch s {
	case "f32", "":
		return ComputeF32, nil
	case "ggml":
		return ComputeGGML, nil
	case "auto":
		return ComputeAuto, nil
	}
	return 0, fmt.Errorf("unknown compute mode %q (auto, ggml, f32)", s)
}

// roundsActivations reports whether products with weights of type t round the activations to
// the weights' dot-product type (see Compute).
func (b *Backend) roundsActivations(t quant.Type) bool {
	switch b.compute {
	case ComputeGGML:
		return true
	case ComputeAuto:
		return t == quant.Q8_0 || t == quant.Q4_0
	}
	return false
}

// Options configure the CPU backend.
type Options struct {
	Threads int     // goroutines per product (0: GOMAXPROCS)
	Compute Compute // how non-F32 weights are multiplied
}

// Backend is the CPU backend. The zero value is not usable; call New.
type Backend struct {
	threads int
	compute Compute
}

// New returns a CPU backend using up to threads goroutines per product (0 = GOMAXPROCS) that
// computes in float32 (ComputeF32).
func New(threads int) *Backend { return NewWithOptions(Options{Threads: threads}) }

// NewWithOptions returns a CPU backend configured by o.
func NewWithOptions(o Options) *Backend {
	if o.Threads <= 0 {
		o.Threads = runtime.GOMAXPROCS(0)
	}
	ensureWorkers(o.Threads - 1)
	return &Backend{threads: o.Threads, compute: o.Compute}
}

// Compute is how the backend multiplies non-F32 weights.
func (b *Backend) Compute() Compute { return b.compute }

// Threads is the parallelism of products.
func (b *Backend) Threads() int { return b.threads }

type weight struct {
	name       string
	t          quant.Type
	rows, cols int
	data       []byte          // ggml encoding (nil for F32 and packed weights)
	f32        []float32       // F32 weights decoded once
	packed     *kernels.Packed // Q8_0/Q4_0 weights rearranged for the vector kernels (kernels.Packs)
	rowBytes   int
}

func (w *weight) Name() string     { return w.name }
func (w *weight) Type() quant.Type { return w.t }
func (w *weight) Rows() int        { return w.rows }
func (w *weight) Cols() int        { return w.cols }
func (w *weight) Bytes() int64 {
	if w.f32 != nil {
		return int64(len(w.f32)) * 4
	}
	if w.packed != nil {
		return w.packed.Bytes()
	}
	return int64(len(w.data))
}

// Name implements backend.Backend.
func (b *Backend) Name() string { return "cpu" }

// Close implements backend.Backend.
func (b *Backend) Close() error { return nil }

// CopiesWeights implements backend.Copier: NewWeight converts, packs or copies the data.
func (b *Backend) CopiesWeights() bool { return true }

// NewWeight implements backend.Backend.
func (b *Backend) NewWeight(name string, t quant.Type, rows, cols int, data []byte) (backend.Weight, error) {
	if !quant.IsSupported(t) {
		return nil, fmt.Errorf("tensor %q: type %s is not supported (supported: %s)", name, t, quant.SupportedNames())
	}
	rb, err := quant.RowBytes(t, cols)
	if err != nil {
		return nil, fmt.Errorf("tensor %q: %w", name, err)
	}
	if rows <= 0 || len(data) != rows*rb {
		return nil, fmt.Errorf("tensor %q: %d bytes for %d rows of %d %s elements", name, len(data), rows, cols, t)
	}
	w := &weight{name: name, t: t, rows: rows, cols: cols, rowBytes: rb}
	if t == quant.F32 {
		w.f32 = floatSlab.make(rows * cols)
		for i := range w.f32 {
			w.f32[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
		}
	} else if b.roundsActivations(t) && kernels.Packs(t) || !b.roundsActivations(t) && kernels.PacksFloat(t) {
		nq, nd, err := kernels.PackedLen(t, rows, cols)
		if err == nil {
			w.packed, err = kernels.PackInto(t, data, rows, cols, byteSlab.make(nq), wordSlab.make(nd))
		}
		if err != nil {
			return nil, fmt.Errorf("tensor %q: %w", name, err)
		}
	} else {
		w.data = byteSlab.make(len(data))
		copy(w.data, data)
	}
	return w, nil
}

func (b *Backend) get(w backend.Weight) *weight {
	cw, ok := w.(*weight)
	if !ok {
		panic("cpu: weight from another backend")
	}
	return cw
}

// Row implements backend.Backend.
func (b *Backend) Row(dst []float32, w backend.Weight, r int) {
	cw := b.get(w)
	if len(dst) != cw.cols || r < 0 || r >= cw.rows {
		panic("cpu: Row: bad row or destination length")
	}
	if cw.f32 != nil {
		copy(dst, cw.f32[r*cw.cols:(r+1)*cw.cols])
		return
	}
	if cw.packed != nil {
		cw.packed.Dequantize(dst, r)
		return
	}
	if err := kernels.Dequantize(cw.t, dst, cw.data[r*cw.rowBytes:(r+1)*cw.rowBytes]); err != nil {
		panic("cpu: " + err.Error())
	}
}

// MatMul implements backend.Backend.
func (b *Backend) MatMul(dst []float32, w backend.Weight, x []float32, n int) {
	b.matMuls(&[3][]float32{dst}, &[3]*weight{b.get(w)}, 1, x, n)
}

// MatMulShared implements backend.SharedMatMuler.
func (b *Backend) MatMulShared(d0, d1, d2 []float32, w0, w1, w2 backend.Weight, x []float32, n int) {
	ws, k := [3]*weight{b.get(w0), b.get(w1)}, 2
	if w2 != nil {
		ws[2], k = b.get(w2), 3
	}
	b.matMuls(&[3][]float32{d0, d1, d2}, &ws, k, x, n)
}

// matMuls computes ds[i] = x·ws[i]ᵀ for i < k. Weights of the same type, columns and storage
// share the input's preparation (its activations rounded once) and one wait for the threads.
func (b *Backend) matMuls(ds *[3][]float32, ws *[3]*weight, k int, x []float32, n int) {
	rows := 0
	for i := 0; i < k; i++ {
		cw := ws[i]
		if len(ds[i]) != n*cw.rows || len(x) != n*cw.cols {
			panic(fmt.Sprintf("cpu: MatMul %s: dst %d, x %d for n=%d, %dx%d", cw.name, len(ds[i]), len(x), n, cw.rows, cw.cols))
		}
		if i > 0 && !samePreparation(ws[0], cw) {
			for j := 0; j < k; j++ {
				b.matMuls(&[3][]float32{ds[j]}, &[3]*weight{ws[j]}, 1, x, n)
			}
			return
		}
		rows += cw.rows
	}
	if n == 0 {
		return
	}
	cw := ws[0]
	var qx []byte             // activations in the weights' dot-product type (ComputeGGML)
	var qs []uint32           // their block scales (float32 bits), for packed weights
	var tile *kernels.ActTile // and sixteen at a time side by side, where that has a kernel
	if cw.f32 == nil && b.roundsActivations(cw.t) {
		vt := quant.VecDotType(cw.t)
		ab, _ := quant.RowBytes(vt, cw.cols)
		qp := bytePool.Get().(*[]byte)
		defer bytePool.Put(qp)
		if cap(*qp) < n*ab {
			*qp = make([]byte, n*ab)
		}
		qx = (*qp)[:n*ab]
		if vt == quant.Q8_0 {
			kernels.QuantizeQ8_0Activations(qx, x) // the same bytes, on vectors
		} else {
			for i := 0; i < n; i++ {
				quant.QuantizeActivations(cw.t, qx[i*ab:(i+1)*ab], x[i*cw.cols:(i+1)*cw.cols])
			}
		}
		if cw.packed != nil {
			sp := scalePool.Get().(*[]uint32)
			defer scalePool.Put(sp)
			nb := cw.cols / 32
			if cap(*sp) < n*nb {
				*sp = make([]uint32, n*nb)
			}
			qs = (*sp)[:n*nb]
			kernels.ActScales(qs, qx)
			if n >= kernels.TileInputs && kernels.TileKernel(cw.t) {
				tile = tilePool.Get().(*kernels.ActTile)
				defer tilePool.Put(tile)
				tile.Set(qx, qs, n)
			}
		}
	}
	if n*rows*cw.cols < 1<<16 || b.threads < 2 {
		for i := 0; i < k; i++ {
			b.rowsRange(ds[i], ws[i], x, qx, qs, tile, n, 0, ws[i].rows)
		}
		return
	}
	// Every product's parts 1… go to the shared workers, then parts 0 run here.
	d := donePool.Get().(*done)
	var mine [3]int // where each product's part 0 ends
	for i := 0; i < k; i++ {
		cw := ws[i]
		parts := min(b.threads, cw.rows)
		if cw.packed != nil {
			// Packed products start on whole groups of rows (split's boundaries are multiples of
			// eight when every part has at least eight rows).
			parts = max(1, min(parts, cw.rows/kernels.PackRows))
		}
		d.add(parts - 1)
		for p := 1; p < parts; p++ {
			workers <- job{b: b, dst: ds[i], w: cw, x: x, qx: qx, qs: qs, tile: tile, n: n, r0: split(cw.rows, p, parts), r1: split(cw.rows, p+1, parts), done: d}
		}
		mine[i] = split(cw.rows, 1, parts)
	}
	for i := 0; i < k; i++ {
		b.rowsRange(ds[i], ws[i], x, qx, qs, tile, n, 0, mine[i])
	}
	d.wait()
	donePool.Put(d)
}

// samePreparation says whether products with a and b take the same input preparation: the same
// type, columns and storage.
func samePreparation(a, b *weight) bool {
	return a.t == b.t && a.cols == b.cols && (a.f32 == nil) == (b.f32 == nil) && (a.packed == nil) == (b.packed == nil)
}

// split is where part p of parts begins in rows rows: boundaries fall on multiples of 8 where
// the rows allow (the vector kernels take rows in groups of four or eight), the last part ends
// at rows.
func split(rows, p, parts int) int {
	if p >= parts {
		return rows
	}
	if rows >= 8*parts {
		return rows * p / parts &^ 7
	}
	return rows * p / parts
}

// Run implements backend.Runner: parts 1… of t on the shared workers, part 0 here, n at most
// the backend's threads.
func (b *Backend) Run(n int, t backend.Task) {
	n = min(n, b.threads)
	if n <= 1 {
		if n == 1 {
			t.Run(0)
		}
		return
	}
	d := donePool.Get().(*done)
	d.add(n - 1)
	for i := 1; i < n; i++ {
		workers <- job{task: t, part: i, done: d}
	}
	t.Run(0)
	d.wait()
	donePool.Put(d)
}

// job is one part of a product, or of a task, run by a worker.
type job struct {
	b      *Backend
	dst    []float32
	w      *weight
	x      []float32
	qx     []byte
	qs     []uint32
	tile   *kernels.ActTile
	n      int
	r0, r1 int
	task   backend.Task // where not nil, the job is task.Run(part)
	part   int
	done   *done
}

// done counts a product's parts still running on workers. The product's goroutine polls it for
// a while before it sleeps, as the workers poll for the next job: a goroutine woken from sleep
// starts tens of microseconds later on this machine's cores, a large part of a prompt's product.
type done struct {
	pending atomic.Int32
	wg      sync.WaitGroup
}

func (d *done) add(n int) {
	d.pending.Add(int32(n))
	d.wg.Add(n)
}

func (d *done) finish() {
	d.pending.Add(-1)
	d.wg.Done()
}

func (d *done) wait() {
	for i := 0; i < spinPolls && d.pending.Load() > 0; i++ {
		if i%256 == 255 {
			runtime.Gosched()
		}
	}
	d.wg.Wait()
}

// spinPolls is how many times a worker polls for a job, and a product for its parts, before
// sleeping: some tens of microseconds.
const spinPolls = 4096

// nextJob returns the next job, polling for a while before it sleeps on the channel (letting
// other goroutines run every so often).
func nextJob() job {
	for i := 0; i < spinPolls; i++ {
		select {
		case j := <-workers:
			return j
		default:
		}
		if i%256 == 255 {
			runtime.Gosched()
		}
	}
	return <-workers
}

// The products' parts run on worker goroutines shared by all CPU backends, started as backends
// ask for them (threads−1 each at most), so that a product starts no goroutine and allocates
// nothing.
var (
	workers   = make(chan job, 64)
	workersMu sync.Mutex
	nWorkers  int
	donePool  = sync.Pool{New: func() any { return new(done) }}
	f32Pool   = sync.Pool{New: func() any { return new([]float32) }} // dequantized rows
	bytePool  = sync.Pool{New: func() any { return new([]byte) }}    // quantized activations
	scalePool = sync.Pool{New: func() any { return new([]uint32) }}  // their block scales
	tilePool  = sync.Pool{New: func() any { return new(kernels.ActTile) }}
)

// ensureWorkers starts workers until at least n run.
func ensureWorkers(n int) {
	workersMu.Lock()
	defer workersMu.Unlock()
	for ; nWorkers < n; nWorkers++ {
		go func() {
			for {
				j := nextJob()
				if j.task != nil {
					j.task.Run(j.part)
				} else {
					j.b.rowsRange(j.dst, j.w, j.x, j.qx, j.qs, j.tile, j.n, j.r0, j.r1)
				}
				j.done.finish()
			}
		}()
	}
}

// rowsRange computes output rows [r0, r1) for all n inputs. qx, when not nil, holds the inputs
// in the weights' dot-product type and qs, for packed weights, their block scales; tile, when
// not nil, the same arranged in groups of sixteen.
func (b *Backend) rowsRange(dst []float32, w *weight, x []float32, qx []byte, qs []uint32, tile *kernels.ActTile, n, r0, r1 int) {
	cols := w.cols
	if qx != nil && w.packed != nil {
		// As below, on the packed rows.
		ab, nb := len(qx)/n, cols/32
		step := max(kernels.PackRows, (16<<10)/(nb*34)&^(kernels.PackRows-1))
		if n == 1 {
			// Nothing to keep in the cache for a next input: the kernel takes the whole range
			// (and reads it as streams from both halves, see kernels.VecDotRowsPacked).
			step = r1 - r0
		}
		for r := r0; r < r1; r += step {
			re := min(r+step, r1)
			i := 0
			if tile != nil { // sixteen inputs at a time, no sums across vectors
				for g := 0; g < tile.Groups(); g++ {
					kernels.VecDotRowsPackedTile(dst, w.rows, w.packed, r, re, tile, g)
				}
				i = tile.Groups() * kernels.TileInputs
			}
			for ; i+1 < n; i += 2 { // two inputs at a time read the rows once
				kernels.VecDotRowsPacked2(dst[i*w.rows+r:i*w.rows+re], dst[(i+1)*w.rows+r:(i+1)*w.rows+re], w.packed, r,
					qx[i*ab:(i+1)*ab], qx[(i+1)*ab:(i+2)*ab], qs[i*nb:(i+1)*nb], qs[(i+1)*nb:(i+2)*nb])
			}
			if i < n {
				kernels.VecDotRowsPacked(dst[i*w.rows+r:i*w.rows+re], w.packed, r, qx[i*ab:(i+1)*ab], qs[i*nb:(i+1)*nb])
			}
		}
		return
	}
	if qx != nil {
		// Blocks of rows that stay in the cache while every input passes them, each block
		// times each input with VecDotRows (VecDot's bits, several rows side by side).
		ab, rb := len(qx)/n, w.rowBytes
		step := max(8, (16<<10)/rb&^7)
		for r := r0; r < r1; r += step {
			re := min(r+step, r1)
			for i := 0; i < n; i++ {
				kernels.VecDotRows(w.t, dst[i*w.rows+r:i*w.rows+re], w.data[r*rb:re*rb], qx[i*ab:(i+1)*ab], cols)
			}
		}
		return
	}
	if cols%16 == 0 {
		b.rowsLanes(dst, w, x, n, r0, r1)
		return
	}
	var scratch []float32
	if w.f32 == nil {
		sp := f32Pool.Get().(*[]float32)
		defer f32Pool.Put(sp)
		if cap(*sp) < cols {
			*sp = make([]float32, cols)
		}
		scratch = (*sp)[:cols]
	}
	for r := r0; r < r1; r++ {
		if w.f32 != nil {
			row := w.f32[r*cols : (r+1)*cols]
			for i := 0; i < n; i++ {
				xi := x[i*cols : (i+1)*cols]
				dst[i*w.rows+r] = dotF32(row, xi)
			}
			continue
		}
		row := w.data[r*w.rowBytes : (r+1)*w.rowBytes]
		// Dequantize the row once and reuse it for every input.
		if err := kernels.Dequantize(w.t, scratch, row); err != nil {
			panic("cpu: " + err.Error())
		}
		for i := 0; i < n; i++ {
			xi := x[i*cols : (i+1)*cols]
			dst[i*w.rows+r] = dotF32(scratch, xi)
		}
	}
}

// fusedInputs is the most inputs for which quantized rows are multiplied by the fused kernel
// (kernels.MatVecQLanes, once per input) instead of being dequantized once for all inputs.
const fusedInputs = 1

// laneRows is how many weight rows rowsLanes takes at a time: they are reused for every input
// while they sit in the first-level cache.
const laneRows = 16

// rowsLanes is rowsRange in float32 for rows whose length is a multiple of 16, where dotF32 is
// DotLanes: blocks of rows (dequantized first if need be) times all inputs with MatMulLanes
// (MatVecLanes for one input), or for few inputs quantized rows decoded inside the product.
func (b *Backend) rowsLanes(dst []float32, w *weight, x []float32, n, r0, r1 int) {
	cols := w.cols
	if w.packed != nil && n <= fusedInputs {
		for i := 0; i < n; i++ {
			kernels.MatVecQLanesPacked(dst[i*w.rows+r0:i*w.rows+r1], w.packed, r0, x[i*cols:(i+1)*cols])
		}
		return
	}
	if w.f32 == nil && n <= fusedInputs {
		// Few inputs: the fused kernel decodes the weights as it multiplies (the same bits as
		// dequantizing first), reading each weight once per input; it declines types and
		// lengths it does not cover, and then nothing has been written.
		rb, ok := w.rowBytes, true
		for i := 0; i < n && ok; i++ {
			ok = kernels.MatVecQLanes(w.t, dst[i*w.rows+r0:i*w.rows+r1], w.data[r0*rb:r1*rb], x[i*cols:(i+1)*cols])
		}
		if ok {
			return
		}
	}
	if w.f32 != nil && n == 1 {
		// The whole range at once: the kernel reads it as streams from both halves.
		kernels.MatVecLanes(dst[r0:r1], w.f32[r0*cols:r1*cols], x)
		return
	}
	var scratch []float32
	if w.f32 == nil {
		sp := f32Pool.Get().(*[]float32)
		defer f32Pool.Put(sp)
		if cap(*sp) < laneRows*cols {
			*sp = make([]float32, laneRows*cols)
		}
		scratch = (*sp)[:laneRows*cols]
	}
	for r := r0; r < r1; r += laneRows {
		rr := min(laneRows, r1-r)
		var rows []float32
		if w.f32 != nil {
			rows = w.f32[r*cols : (r+rr)*cols]
		} else if w.packed != nil {
			rows = scratch[:rr*cols]
			w.packed.Dequantize(rows, r)
		} else {
			rows = scratch[:rr*cols]
			if err := kernels.Dequantize(w.t, rows, w.data[r*w.rowBytes:(r+rr)*w.rowBytes]); err != nil {
				panic("cpu: " + err.Error())
			}
		}
		if n == 1 {
			kernels.MatVecLanes(dst[r:r+rr], rows, x)
			continue
		}
		// All inputs against the block of rows, in tiles of rows × inputs.
		kernels.MatMulLanes(dst[r:], w.rows, rows, x, cols)
	}
}

// dotF32 sums a weight row against an input in the order llama.cpp's CPU backend uses on
// 512-bit vectors: the tiled order of its matrix kernel when the row length is a multiple of 16,
// otherwise the blocked order of its vector dot product.
func dotF32(w, x []float32) float32 {
	if len(w)%16 == 0 {
		return kernels.DotLanes(w, x)
	}
	return kernels.DotBlocked(w, x)
}
