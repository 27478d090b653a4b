package train

import (
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync"
)

// Schedule is the learning rate over training: a linear warm-up from 0 to LR over Warmup
// steps, then a cosine decay to MinLR at step Steps.
type Schedule struct {
	LR, MinLR     float64
	Warmup, Steps int
}

// At returns the learning rate of step (0-based).
func (s Schedule) At(step int) float64 {
	if step < s.Warmup {
		return s.LR * float64(step+1) / float64(s.Warmup)
	}
	span := max(s.Steps-s.Warmup, 1)
	f := min(float64(step-s.Warmup)/float64(span), 1)
	return s.MinLR + 0.5*(s.LR-s.MinLR)*(1+math.Cos(math.Pi*f))
}

// AdamW holds the optimizer's settings; zero values take the defaults noted.
type AdamW struct {
	Beta1, Beta2 float64 // 0.9, 0.98
	Eps          float64 // 1e-8
	WeightDecay  float64 // applied to matrices only (not norms, biases)
	Clip         float64 // global gradient-norm limit; 0: none
}

// Trainer updates float32 parameters with AdamW, computing gradients on Shards goroutines.
type Trainer struct {
	P      *Params[float32]
	Opt    AdamW
	Sched  Schedule
	Shards int // 0: GOMAXPROCS
	step   int
	m, v   []float32
	decay  []bool // per element: weight decay applies
	grads  []*Params[float32]
	rt     *ropeTable
}

// NewTrainer prepares p for training.
func NewTrainer(p *Params[float32], opt AdamW, sched Schedule) *Trainer {
	if opt.Beta1 == 0 {
		opt.Beta1 = 0.9
	}
	if opt.Beta2 == 0 {
		opt.Beta2 = 0.98
	}
	if opt.Eps == 0 {
		opt.Eps = 1e-8
	}
	t := &Trainer{P: p, Opt: opt, Sched: sched, m: make([]float32, len(p.Flat)), v: make([]float32, len(p.Flat)),
		decay: make([]bool, len(p.Flat)), rt: p.rope()}
	off := 0
	for _, tn := range p.Tensors {
		d := tn.Rows > 1 && !strings.Contains(tn.Name, "embd")
		for i := range tn.Data {
			t.decay[off+i] = d
		}
		off += len(tn.Data)
	}
	return t
}

// StepStats describe one optimizer step.
type StepStats struct {
	Loss     float64 // mean cross-entropy of the batch, before the update
	GradNorm float64 // before clipping
	LR       float64
	Tokens   int // positions evaluated
}

// Step computes the batch's gradient and applies one AdamW update.
func (t *Trainer) Step(batch []Sample) (StepStats, error) {
	total, tokens := 0, 0
	for _, s := range batch {
		if err := t.P.checkSample(s); err != nil {
			return StepStats{}, err
		}
		tokens += len(s.Tokens) - 1
		for _, b := range s.Target {
			if b {
				total++
			}
		}
	}
	if total == 0 {
		return StepStats{}, fmt.Errorf("train: no scored positions in a batch of %d", len(batch))
	}
	shards := t.Shards
	if shards <= 0 {
		shards = runtime.GOMAXPROCS(0)
	}
	shards = min(shards, len(batch))
	for len(t.grads) < shards {
		g, _ := NewParams[float32](t.P.Cfg)
		t.grads = append(t.grads, g)
	}
	losses := make([]float64, shards)
	var wg sync.WaitGroup
	for w := 0; w < shards; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			g := t.grads[w]
			clear(g.Flat)
			lo, hi := w*len(batch)/shards, (w+1)*len(batch)/shards
			for _, s := range batch[lo:hi] {
				l, _ := t.P.lossGrad(g, s, 1/float64(total), t.rt)
				losses[w] += l
			}
		}(w)
	}
	wg.Wait()
	st := StepStats{Tokens: tokens}
	for _, l := range losses {
		st.Loss += l
	}
	st.Loss /= float64(total)
	// Sum the shards' gradients into the first, in shard order, in parallel over ranges.
	g := t.grads[0].Flat
	n := len(g)
	parts := runtime.GOMAXPROCS(0)
	norms := make([]float64, parts)
	for w := 0; w < parts; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			lo, hi := w*n/parts, (w+1)*n/parts
			for _, o := range t.grads[1:shards] {
				axpy(g[lo:hi], 1, o.Flat[lo:hi])
			}
			var s float64
			for _, v := range g[lo:hi] {
				s += float64(v) * float64(v)
			}
			norms[w] = s
		}(w)
	}
	wg.Wait()
	var sq float64
	for _, s := range norms {
		sq += s
	}
	st.GradNorm = math.Sqrt(sq)
	scale := 1.0
	if t.Opt.Clip > 0 && st.GradNorm > t.Opt.Clip {
		scale = t.Opt.Clip / st.GradNorm
	}
	st.LR = t.Sched.At(t.step)
	t.step++
	o := t.Opt
	c1 := 1 - math.Pow(o.Beta1, float64(t.step))
	c2 := 1 - math.Pow(o.Beta2, float64(t.step))
	b1, b2 := float32(o.Beta1), float32(o.Beta2)
	lr, eps, wd := float32(st.LR), float32(o.Eps), float32(st.LR*o.WeightDecay)
	ic1, ic2 := float32(1/c1), float32(1/c2)
	sc := float32(scale)
	w := t.P.Flat
	for i, gi := range g {
		gi *= sc
		t.m[i] = b1*t.m[i] + (1-b1)*gi
		t.v[i] = b2*t.v[i] + (1-b2)*gi*gi
		if t.decay[i] {
			w[i] -= wd * w[i]
		}
		w[i] -= lr * (t.m[i] * ic1) / (float32(math.Sqrt(float64(t.v[i]*ic2))) + eps)
	}
	return st, nil
}

// Steps is the number of updates made.
func (t *Trainer) Steps() int { return t.step }

// Loss is the mean cross-entropy of samples without updating (in parallel over shards).
func (t *Trainer) Loss(samples []Sample) (float64, error) {
	total := 0
	for _, s := range samples {
		if err := t.P.checkSample(s); err != nil {
			return 0, err
		}
		for _, b := range s.Target {
			if b {
				total++
			}
		}
	}
	if total == 0 {
		return 0, fmt.Errorf("train: no scored positions")
	}
	shards := min(runtime.GOMAXPROCS(0), len(samples))
	losses := make([]float64, shards)
	var wg sync.WaitGroup
	for w := 0; w < shards; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for _, s := range samples[w*len(samples)/shards : (w+1)*len(samples)/shards] {
				l, _ := t.P.lossGrad(nil, s, 0, t.rt)
				losses[w] += l
			}
		}(w)
	}
	wg.Wait()
	var l float64
	for _, x := range losses {
		l += x
	}
	return l / float64(total), nil
}

// Greedy continues prompt by the most likely token until stop or max tokens, recomputing the
// whole sequence each step (the models are small).
func (p *Params[T]) Greedy(prompt []int32, stop int32, maxTokens int) ([]int32, error) {
	seq := append([]int32(nil), prompt...)
	var out []int32
	rt := p.rope()
	for len(out) < maxTokens && len(seq) < p.Cfg.Ctx {
		if err := p.checkTokens(seq); err != nil {
			return out, err
		}
		a := p.forward(seq, rt)
		V := p.Cfg.Vocab
		row := a.logits[(len(seq)-1)*V:]
		best := 0
		for j, v := range row {
			if v > row[best] {
				best = j
			}
		}
		if int32(best) == stop {
			break
		}
		out = append(out, int32(best))
		seq = append(seq, int32(best))
	}
	return out, nil
}
