package cuda

import (
	"fmt"
	"unsafe"

	"github.com/attnscope/attnscope/engine/backend"
	"github.com/attnscope/attnscope/engine/quant"
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
	o.b.check(o.b.d.htod(p.ptr+uint64(off)*4, unsafe.Pointer(&src[0]), uint64(len(src))*4), "upload")
}

func (o *ops) Download(dst []float32, src backend.Buffer, off int) {
	p := o.buf(src)
	span("Download", p, off, len(dst))
	if len(dst) == 0 {
		return
	}
	o.b.check(o.b.d.dtoh(unsafe.Pointer(&dst[0]), p.ptr+uint64(off)*4, uint64(len(dst))*4), "download")
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
	o.b.check(o.b.d.htod(ib.ptr, unsafe.Pointer(&ids[0]), uint64(len(ids))*4), "upload ids")
	o.b.launch(cw.rowsK, len(ids), 1, 256, 0, cw.ptr, ib.ptr, d.ptr, i32(cw.cols))
}

func (o *ops) MatMul(dst backend.Buffer, w backend.Weight, x backend.Buffer, n int) {
	o.matmul(o.buf(dst), o.b.get(w), o.buf(x), n)
}

// mvMax is the largest batch multiplied row by row (one warp per weight row and input row);
// larger batches take the tiled kernel.
const mvMax = 8

func (o *ops) matmul(d *buf, w *weight, x *buf, n int) {
	span("MatMul dst", d, 0, n*w.rows)
	span("MatMul x", x, 0, n*w.cols)
	if n == 0 {
		return
	}
	if n <= mvMax {
		name := w.mv
		if !wideQuantMV {
			name = "mv_" + suffix(w.stored)
		}
		o.b.launch(name, (w.rows+7)/8, n, 256, 0, w.ptr, x.ptr, d.ptr, i32(w.rows), i32(w.cols))
		return
	}
	o.b.launch(w.mm, (w.rows+63)/64, (n+63)/64, 256, 0, w.ptr, x.ptr, d.ptr, i32(w.rows), i32(w.cols), i32(n))
}

// wideQuantMV selects the mv4 kernels for Q8_0 and Q4_0 rows (false: the one-value-per-lane mv
// kernels, kept for comparison in the benchmarks).
var wideQuantMV = true

// kernelNames sets the names of w's product kernels.
func (w *weight) kernelNames() {
	s := suffix(w.stored)
	w.mv, w.mm, w.rowsK = "mv_"+s, "mm_"+s, "rows_"+s
	if w.stored == quant.Q8_0 || w.stored == quant.Q4_0 {
		w.mv = "mv4_" + s
	}
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
