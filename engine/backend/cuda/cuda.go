package cuda

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"unsafe"

	"github.com/attnscope/attnscope/engine/backend"
	"github.com/attnscope/attnscope/engine/quant"
)

// The PTX that `make ptx` generated from kernels/*.cu; the driver compiles it for the GPU it finds.
//
//go:embed ptx/*.ptx
var ptxFiles embed.FS

// Driver API constants used here.
const (
	errNoDevice              = 100
	attrComputeMajor         = 75
	attrComputeMinor         = 76
	attrMultiprocessors      = 16
	funcAttrMaxDynamicShared = 8
	jitInfoLogBuffer         = 3
	jitInfoLogBufferBytes    = 4
	jitErrorLogBuffer        = 5
	jitErrorLogBufferBytes   = 6
	jitLogVerbose            = 12
)

// Info describes the device a backend runs on.
type Info struct {
	Name          string `json:"name"`
	Ordinal       int    `json:"ordinal"`
	Major, Minor  int    // compute capability
	SMs           int    `json:"sms"`
	TotalBytes    uint64 `json:"total_bytes"`
	DriverVersion int    `json:"driver_version"` // e.g. 12040 for 12.4
}

// Backend runs products and whole evaluations on one NVIDIA GPU. Every driver call happens on one
// goroutine locked to its OS thread, which holds the device's primary context.
type Backend struct {
	d    *driver
	info Info
	dev  int32
	ctx  uintptr
	mods []uintptr
	fns  map[string]uintptr

	work chan func()
	done chan struct{}
	mu   sync.Mutex // serializes Do and the host-slice methods
	err  error      // first device error inside the running call

	args [24]uint64
	argp [24]unsafe.Pointer

	halfAttention bool // every attention evaluation as if AttnShape.Half were set

	allocs    map[uint64]int64 // live allocations and their sizes
	allocated int64
	peak      int64

	// Page-locked host memory that copies between the host and the device pass through: the
	// driver copies from and to it directly, where a Go slice's pages are staged first (120 µs
	// for each of a decoding step's downloads, measured on an H200).
	pinned      unsafe.Pointer
	pinnedBytes uint64

	// Scratch buffers of the host-slice methods, of Rows' ids, of the f16 copies half-precision
	// attention reads and of the normalized rows the tiled products read.
	sx, sy, sids, shalf, snorm *buf
	closed                     bool
}

// Open starts the driver and takes device ordinal (0 is the first GPU). Without a driver or a device
// it returns an error wrapping backend.ErrUnavailable that says why.
func Open(ordinal int) (*Backend, error) {
	d, err := loadDriver()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", backend.ErrUnavailable, err)
	}
	b := &Backend{d: d, fns: map[string]uintptr{}, work: make(chan func()), done: make(chan struct{}),
		allocs: map[uint64]int64{}}
	for i := range b.argp {
		b.argp[i] = unsafe.Pointer(&b.args[i])
	}
	go b.loop()
	var openErr error
	b.call(func() {
		if openErr = b.start(ordinal); openErr != nil && b.ctx != 0 {
			for _, m := range b.mods {
				d.cuModuleUnload(m)
			}
			d.cuDevicePrimaryCtxRelease(b.dev)
		}
	})
	if openErr != nil {
		close(b.work)
		return nil, openErr
	}
	return b, nil
}

// loop runs the driver calls on one OS thread.
func (b *Backend) loop() {
	runtime.LockOSThread()
	defer close(b.done)
	for f := range b.work {
		f()
	}
}

// call runs f on the driver thread and waits for it.
func (b *Backend) call(f func()) {
	ch := make(chan any, 1)
	b.work <- func() {
		defer func() { ch <- recover() }()
		f()
	}
	if p := <-ch; p != nil {
		panic(p)
	}
}

