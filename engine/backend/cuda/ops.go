package cuda

import (
	"fmt"
	"unsafe"

	"github.com/attnscope/attnscope/engine/backend"
)

// ops implements backend.Ops on the driver thread.
type ops struct{ b *Backend }

func (o *ops) buf(x backend.Buffer) *buf {
	p, ok := x.(*buf)
	if !ok {
		panic("cuda: buffer from another backend")
	}
	return p
}

// opt is buf for optional arguments.
func (o *ops) opt(x backend.Buffer) *buf {
	if x == nil {
		return nil
	}
	return o.buf(x)
}

func span(what string, p *buf, off, n int) {
	if off < 0 || n < 0 || off+n > p.n {
		panic(fmt.Sprintf("cuda: %s: values [%d, %d) of a buffer of %d", what, off, off+n, p.n))
	}
}

func (o *ops) Alloc(n int) (backend.Buffer, error) {
	if n < 0 {
		return nil, fmt.Errorf("cuda: Alloc(%d)", n)
	}
	p, err := o.b.alloc(int64(n) * 4)
	if err != nil {
		return nil, err
	}
	return &buf{ptr: p, n: n}, nil
}

func (o *ops) Free(x backend.Buffer) {
	p := o.buf(x)
	o.b.free(p.ptr)
	p.ptr, p.n = 0, 0
}

func (o *ops) Upload(dst backend.Buffer, off int, src []float32) {
	p := o.buf(dst)
	span("Upload", p, off, len(src))
	if len(src) == 0 {
		return
	}
	o.b.check(o.b.toDevice(p.ptr+uint64(off)*4, unsafe.Pointer(&src[0]), uint64(len(src))*4), "upload")
}

func (o *ops) Download(dst []float32, src backend.Buffer, off int) {
	p := o.buf(src)
	span("Download", p, off, len(dst))
	if len(dst) == 0 {
		return
	}
	o.b.check(o.b.toHost(unsafe.Pointer(&dst[0]), p.ptr+uint64(off)*4, uint64(len(dst))*4), "download")
}

func (o *ops) Copy(dst backend.Buffer, dstOff int, src backend.Buffer, srcOff, n int) {
	d, s := o.buf(dst), o.buf(src)
	span("Copy to", d, dstOff, n)
	span("Copy from", s, srcOff, n)
	if n == 0 {
		return
	}
	o.b.check(o.b.d.dtod(d.ptr+uint64(dstOff)*4, s.ptr+uint64(srcOff)*4, uint64(n)*4), "copy")
}

func (o *ops) Rows(dst backend.Buffer, w backend.Weight, ids []int32) {
	cw := o.b.get(w)
	d := o.buf(dst)
	span("Rows", d, 0, len(ids)*cw.cols)
	for _, id := range ids {
		if id < 0 || int(id) >= cw.rows {
			panic(fmt.Sprintf("cuda: Rows %s: row %d of %d", cw.name, id, cw.rows))
		}
	}
	if len(ids) == 0 {
		return
	}
	ib := o.b.scratch(&o.b.sids, len(ids))
	o.b.check(o.b.toDevice(ib.ptr, unsafe.Pointer(&ids[0]), uint64(len(ids))*4), "upload ids")
	o.b.launch(cw.rowsK, len(ids), 1, 256, 0, cw.ptr, ib.ptr, d.ptr, i32(cw.cols))
}

func (o *ops) MatMul(dst backend.Buffer, w backend.Weight, x backend.Buffer, n int) {
	o.matmul(o.buf(dst), o.b.get(w), o.buf(x), n, mmStore)
}

func (o *ops) MatMulAdd(dst backend.Buffer, w backend.Weight, x backend.Buffer, n int) {
	o.matmul(o.buf(dst), o.b.get(w), o.buf(x), n, mmAdd)
}

// mvMax is the largest batch multiplied row by row (one warp per weight row and input row);
// larger batches take the tiled kernel.
const mvMax = 8

// What the tiled kernel does with a product (mode, as kernels/matmul.cu numbers them).
const (
	mmStore  = 0 // y = product
	mmAdd    = 1 // y += product
	mmSwiGLU = 2 // y = silu(y) · product
)

