package llama

import (
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/attnscope/attnscope/engine/backend"
	"github.com/attnscope/attnscope/engine/kvcache"
	"github.com/attnscope/attnscope/engine/model"
)

// dev is what a model keeps on a backend.Device between evaluations: its norm weights, the
// rotation table, the KV cache of the batch cache it last served, and activations.
type dev struct {
	mu       sync.Mutex
	ready    bool
	attnNorm []backend.Buffer
	ffnNorm  []backend.Buffer
	outNorm  backend.Buffer
	rope     backend.Buffer // cos and sin for ropePos positions
	ropePos  int

	cache *kvcache.Cache   // the host cache the device cache mirrors
	nPos  int              // positions of cache held on the device
	k, v  []backend.Buffer // per layer, capacity × kvDim

	n                               int // tokens the activations hold room for
	x, h, q, kb, vb, att, gate      backend.Buffer
	logits, stage, probs, qChunk    backend.Buffer
	probsLen                        int
	stageHost, probsHost, tokHidden []float32
	upHost                          []float32 // host cache positions on their way to the device
}

// free releases every buffer.
func (d *dev) free(o backend.Ops) {
	for _, b := range append(append(append(append(d.attnNorm, d.ffnNorm...), d.k...), d.v...),
		d.outNorm, d.rope, d.x, d.h, d.q, d.kb, d.vb, d.att, d.gate, d.logits, d.stage, d.probs, d.qChunk) {
		if b != nil {
			o.Free(b)
		}
	}
	*d = dev{}
}

func upload(o backend.Ops, x []float32) (backend.Buffer, error) {
	b, err := o.Alloc(len(x))
	if err == nil {
		o.Upload(b, 0, x)
	}
	return b, err
}

// setup uploads the norms and the rotation table.
func (m *Model) setup(o backend.Ops, d *dev) error {
	cfg := m.Cfg
	var err error
	for l := range m.blocks {
		var a, f backend.Buffer
		if a, err = upload(o, m.blocks[l].attnNorm); err != nil {
			return err
		}
		if f, err = upload(o, m.blocks[l].ffnNorm); err != nil {
			return err
		}
		d.attnNorm = append(d.attnNorm, a)
		d.ffnNorm = append(d.ffnNorm, f)
	}
	if d.outNorm, err = upload(o, m.outNorm); err != nil {
		return err
	}
	d.ready = true
	return m.ropeTable(o, d, cfg.NCtx)
}

// ropeTable uploads cos and sin of the rotation angles of positions 0 … nPos-1.
func (m *Model) ropeTable(o backend.Ops, d *dev, nPos int) error {
	cfg := m.Cfg
	if d.rope != nil {
		o.Free(d.rope)
		d.rope, d.ropePos = nil, 0
	}
	half := cfg.RopeDims / 2
	tab := make([]float32, nPos*cfg.RopeDims)
	th := make([]float32, half)
	for p := 0; p < nPos; p++ {
		m.rope.Thetas(th, p)
		for j, a := range th {
			tab[(p*half+j)*2] = float32(math.Cos(float64(a)))
			tab[(p*half+j)*2+1] = float32(math.Sin(float64(a)))
		}
	}
	var err error
	if d.rope, err = upload(o, tab); err != nil {
		return err
	}
	d.ropePos = nPos
	return nil
}

// bindCache makes the device cache mirror c's first pos0 positions.
func (m *Model) bindCache(o backend.Ops, d *dev, c *kvcache.Cache, pos0 int) error {
	cfg := m.Cfg
	kvDim := cfg.NKVHead * cfg.HeadDim
	if d.cache != c || len(d.k) == 0 || d.k[0].Len() < c.Capacity()*kvDim {
		for _, b := range append(d.k, d.v...) {
			o.Free(b)
		}
		d.k, d.v, d.nPos, d.cache = nil, nil, 0, c
		for l := 0; l < cfg.NLayer; l++ {
			k, err := o.Alloc(c.Capacity() * kvDim)
			if err != nil {
				return err
			}
			v, err := o.Alloc(c.Capacity() * kvDim)
			if err != nil {
				return err
			}
			d.k, d.v = append(d.k, k), append(d.v, v)
		}
	}
	if c.Capacity() > d.ropePos {
		if err := m.ropeTable(o, d, c.Capacity()); err != nil {
			return err
		}
	}
	if d.nPos > pos0 {
		d.nPos = pos0 // the host cache was truncated
	}
	if d.nPos < pos0 { // positions the device has not seen (another cache's contents)
		// The host keeps a layer head by head, the device position by position.
		n := (pos0 - d.nPos) * kvDim
		if cap(d.upHost) < 2*n {
			d.upHost = make([]float32, 2*n)
		}
		k, v := d.upHost[:n], d.upHost[n:2*n]
		for l := 0; l < cfg.NLayer; l++ {
			c.Positions(l, d.nPos, pos0, k, v)
			o.Upload(d.k[l], d.nPos*kvDim, k)
			o.Upload(d.v[l], d.nPos*kvDim, v)
		}
		d.nPos = pos0
	}
	return nil
}