func (b *Backend) start(ordinal int) error {
	d := b.d
	if r := d.cuInit(0); r != 0 {
		if r == errNoDevice {
			return fmt.Errorf("%w: the NVIDIA driver found no GPU", backend.ErrUnavailable)
		}
		return fmt.Errorf("%w: cuInit: %s", backend.ErrUnavailable, d.errName(r))
	}
	var count, ver int32
	d.cuDriverGetVersion(&ver)
	if r := d.cuDeviceGetCount(&count); r != 0 || count == 0 {
		return fmt.Errorf("%w: the NVIDIA driver found no GPU", backend.ErrUnavailable)
	}
	if ordinal < 0 || ordinal >= int(count) {
		return fmt.Errorf("%w: GPU %d requested, %d present", backend.ErrUnavailable, ordinal, count)
	}
	if r := d.cuDeviceGet(&b.dev, int32(ordinal)); r != 0 {
		return fmt.Errorf("%w: cuDeviceGet: %s", backend.ErrUnavailable, d.errName(r))
	}
	name := make([]byte, 256)
	d.cuDeviceGetName(&name[0], int32(len(name)), b.dev)
	var major, minor, sms int32
	var total uint64
	d.cuDeviceGetAttribute(&major, attrComputeMajor, b.dev)
	d.cuDeviceGetAttribute(&minor, attrComputeMinor, b.dev)
	d.cuDeviceGetAttribute(&sms, attrMultiprocessors, b.dev)
	d.cuDeviceTotalMem(&total, b.dev)
	b.info = Info{Name: strings.TrimRight(string(name), "\x00"), Ordinal: ordinal, Major: int(major), Minor: int(minor),
		SMs: int(sms), TotalBytes: total, DriverVersion: int(ver)}
	if major < 8 {
		return fmt.Errorf("%w: %s has compute capability %d.%d; the kernels need 8.0 or newer", backend.ErrUnavailable, b.info.Name, major, minor)
	}
	if r := d.cuDevicePrimaryCtxRetain(&b.ctx, b.dev); r != 0 {
		return fmt.Errorf("%w: cuDevicePrimaryCtxRetain: %s", backend.ErrUnavailable, d.errName(r))
	}
	if r := d.cuCtxSetCurrent(b.ctx); r != 0 {
		return fmt.Errorf("%w: cuCtxSetCurrent: %s", backend.ErrUnavailable, d.errName(r))
	}
	files, _ := fs.Glob(ptxFiles, "ptx/*.ptx")
	sort.Strings(files)
	for _, f := range files {
		src, _ := ptxFiles.ReadFile(f)
		mod, err := b.loadModule(src)
		if err != nil {
			return fmt.Errorf("cuda: loading %s: %w", f, err)
		}
		b.mods = append(b.mods, mod)
		for _, fn := range entries(src) {
			var h uintptr
			cname := append([]byte(fn), 0)
			if r := d.cuModuleGetFunction(&h, mod, &cname[0]); r != 0 {
				return fmt.Errorf("cuda: kernel %s: %s", fn, d.errName(r))
			}
			b.fns[fn] = h
		}
	}
	// The attention kernel for heads of up to 256 values needs more than the default 48 KiB.
	if h, ok := b.fns["attn_flash_256"]; ok {
		d.cuFuncSetAttribute(h, funcAttrMaxDynamicShared, int32(flashShared(256)))
	}
	for _, v := range faVariants {
		if h, ok := b.fns[v.name()]; ok {
			if r := d.cuFuncSetAttribute(h, funcAttrMaxDynamicShared, int32(v.shared())); r != 0 {
				return fmt.Errorf("cuda: %s: %d bytes of shared memory: %s", v.name(), v.shared(), d.errName(r))
			}
		}
	}
	return nil
}