func flag(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

func checkProduct(what string, d *buf, w *weight, x *buf, n int) {
	span(what+" dst", d, 0, n*w.rows)
	span(what+" x", x, 0, n*w.cols)
}

// matmul sets d = x·Wᵀ, adds it to d, or (mmSwiGLU, tiled batches only) sets d = silu(d)·x·Wᵀ.
func (o *ops) matmul(d *buf, w *weight, x *buf, n int, mode int) {
	checkProduct("MatMul", d, w, x, n)
	if n == 0 {
		return
	}
	if n <= mvMax && mode != mmSwiGLU {
		o.b.launch(w.mv, (w.rows+7)/8, n, 256, 0, w.ptr, x.ptr, d.ptr, i32(w.rows), i32(w.cols), flag(mode == mmAdd))
		return
	}
	o.b.launch(w.mm, (w.rows+63)/64, (n+63)/64, 256, 0, w.ptr, x.ptr, d.ptr, i32(w.rows), i32(w.cols), i32(n), i32(mode))
}

// normed checks norm and, for the tiled products (which read their input as it is), writes the
// normalized rows to scratch and returns them; the row-by-row kernels normalize as they read.
func (o *ops) normed(x *buf, rows, cols int, norm backend.Norm, tiled bool) (*buf, *buf) {
	if norm.W == nil {
		return x, nil
	}
	nw := o.buf(norm.W)
	span("Norm w", nw, 0, cols)
	if !tiled {
		return x, nw
	}
	h := o.b.scratch(&o.b.snorm, rows*cols)
	o.b.launch("rmsnorm", rows, 1, normThreads(cols), 0, x.ptr, nw.ptr, h.ptr, i32(cols), f32(norm.Eps))
	return h, nil
}

func (o *ops) MatMul3(d0, d1, d2 backend.Buffer, w0, w1, w2 backend.Weight, x backend.Buffer, n int, norm backend.Norm) {
	ds := [3]*buf{o.buf(d0), o.buf(d1), o.buf(d2)}
	ws := [3]*weight{o.b.get(w0), o.b.get(w1), o.b.get(w2)}
	xb := o.buf(x)
	for i := range ds {
		checkProduct("MatMul3", ds[i], ws[i], xb, n)
	}
	if n == 0 {
		return
	}
	tiled := n > mvMax || ws[0].stored != ws[1].stored || ws[0].stored != ws[2].stored ||
		ws[0].cols != ws[1].cols || ws[0].cols != ws[2].cols
	xin, nw := o.normed(xb, n, ws[0].cols, norm, tiled)
	if tiled {
		for i := range ds {
			o.matmul(ds[i], ws[i], xin, n, mmStore)
		}
		return
	}
	rows := ws[0].rows + ws[1].rows + ws[2].rows
	o.b.launch(ws[0].mv3, (rows+7)/8, n, 256, 0, ws[0].ptr, ds[0].ptr, i32(ws[0].rows), ws[1].ptr, ds[1].ptr,
		i32(ws[1].rows), ws[2].ptr, ds[2].ptr, i32(ws[2].rows), xin.ptr, i32(ws[0].cols), ptr(nw), f32(norm.Eps))
}

func (o *ops) MatMulSwiGLU(dst backend.Buffer, gate, up backend.Weight, x backend.Buffer, n int, norm backend.Norm) {
	d, g, u, xb := o.buf(dst), o.b.get(gate), o.b.get(up), o.buf(x)
	checkProduct("MatMulSwiGLU gate", d, g, xb, n)
	checkProduct("MatMulSwiGLU up", d, u, xb, n)
	if n == 0 {
		return
	}
	if g.rows != u.rows {
		panic(fmt.Sprintf("cuda: MatMulSwiGLU: gate of %d rows, up of %d", g.rows, u.rows))
	}
	tiled := n > mvMax || g.stored != u.stored || g.cols != u.cols
	xin, nw := o.normed(xb, n, g.cols, norm, tiled)
	if tiled {
		// The gate's product, then the up product's tiles finish the activation.
		o.matmul(d, g, xin, n, mmStore)
		o.b.launch(u.mm, (u.rows+63)/64, (n+63)/64, 256, 0, u.ptr, xin.ptr, d.ptr, i32(u.rows), i32(u.cols), i32(n), i32(mmSwiGLU))
		return
	}
	o.b.launch(g.mvGLU, (g.rows+7)/8, n, 256, 0, g.ptr, u.ptr, xin.ptr, d.ptr, i32(g.rows), i32(g.cols), ptr(nw), f32(norm.Eps))
}

// kernelNames sets the names of w's product kernels.
func (w *weight) kernelNames() {
	s := suffix(w.stored)
	w.mv, w.mv3, w.mvGLU, w.mm, w.rowsK = "mv_"+s, "mv3_"+s, "mv_swiglu_"+s, "mm_"+s, "rows_"+s
}

// normThreads is the block size of the row kernels: enough threads for the row, a multiple of 32.
func normThreads(dim int) int {
	t := 32
	for t < dim && t < 1024 {
		t *= 2
	}
	return t
}

func (o *ops) RMSNorm(dst, x, w backend.Buffer, rows, dim int, eps float32) {
	d, xb, wb := o.buf(dst), o.buf(x), o.buf(w)
	span("RMSNorm dst", d, 0, rows*dim)
	span("RMSNorm x", xb, 0, rows*dim)
	span("RMSNorm w", wb, 0, dim)
	o.b.launch("rmsnorm", rows, 1, normThreads(dim), 0, xb.ptr, wb.ptr, d.ptr, i32(dim), f32(eps))
}

func (o *ops) LayerNorm(dst, x, w, bias backend.Buffer, rows, dim int, eps float32) {
	d, xb, wb, bb := o.buf(dst), o.buf(x), o.buf(w), o.opt(bias)
	span("LayerNorm dst", d, 0, rows*dim)
	span("LayerNorm x", xb, 0, rows*dim)
	span("LayerNorm w", wb, 0, dim)
	if bb != nil {
		span("LayerNorm b", bb, 0, dim)
	}
	o.b.launch("layernorm", rows, 1, normThreads(dim), 0, xb.ptr, wb.ptr, ptr(bb), d.ptr, i32(dim), f32(eps))
}

func (o *ops) RoPE(x, table backend.Buffer, rows, heads, headDim, ropeDims, pos0 int, neox bool) {
	xb, tb := o.buf(x), o.buf(table)
	if ropeDims < 2 || ropeDims%2 != 0 || ropeDims > headDim {
		panic(fmt.Sprintf("cuda: RoPE: %d rotated dimensions of %d", ropeDims, headDim))
	}
	span("RoPE x", xb, 0, rows*heads*headDim)
	span("RoPE table", tb, 0, (pos0+rows)*ropeDims)
	nx := 0
	if neox {
		nx = 1
	}
	total := rows * heads * ropeDims / 2
	o.b.launch("rope", (total+255)/256, 1, 256, 0, xb.ptr, tb.ptr, i32(rows), i32(heads), i32(headDim), i32(ropeDims), i32(pos0), i32(nx))
}

func (o *ops) RoPEStore(q, k, v, table backend.Buffer, rows, heads, kvHeads, headDim, ropeDims, pos0 int, neox bool, kv backend.KVStore) {
	qb, kb, vb, tb := o.buf(q), o.buf(k), o.buf(v), o.buf(table)
	kc, vc, sb := o.buf(kv.K), o.buf(kv.V), o.opt(kv.Stage)
	if ropeDims < 2 || ropeDims%2 != 0 || ropeDims > headDim || headDim%2 != 0 {
		panic(fmt.Sprintf("cuda: RoPEStore: %d rotated dimensions of %d", ropeDims, headDim))
	}
	m := rows * kvHeads * headDim
	span("RoPEStore q", qb, 0, rows*heads*headDim)
	span("RoPEStore k", kb, 0, m)
	span("RoPEStore v", vb, 0, m)
	span("RoPEStore table", tb, 0, (pos0+rows)*ropeDims)
	span("RoPEStore cache k", kc, kv.Off, m)
	span("RoPEStore cache v", vc, kv.Off, m)
	if sb != nil {
		span("RoPEStore stage", sb, kv.StageOff, 2*m)
	}
	total := rows * (heads + 2*kvHeads) * headDim / 2
	o.b.launch("rope_store", (total+255)/256, 1, 256, 0, qb.ptr, kb.ptr, vb.ptr, tb.ptr, kc.ptr, vc.ptr, i64(kv.Off),
		ptr(sb), i64(kv.StageOff), i32(rows), i32(heads), i32(kvHeads), i32(headDim), i32(ropeDims), i32(pos0), flag(neox))
}

func (o *ops) elementwise(name string, n int, args ...uint64) {
	o.b.launch(name, (n+255)/256, 1, 256, 0, args...)
}

func (o *ops) SwiGLU(gate, up backend.Buffer, n int) {
	g, u := o.buf(gate), o.buf(up)
	span("SwiGLU gate", g, 0, n)
	span("SwiGLU up", u, 0, n)
	o.elementwise("swiglu", n, g.ptr, u.ptr, i64(n))
}

func (o *ops) GELU(x backend.Buffer, n int) {
	xb := o.buf(x)
	span("GELU", xb, 0, n)
	o.elementwise("gelu", n, xb.ptr, i64(n))
}

func (o *ops) Add(x, y backend.Buffer, n int) {
	xb, yb := o.buf(x), o.buf(y)
	span("Add x", xb, 0, n)
	span("Add y", yb, 0, n)
	o.elementwise("add", n, xb.ptr, yb.ptr, i64(n))
}

func (o *ops) AddRows(x, bias backend.Buffer, n, dim int) {
	xb, bb := o.buf(x), o.buf(bias)
	if dim <= 0 || n%dim != 0 {
		panic(fmt.Sprintf("cuda: AddRows: %d values in rows of %d", n, dim))
	}
	span("AddRows x", xb, 0, n)
	span("AddRows b", bb, 0, dim)
	o.elementwise("add_rows", n, xb.ptr, bb.ptr, i64(n), i32(dim))
}

func (o *ops) Softmax(x backend.Buffer, rows, cols int) {
	xb := o.buf(x)
	span("Softmax", xb, 0, rows*cols)
	o.b.launch("softmax_rows", rows, 1, normThreads(cols), 0, xb.ptr, i32(cols))
}

func checkAttn(s backend.AttnShape) {
	if s.N <= 0 || s.NHead <= 0 || s.NKVHead <= 0 || s.NHead%s.NKVHead != 0 || s.HeadDim <= 0 ||
		s.Pos0 < 0 || s.Total < s.Pos0+s.N && s.Causal || s.Total < 1 || s.KVStride < s.NKVHead*s.HeadDim {
		panic(fmt.Sprintf("cuda: attention shape %+v", s))
	}
}

// flashShared is the dynamic shared memory of the tiled attention kernel for a head size.
func flashShared(hd int) int {
	const kt, q = 32, 16
	return (kt*(hd+1) + kt*hd + q*hd + q*kt) * 4
}

// decodeWarps is the block size of attn_decode, in warps.
const decodeWarps = 8

// decodeKernel names the attention kernel for a few queries (fewer than the 16 a block of the
// tiled kernel takes), which spreads each query's keys over a block's warps; "" where it does
// not apply (heads or rows not a multiple of 4 values, heads over 256).
func decodeKernel(s backend.AttnShape) string {
	if s.N >= 16 || s.HeadDim%4 != 0 || s.KVStride%4 != 0 || s.HeadDim > 256 {
		return ""
	}
	switch {
	case s.HeadDim <= 32:
		return "attn_decode_32"
	case s.HeadDim <= 64:
		return "attn_decode_64"
	case s.HeadDim <= 128:
		return "attn_decode_128"
	}
	return "attn_decode_256"
}

func flashKernel(hd int) string {
	switch {
	case hd <= 32:
		return "attn_flash_32"
	case hd <= 64:
		return "attn_flash_64"
	case hd <= 128:
		return "attn_flash_128"
	case hd <= 256:
		return "attn_flash_256"
	}
	panic(fmt.Sprintf("cuda: attention heads of %d values (at most 256)", hd))
}

// mmaAttention reports whether s runs on the tensor cores: half-precision evaluations
// (s.Half) of at least 16 queries with heads of 64 or 128 values whose rows start on 16-byte
// boundaries.
func mmaAttention(s backend.AttnShape) bool {
	return s.Half && s.N >= 16 && s.KVStride%8 == 0 && (s.HeadDim == 64 || s.HeadDim == 128)
}

// faVariant is one instantiation of the pipelined tensor-core kernel (kernels/attention.cu):
// heads of d values, mt row tiles of 16 queries a warp (4 warps a block), key tiles of bk,
// the queries' fragments in registers (qreg) or read from shared memory per tile.
type faVariant struct {
	d, mt, bk int
	qreg      bool
}

func (v faVariant) name() string {
	q := ""
	if v.qreg {
		q = "_q"
	}
	return fmt.Sprintf("attn_fa_%d_%d_%d%s", v.d, v.mt, v.bk, q)
}

// queries is the number of queries a block takes.
func (v faVariant) queries() int { return 64 * v.mt }

// shared is the kernel's dynamic shared memory in bytes (fa<…>::HALVES): two stages of keys
// and values, and the queries (with qreg only where they do not fit in stage 1).
func (v faVariant) shared() int {
	s := v.d + 8
	tile := v.bk * s
	q := v.queries() * s
	if v.qreg {
		q = max(0, q-2*tile)
	}
	return (4*tile + q) * 2
}

// faVariants are the instantiations the PTX holds; faChosen the one the Attention op runs for
// each head size: on an H200 the variants came within the GPU's run-to-run spread (±20%) of
// each other; these two had the steadiest times (BenchmarkAttention).
var (
	faVariants = []faVariant{{64, 1, 64, true}, {64, 2, 64, true}, {64, 2, 32, true}, {64, 1, 128, true},
		{128, 1, 64, true}, {128, 2, 64, false}, {128, 2, 32, false}, {128, 1, 64, false}}
	faChosen = map[int]faVariant{64: {64, 1, 64, true}, 128: {128, 2, 64, false}}
)

// attnMMA runs the tensor-core attention on f16 queries, keys and values at q, k, v.
func (o *ops) attnMMA(s backend.AttnShape, q, k, v, out uint64) {
	o.attnFA(faChosen[s.HeadDim], s, q, k, v, out)
}

func (o *ops) attnFA(fv faVariant, s backend.AttnShape, q, k, v, out uint64) {
	bq := fv.queries()
	o.b.launch(fv.name(), (s.N+bq-1)/bq, s.NHead, 128, fv.shared(),
		q, k, v, out, i32(s.N), i32(s.Pos0), i32(s.Total), i32(s.NHead), i32(s.NKVHead), i32(s.KVStride), f32(s.Scale), i32(causal(s)))
}

func causal(s backend.AttnShape) int {
	if s.Causal {
		return 1
	}
	return 0
}

func (o *ops) Attention(out, q, k, v backend.Buffer, s backend.AttnShape) {
	checkAttn(s)
	ob, qb, kb, vb := o.buf(out), o.buf(q), o.buf(k), o.buf(v)
	span("Attention out", ob, 0, s.N*s.NHead*s.HeadDim)
	span("Attention q", qb, 0, s.N*s.NHead*s.HeadDim)
	span("Attention k", kb, 0, s.Total*s.KVStride)
	span("Attention v", vb, 0, s.Total*s.KVStride)
	if o.b.halfAttention {
		s.Half = true
	}
	if mmaAttention(s) {
		// f16 copies of the queries and of the keys and values seen, then the tensor cores.
		nq, nkv := s.N*s.NHead*s.HeadDim, s.Total*s.KVStride
		nq8, nkv8 := (nq+7)/8*8, (nkv+7)/8*8 // 16-byte boundaries
		hb := o.b.scratch(&o.b.shalf, (nq8+2*nkv8)/2)
		hq, hk, hv := hb.ptr, hb.ptr+uint64(nq8)*2, hb.ptr+uint64(nq8+nkv8)*2
		o.elementwise("to_half", nq, qb.ptr, hq, i64(nq))
		o.elementwise("to_half", nkv, kb.ptr, hk, i64(nkv))
		o.elementwise("to_half", nkv, vb.ptr, hv, i64(nkv))
		o.attnMMA(s, hq, hk, hv, ob.ptr)
		return
	}
	if k := decodeKernel(s); k != "" {
		o.b.launch(k, s.N, s.NHead, 32*decodeWarps, 0, qb.ptr, kb.ptr, vb.ptr, ob.ptr, i32(s.N), i32(s.Pos0), i32(s.Total),
			i32(s.NHead), i32(s.NKVHead), i32(s.HeadDim), i32(s.KVStride), f32(s.Scale), i32(causal(s)))
		return
	}
	o.b.launch(flashKernel(s.HeadDim), (s.N+15)/16, s.NHead, 128, flashShared(s.HeadDim),
		qb.ptr, kb.ptr, vb.ptr, ob.ptr, i32(s.N), i32(s.Pos0), i32(s.Total), i32(s.NHead), i32(s.NKVHead),
		i32(s.HeadDim), i32(s.KVStride), f32(s.Scale), i32(causal(s)))
}

func (o *ops) AttentionProbs(probs, q, k backend.Buffer, s backend.AttnShape) {
	checkAttn(s)
	if s.HeadDim > 1024 {
		panic("cuda: AttentionProbs: heads of more than 1024 values")
	}
	pb, qb, kb := o.buf(probs), o.buf(q), o.buf(k)
	span("AttentionProbs probs", pb, 0, s.NHead*s.N*s.Total)
	span("AttentionProbs q", qb, 0, s.N*s.NHead*s.HeadDim)
	span("AttentionProbs k", kb, 0, s.Total*s.KVStride)
	if s.N > 65535*64 {
		panic("cuda: AttentionProbs: too many queries")
	}
	o.b.launch("attn_probs", s.N, s.NHead, 256, 0, qb.ptr, kb.ptr, pb.ptr, i32(s.N), i32(s.Pos0), i32(s.Total),
		i32(s.NHead), i32(s.NKVHead), i32(s.HeadDim), i32(s.KVStride), f32(s.Scale), i32(causal(s)), i32(s.Total))
}
