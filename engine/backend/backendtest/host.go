package backendtest

import (
	"fmt"
	"math"

	"github.com/attnscope/attnscope/engine/backend"
	"github.com/attnscope/attnscope/engine/kernels"
)

// HostDevice wraps a backend as a backend.Device whose buffers are host memory and whose ops are
// plain Go (float64 sums where a kernel would reduce). It is the reference the device suite is
// checked against, and lets model code written for devices run and be tested on any machine.
func HostDevice(b backend.Backend) backend.Device { return &hostDevice{Backend: b} }

type hostDevice struct{ backend.Backend }

type hostBuf []float32

func (h hostBuf) Len() int { return len(h) }

func (d *hostDevice) Do(f func(backend.Ops) error) error { return f(hostOps{d}) }

type hostOps struct{ d *hostDevice }

func hb(x backend.Buffer) hostBuf {
	h, ok := x.(hostBuf)
	if !ok {
		panic("host: buffer from another backend")
	}
	return h
}

func (hostOps) Alloc(n int) (backend.Buffer, error) {
	if n < 0 {
		return nil, fmt.Errorf("host: Alloc(%d)", n)
	}
	return make(hostBuf, n), nil
}
func (hostOps) Free(backend.Buffer) {}
func (hostOps) Upload(dst backend.Buffer, off int, src []float32) {
	copy(hb(dst)[off:off+len(src)], src)
}
func (hostOps) Download(dst []float32, src backend.Buffer, off int) {
	copy(dst, hb(src)[off:off+len(dst)])
}
func (hostOps) Copy(dst backend.Buffer, dstOff int, src backend.Buffer, srcOff, n int) {
	copy(hb(dst)[dstOff:dstOff+n], hb(src)[srcOff:srcOff+n])
}
func (o hostOps) Rows(dst backend.Buffer, w backend.Weight, ids []int32) {
	d, c := hb(dst), w.Cols()
	for i, id := range ids {
		o.d.Row(d[i*c:(i+1)*c], w, int(id))
	}
}
func (o hostOps) MatMul(dst backend.Buffer, w backend.Weight, x backend.Buffer, n int) {
	o.d.MatMul(hb(dst)[:n*w.Rows()], w, hb(x)[:n*w.Cols()], n)
}
func (o hostOps) MatMulAdd(dst backend.Buffer, w backend.Weight, x backend.Buffer, n int) {
	y := make(hostBuf, n*w.Rows())
	o.MatMul(y, w, x, n)
	o.Add(dst, y, len(y))
}