// loadModule JIT-compiles PTX, returning the compiler's log on failure. With
// ATTNSCOPE_CUDA_JIT_LOG=1 the compiler's report (registers, spills, shared memory of each
// kernel) goes to standard error.
func (b *Backend) loadModule(ptx []byte) (uintptr, error) {
	img := append(append([]byte{}, ptx...), 0)
	logBuf, infoBuf := make([]byte, 8192), make([]byte, 1<<16)
	opts := []int32{jitErrorLogBuffer, jitErrorLogBufferBytes}
	vals := []uintptr{uintptr(unsafe.Pointer(&logBuf[0])), uintptr(len(logBuf))}
	verbose := os.Getenv("ATTNSCOPE_CUDA_JIT_LOG") == "1"
	if verbose {
		opts = append(opts, jitInfoLogBuffer, jitInfoLogBufferBytes, jitLogVerbose)
		vals = append(vals, uintptr(unsafe.Pointer(&infoBuf[0])), uintptr(len(infoBuf)), 1)
	}
	var mod uintptr
	r := b.d.cuModuleLoadDataEx(&mod, &img[0], uint32(len(opts)), &opts[0], &vals[0])
	runtime.KeepAlive(logBuf)
	runtime.KeepAlive(infoBuf)
	if verbose {
		fmt.Fprintf(os.Stderr, "%s\n", strings.TrimRight(string(infoBuf), "\x00"))
	}
	if r != 0 {
		return 0, fmt.Errorf("%s: %s", b.d.errName(r), strings.TrimRight(string(logBuf), "\x00"))
	}
	return mod, nil
}

// entries lists the kernels a PTX file defines.
func entries(ptx []byte) []string {
	var names []string
	for _, line := range strings.Split(string(ptx), "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), ".visible .entry "); ok {
			if i := strings.IndexByte(rest, '('); i > 0 {
				names = append(names, rest[:i])
			}
		}
	}
	return names
}

// Info describes the GPU.
func (b *Backend) Info() Info { return b.info }

// SetHalfAttention makes every attention evaluation run as if its AttnShape.Half were set: on the
// tensor cores where the shape allows (f16 inputs, float32 sums; outputs within about 1e-3 of
// float32 attention).
func (b *Backend) SetHalfAttention(on bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.halfAttention = on
}

// Name implements backend.Backend.
func (b *Backend) Name() string { return "cuda" }

// MemInfo returns the device's free and total memory as the driver reports them.
func (b *Backend) MemInfo() (free, total uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.call(func() { b.d.cuMemGetInfo(&free, &total) })
	return
}

// Allocated returns the bytes this backend holds now and the most it held at once.
func (b *Backend) Allocated() (now, peak int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.allocated, b.peak
}

// Close frees everything the backend allocated and releases the device.
func (b *Backend) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	b.closed = true
	var err error
	b.call(func() {
		b.d.cuCtxSynchronize()
		for p := range b.allocs {
			b.d.cuMemFree(p)
		}
		b.allocs = map[uint64]int64{}
		b.allocated = 0
		if b.pinned != nil {
			b.d.cuMemFreeHost(b.pinned)
			b.pinned, b.pinnedBytes = nil, 0
		}
		for _, m := range b.mods {
			b.d.cuModuleUnload(m)
		}
		if r := b.d.cuDevicePrimaryCtxRelease(b.dev); r != 0 {
			err = fmt.Errorf("cuda: releasing the context: %s", b.d.errName(r))
		}
	})
	close(b.work)
	<-b.done
	return err
}

// check records the first failing driver call of the running operation.
func (b *Backend) check(r int32, what string) {
	if r != 0 && b.err == nil {
		b.err = fmt.Errorf("cuda: %s: %s", what, b.d.errName(r))
	}
}

// buf is device memory holding float32 values.
type buf struct {
	ptr uint64
	n   int
}

// Len implements backend.Buffer.
func (p *buf) Len() int { return p.n }

// ErrOutOfMemory is returned when the GPU cannot hold an allocation.
var ErrOutOfMemory = errors.New("out of GPU memory")

// alloc returns bytes of device memory (on the driver thread).
func (b *Backend) alloc(bytes int64) (uint64, error) {
	if bytes <= 0 {
		bytes = 4
	}
	var p uint64
	if r := b.d.cuMemAlloc(&p, uint64(bytes)); r != 0 {
		var free, total uint64
		b.d.cuMemGetInfo(&free, &total)
		return 0, fmt.Errorf("%w: %d bytes requested, %d of %d free (%s)", ErrOutOfMemory, bytes, free, total, b.d.errName(r))
	}
	b.allocs[p] = bytes
	b.allocated += bytes
	b.peak = max(b.peak, b.allocated)
	return p, nil
}

func (b *Backend) free(p uint64) {
	if n, ok := b.allocs[p]; ok {
		b.check(b.d.cuMemFree(p), "cuMemFree")
		delete(b.allocs, p)
		b.allocated -= n
	}
}