// grow makes room for activations of n tokens.
func (m *Model) grow(o backend.Ops, d *dev, n int) error {
	if n <= d.n {
		return nil
	}
	cfg := m.Cfg
	for _, b := range []backend.Buffer{d.x, d.h, d.q, d.kb, d.vb, d.att, d.gate, d.logits, d.stage} {
		if b != nil {
			o.Free(b)
		}
	}
	E, kvDim := cfg.NEmbd, cfg.NKVHead*cfg.HeadDim
	var err error
	alloc := func(k int) backend.Buffer {
		if err != nil {
			return nil
		}
		var b backend.Buffer
		b, err = o.Alloc(k)
		return b
	}
	// The products normalize their inputs themselves (backend.Norm); h holds the last row for
	// the logits.
	d.x, d.h, d.q, d.att = alloc(n*E), alloc(E), alloc(n*E), alloc(n*E)
	d.kb, d.vb = alloc(n*kvDim), alloc(n*kvDim)
	d.gate = alloc(n * cfg.NFF) // MatMulSwiGLU needs no second hidden buffer
	d.logits = alloc(cfg.NVocab)
	d.stage = alloc(2 * cfg.NLayer * kvDim)
	d.n = n
	return err
}

// logitsFor makes the logits buffer hold n rows.
func (m *Model) logitsFor(o backend.Ops, d *dev, n int) error {
	if d.logits.Len() >= n*m.Cfg.NVocab {
		return nil
	}
	o.Free(d.logits)
	var err error
	d.logits, err = o.Alloc(n * m.Cfg.NVocab)
	return err
}

// captureFloats bounds the probabilities computed at once for capture (64 MiB): query rows
// are taken in chunks that fit. A variable so that tests can make chunks small.
var captureFloats = 16 << 20

// capture computes the attention probabilities of layer l explicitly, chunk query rows at a
// time, and hands them to b.Attn (the rows b.AttnRows selects) and b.AttnPool (whole rows, one
// piece each), head by head in position order.
func (m *Model) capture(o backend.Ops, d *dev, b *model.Batch, l int, s backend.AttnShape, chunk int) {
	cfg := m.Cfg
	E := cfg.NHead * cfg.HeadDim
	for i0 := 0; i0 < s.N; i0 += chunk {
		c := min(chunk, s.N-i0)
		cs := s
		cs.N, cs.Pos0, cs.Total = c, s.Pos0+i0, s.Pos0+i0+c
		o.Copy(d.qChunk, 0, d.q, i0*E, c*E)
		o.AttentionProbs(d.probs, d.qChunk, d.k[l], cs)
		size := cfg.NHead * c * cs.Total
		if cap(d.probsHost) < size {
			d.probsHost = make([]float32, size)
		}
		ph := d.probsHost[:size]
		o.Download(ph, d.probs, 0)
		for h := 0; h < cfg.NHead; h++ {
			for i := 0; i < c; i++ {
				pos := cs.Pos0 + i
				row := ph[(h*c+i)*cs.Total:][:pos+1]
				if b.Attn != nil && (b.AttnRows == nil || slices.Contains(b.AttnRows, pos)) {
					b.Attn(l, h, pos, row)
				}
				if b.AttnPool != nil {
					b.AttnPool(l, h, pos, 0, row)
				}
			}
		}
	}
}