// normed returns x, or its rows RMS-normalized where norm.W is set.
func (o hostOps) normed(x backend.Buffer, rows, cols int, norm backend.Norm) backend.Buffer {
	if norm.W == nil {
		return x
	}
	h := make(hostBuf, rows*cols)
	o.RMSNorm(h, x, norm.W, rows, cols, norm.Eps)
	return h
}
func (o hostOps) MatMul3(d0, d1, d2 backend.Buffer, w0, w1, w2 backend.Weight, x backend.Buffer, n int, norm backend.Norm) {
	x = o.normed(x, n, w0.Cols(), norm)
	o.MatMul(d0, w0, x, n)
	o.MatMul(d1, w1, x, n)
	o.MatMul(d2, w2, x, n)
}
func (o hostOps) MatMulSwiGLU(dst backend.Buffer, gate, up backend.Weight, x backend.Buffer, n int, norm backend.Norm) {
	x = o.normed(x, n, gate.Cols(), norm)
	u := make(hostBuf, n*up.Rows())
	o.MatMul(dst, gate, x, n)
	o.MatMul(u, up, x, n)
	o.SwiGLU(dst, u, len(u))
}
func (hostOps) RMSNorm(dst, x, w backend.Buffer, rows, dim int, eps float32) {
	d, xs, ws := hb(dst), hb(x), hb(w)
	for r := 0; r < rows; r++ {
		row := xs[r*dim : (r+1)*dim]
		var s float64
		for _, v := range row {
			s += float64(v) * float64(v)
		}
		scale := 1 / math.Sqrt(s/float64(dim)+float64(eps))
		for k, v := range row {
			d[r*dim+k] = float32(float64(v) * scale * float64(ws[k]))
		}
	}
}
func (hostOps) LayerNorm(dst, x, w, b backend.Buffer, rows, dim int, eps float32) {
	d, xs, ws := hb(dst), hb(x), hb(w)
	var bs hostBuf
	if b != nil {
		bs = hb(b)
	}
	for r := 0; r < rows; r++ {
		row := xs[r*dim : (r+1)*dim]
		var s, v float64
		for _, e := range row {
			s += float64(e)
		}
		mean := s / float64(dim)
		for _, e := range row {
			v += (float64(e) - mean) * (float64(e) - mean)
		}
		scale := 1 / math.Sqrt(v/float64(dim)+float64(eps))
		for k, e := range row {
			o := (float64(e) - mean) * scale * float64(ws[k])
			if bs != nil {
				o += float64(bs[k])
			}
			d[r*dim+k] = float32(o)
		}
	}
}
func (hostOps) RoPE(x, table backend.Buffer, rows, heads, headDim, ropeDims, pos0 int, neox bool) {
	xs, tb, half := hb(x), hb(table), ropeDims/2
	for r := 0; r < rows; r++ {
		for h := 0; h < heads; h++ {
			v := xs[(r*heads+h)*headDim:]
			for j := 0; j < half; j++ {
				c := tb[((pos0+r)*half+j)*2]
				s := tb[((pos0+r)*half+j)*2+1]
				a, b := 2*j, 2*j+1
				if neox {
					a, b = j, j+half
				}
				x0, x1 := v[a], v[b]
				v[a] = float32(x0*c) - float32(x1*s)
				v[b] = float32(x0*s) + float32(x1*c)
			}
		}
	}
}
func (o hostOps) RoPEStore(q, k, v, table backend.Buffer, rows, heads, kvHeads, headDim, ropeDims, pos0 int, neox bool, kv backend.KVStore) {
	o.RoPE(q, table, rows, heads, headDim, ropeDims, pos0, neox)
	o.RoPE(k, table, rows, kvHeads, headDim, ropeDims, pos0, neox)
	m := rows * kvHeads * headDim
	o.Copy(kv.K, kv.Off, k, 0, m)
	o.Copy(kv.V, kv.Off, v, 0, m)
	if kv.Stage != nil {
		o.Copy(kv.Stage, kv.StageOff, k, 0, m)
		o.Copy(kv.Stage, kv.StageOff+m, v, 0, m)
	}
}
func (hostOps) SwiGLU(gate, up backend.Buffer, n int) { kernels.SwiGLU(hb(gate)[:n], hb(up)[:n]) }
func (hostOps) GELU(x backend.Buffer, n int) {
	xs := hb(x)[:n]
	for i, v := range xs {
		xs[i] = kernels.GELUExact(v)
	}
}
func (hostOps) Add(x, y backend.Buffer, n int) { kernels.Add(hb(x)[:n], hb(y)[:n]) }
func (hostOps) AddRows(x, b backend.Buffer, n, dim int) {
	xs, bs := hb(x), hb(b)
	for i := 0; i < n; i++ {
		xs[i] += bs[i%dim]
	}
}
func (hostOps) Softmax(x backend.Buffer, rows, cols int) {
	xs := hb(x)
	for r := 0; r < rows; r++ {
		softmax64(xs[r*cols : (r+1)*cols])
	}
}

// softmax64 replaces row by its softmax, summed in float64.
func softmax64(row []float32) {
	m := math.Inf(-1)
	for _, v := range row {
		m = math.Max(m, float64(v))
	}
	var s float64
	e := make([]float64, len(row))
	for i, v := range row {
		e[i] = math.Exp(float64(v) - m)
		s += e[i]
	}
	for i := range row {
		row[i] = float32(e[i] / s)
	}
}

// keys is the number of keys query i sees.
func keys(s backend.AttnShape, i int) int {
	if s.Causal {
		return s.Pos0 + i + 1
	}
	return s.Total
}

func (o hostOps) AttentionProbs(probs, q, k backend.Buffer, s backend.AttnShape) {
	ps, qs, ks := hb(probs), hb(q), hb(k)
	grp := s.NHead / s.NKVHead
	for h := 0; h < s.NHead; h++ {
		off := (h / grp) * s.HeadDim
		for i := 0; i < s.N; i++ {
			row := ps[(h*s.N+i)*s.Total : (h*s.N+i+1)*s.Total]
			qi := qs[(i*s.NHead+h)*s.HeadDim:][:s.HeadDim]
			nk := keys(s, i)
			for j := range row {
				row[j] = 0
			}
			for j := 0; j < nk; j++ {
				kj := ks[j*s.KVStride+off:][:s.HeadDim]
				var d float64
				for t := range qi {
					d += float64(qi[t]) * float64(kj[t])
				}
				row[j] = float32(d * float64(s.Scale))
			}
			softmax64(row[:nk])
		}
	}
}

func (o hostOps) Attention(out, q, k, v backend.Buffer, s backend.AttnShape) {
	os, vs := hb(out), hb(v)
	probs := make(hostBuf, s.NHead*s.N*s.Total)
	o.AttentionProbs(probs, q, k, s)
	grp := s.NHead / s.NKVHead
	for h := 0; h < s.NHead; h++ {
		off := (h / grp) * s.HeadDim
		for i := 0; i < s.N; i++ {
			row := probs[(h*s.N+i)*s.Total:][:keys(s, i)]
			for t := 0; t < s.HeadDim; t++ {
				var acc float64
				for j, p := range row {
					acc += float64(p) * float64(vs[j*s.KVStride+off+t])
				}
				os[(i*s.NHead+h)*s.HeadDim+t] = float32(acc)
			}
		}
	}
}