// maxPinned bounds the page-locked staging memory; larger copies go directly.
const maxPinned = 64 << 20

// staging returns page-locked memory of at least n bytes, or nil where copies of n bytes go
// directly (too large, or the driver would not lock more memory).
func (b *Backend) staging(n uint64) unsafe.Pointer {
	if n > maxPinned {
		return nil
	}
	if b.pinnedBytes < n {
		if b.pinned != nil {
			b.d.cuMemFreeHost(b.pinned)
			b.pinned, b.pinnedBytes = nil, 0
		}
		size := max(n, 1<<20)
		var p unsafe.Pointer
		if b.d.cuMemAllocHost(&p, size) != 0 {
			return nil
		}
		b.pinned, b.pinnedBytes = p, size
	}
	return b.pinned
}

// toDevice copies n bytes from host memory at src to the device (on the driver thread).
func (b *Backend) toDevice(dst uint64, src unsafe.Pointer, n uint64) int32 {
	if p := b.staging(n); p != nil {
		copy(unsafe.Slice((*byte)(p), n), unsafe.Slice((*byte)(src), n))
		return b.d.htod(dst, p, n)
	}
	return b.d.htod(dst, src, n)
}

// toHost copies n bytes from the device to host memory at dst (on the driver thread).
func (b *Backend) toHost(dst unsafe.Pointer, src uint64, n uint64) int32 {
	if p := b.staging(n); p != nil {
		r := b.d.dtoh(p, src, n)
		if r == 0 {
			copy(unsafe.Slice((*byte)(dst), n), unsafe.Slice((*byte)(p), n))
		}
		return r
	}
	return b.d.dtoh(dst, src, n)
}

// scratch returns *s grown to hold at least n floats (on the driver thread).
func (b *Backend) scratch(s **buf, n int) *buf {
	if *s != nil && (*s).n >= n {
		return *s
	}
	if *s != nil {
		b.free((*s).ptr)
		*s = nil
	}
	p, err := b.alloc(int64(max(n, 1024)) * 4)
	if err != nil {
		panic("cuda: " + err.Error())
	}
	*s = &buf{ptr: p, n: max(n, 1024)}
	return *s
}

// Argument encoders for launch: device pointers, ints and floats as the kernels declare them.
func ptr(p *buf) uint64 {
	if p == nil {
		return 0
	}
	return p.ptr
}
func i32(v int) uint64     { return uint64(uint32(int32(v))) }
func i64(v int) uint64     { return uint64(int64(v)) }
func f32(v float32) uint64 { return uint64(math.Float32bits(v)) }

// reflectLaunch launches through purego's reflection-built function instead of a direct call
// (kept to measure the difference in BenchmarkLaunch).
var reflectLaunch = false

// launch starts kernel name on a grid of gx×gy blocks of bx threads.
func (b *Backend) launch(name string, gx, gy, bx, shmem int, args ...uint64) {
	fn, ok := b.fns[name]
	if !ok {
		panic("cuda: no kernel " + name)
	}
	if gx == 0 || gy == 0 {
		return
	}
	if gy > 65535 {
		panic(fmt.Sprintf("cuda: %s: grid of %d rows", name, gy))
	}
	copy(b.args[:], args)
	var r int32
	if reflectLaunch {
		r = b.d.cuLaunchKernel(fn, uint32(gx), uint32(gy), 1, uint32(bx), 1, 1, uint32(shmem), 0, &b.argp[0], nil)
	} else {
		r = b.d.launch(fn, uint32(gx), uint32(gy), uint32(bx), uint32(shmem), &b.argp[0])
	}
	if r != 0 {
		b.check(r, "launch "+name)
	}
}

// weight is a matrix in device memory.
type weight struct {
	name       string
	t, stored  quant.Type // the file's type and the type kept on the device
	rows, cols int
	ptr        uint64
	bytes      int64
	mv, mm     string // product kernels
	mv3, mvGLU string
	rowsK      string // embedding-row kernel
}