// evalDevice is Eval on a device: weights, KV cache and activations stay there; logits, the
// final states, the new keys and values (for the host cache) and captured attention come back.
func (m *Model) evalDevice(be backend.Device, b *model.Batch) error {
	cfg := m.Cfg
	if err := model.CheckBatch(cfg, b); err != nil {
		return err
	}
	if b.Window > 0 || len(b.Global) > 0 {
		return fmt.Errorf("llama on %s: sliding-window and global-token masks run on the CPU only (--backend cpu)", be.Name())
	}
	n, E, hd := len(b.Tokens), cfg.NEmbd, cfg.HeadDim
	kvDim := cfg.NKVHead * hd
	pos0 := b.Cache.Len()
	d := &m.dev
	d.mu.Lock()
	defer d.mu.Unlock()
	stage := d.stageHost
	err := be.Do(func(o backend.Ops) error {
		if !d.ready {
			if err := m.setup(o, d); err != nil {
				return err
			}
		}
		if err := m.bindCache(o, d, b.Cache, pos0); err != nil {
			return err
		}
		if err := m.grow(o, d, n); err != nil {
			return err
		}
		shape := backend.AttnShape{N: n, Pos0: pos0, Total: pos0 + n, NHead: cfg.NHead, NKVHead: cfg.NKVHead,
			HeadDim: hd, KVStride: kvDim, Scale: float32(1 / math.Sqrt(float64(hd))), Causal: true}
		capture := b.Attn != nil || b.AttnPool != nil
		chunk := 0 // query rows whose probabilities are computed at once
		if capture {
			chunk = max(1, min(n, captureFloats/(cfg.NHead*(pos0+n))))
			if need := cfg.NHead * chunk * (pos0 + n); need > d.probsLen {
				if d.probs != nil {
					o.Free(d.probs)
				}
				p, err := o.Alloc(need)
				if err != nil {
					return fmt.Errorf("attention capture: %w", err)
				}
				d.probs, d.probsLen = p, need
			}
			if d.qChunk == nil || d.qChunk.Len() < chunk*E {
				if d.qChunk != nil {
					o.Free(d.qChunk)
				}
				qc, err := o.Alloc(chunk * E)
				if err != nil {
					return fmt.Errorf("attention capture: %w", err)
				}
				d.qChunk = qc
			}
		}
		o.Rows(d.x, m.tokEmbd, b.Tokens)
		for l := range m.blocks {
			bl := &m.blocks[l]
			o.MatMul3(d.q, d.kb, d.vb, bl.wq, bl.wk, bl.wv, d.x, n, backend.Norm{W: d.attnNorm[l], Eps: cfg.NormEps})
			kv := backend.KVStore{K: d.k[l], V: d.v[l], Off: pos0 * kvDim}
			if n == 1 { // one download for all layers at the end
				kv.Stage, kv.StageOff = d.stage, (2*l)*kvDim
			}
			o.RoPEStore(d.q, d.kb, d.vb, d.rope, n, cfg.NHead, cfg.NKVHead, hd, cfg.RopeDims, pos0, false, kv)
			o.Attention(d.att, d.q, d.k[l], d.v[l], shape)
			if capture {
				m.capture(o, d, b, l, shape, chunk)
			}
			o.MatMulAdd(d.x, bl.wo, d.att, n)
			o.MatMulSwiGLU(d.gate, bl.gate, bl.up, d.x, n, backend.Norm{W: d.ffnNorm[l], Eps: cfg.NormEps})
			o.MatMulAdd(d.x, bl.down, d.gate, n)
		}
		o.RMSNorm(d.x, d.x, d.outNorm, n, E, cfg.NormEps)
		b.Hidden = model.Output(b.Hidden, n*E)
		if b.AllLogits {
			if err := m.logitsFor(o, d, n); err != nil {
				return err
			}
			o.MatMul(d.logits, m.output, d.x, n)
			b.Logits = model.Output(b.Logits, n*cfg.NVocab)
		} else {
			o.Copy(d.h, 0, d.x, (n-1)*E, E)
			o.MatMul(d.logits, m.output, d.h, 1)
			b.Logits = model.Output(b.Logits, cfg.NVocab)
		}
		o.Download(b.Logits, d.logits, 0)
		o.Download(b.Hidden, d.x, 0)
		// The new keys and values, in the host cache's order: layer by layer, K then V.
		if cap(stage) < 2*cfg.NLayer*n*kvDim {
			stage = make([]float32, 2*cfg.NLayer*n*kvDim)
		}
		stage = stage[:2*cfg.NLayer*n*kvDim]
		if n == 1 {
			o.Download(stage, d.stage, 0)
		} else {
			for l := 0; l < cfg.NLayer; l++ {
				o.Download(stage[(2*l)*n*kvDim:(2*l+1)*n*kvDim], d.k[l], pos0*kvDim)
				o.Download(stage[(2*l+1)*n*kvDim:(2*l+2)*n*kvDim], d.v[l], pos0*kvDim)
			}
		}
		return nil
	})
	if err != nil {
		// Device state after a failure is unknown: start again next time.
		_ = be.Do(func(o backend.Ops) error { d.free(o); return nil })
		return fmt.Errorf("llama on %s: %w", be.Name(), err)
	}
	d.stageHost = stage
	for l := 0; l < cfg.NLayer; l++ {
		if err := b.Cache.Append(l, stage[(2*l)*n*kvDim:(2*l+1)*n*kvDim], stage[(2*l+1)*n*kvDim:(2*l+2)*n*kvDim]); err != nil {
			return err
		}
	}
	d.nPos = pos0 + n
	return nil
}