func (w *weight) Name() string     { return w.name }
func (w *weight) Type() quant.Type { return w.t }
func (w *weight) Rows() int        { return w.rows }
func (w *weight) Cols() int        { return w.cols }
func (w *weight) Bytes() int64     { return w.bytes }

// deviceTypes are the types the kernels read directly; others are dequantized to F32 on upload.
func deviceType(t quant.Type) bool {
	return t == quant.F32 || t == quant.F16 || t == quant.Q8_0 || t == quant.Q4_0
}

func suffix(t quant.Type) string {
	switch t {
	case quant.F16:
		return "f16"
	case quant.Q8_0:
		return "q8_0"
	case quant.Q4_0:
		return "q4_0"
	}
	return "f32"
}

// CopiesWeights implements backend.Copier: NewWeight uploads (synchronously) and keeps no
// reference to the data.
func (b *Backend) CopiesWeights() bool { return true }

// NewWeight implements backend.Backend: F32, F16, Q8_0 and Q4_0 are kept as they are, other
// supported types are dequantized to F32 on the way.
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
	w := &weight{name: name, t: t, stored: t, rows: rows, cols: cols}
	defer w.kernelNames()
	src := data
	if !deviceType(t) {
		f := make([]float32, rows*cols)
		if err := quant.Dequantize(t, f, data); err != nil {
			return nil, fmt.Errorf("tensor %q: %w", name, err)
		}
		src = unsafe.Slice((*byte)(unsafe.Pointer(&f[0])), len(f)*4)
		w.stored = quant.F32
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.call(func() {
		p, e := b.alloc(int64(len(src)))
		if e != nil {
			err = fmt.Errorf("tensor %q: %w", name, e)
			return
		}
		if r := b.d.htod(p, unsafe.Pointer(&src[0]), uint64(len(src))); r != 0 {
			b.free(p)
			err = fmt.Errorf("tensor %q: upload: %s", name, b.d.errName(r))
			return
		}
		w.ptr, w.bytes = p, int64(len(src))
	})
	runtime.KeepAlive(src)
	if err != nil {
		return nil, err
	}
	return w, nil
}

func (b *Backend) get(w backend.Weight) *weight {
	cw, ok := w.(*weight)
	if !ok || cw.ptr == 0 {
		panic("cuda: weight from another backend")
	}
	return cw
}

// MatMul implements backend.Backend: x goes to the GPU, the product comes back.
func (b *Backend) MatMul(dst []float32, w backend.Weight, x []float32, n int) {
	cw := b.get(w)
	if len(dst) != n*cw.rows || len(x) != n*cw.cols || n < 0 {
		panic(fmt.Sprintf("cuda: MatMul %s: dst %d, x %d for n=%d, %dx%d", cw.name, len(dst), len(x), n, cw.rows, cw.cols))
	}
	if n == 0 {
		return
	}
	err := b.Do(func(o backend.Ops) error {
		op := o.(*ops)
		xb := b.scratch(&b.sx, len(x))
		yb := b.scratch(&b.sy, len(dst))
		op.Upload(xb, 0, x)
		op.matmul(yb, cw, xb, n, mmStore)
		op.Download(dst, yb, 0)
		return nil
	})
	if err != nil {
		panic(err.Error())
	}
}

// Row implements backend.Backend.
func (b *Backend) Row(dst []float32, w backend.Weight, r int) {
	cw := b.get(w)
	if len(dst) != cw.cols || r < 0 || r >= cw.rows {
		panic("cuda: Row: bad row or destination length")
	}
	err := b.Do(func(o backend.Ops) error {
		yb := b.scratch(&b.sy, len(dst))
		o.Rows(yb, cw, []int32{int32(r)})
		o.Download(dst, yb, 0)
		return nil
	})
	if err != nil {
		panic(err.Error())
	}
}

// Do implements backend.Device.
func (b *Backend) Do(f func(backend.Ops) error) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return errors.New("cuda: backend closed")
	}
	var err error
	b.call(func() {
		b.err = nil
		err = f(&ops{b: b})
		if err == nil {
			b.check(b.d.cuCtxSynchronize(), "synchronize")
			err = b.err
		}
		b.err = nil
	})
	return err
}

var _ backend.Device = (*Backend)(nil)
