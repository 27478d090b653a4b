package infer

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/attnscope/attnscope/engine/kernels"
)

// SamplerOptions choose how the next token is picked from the logits.
type SamplerOptions struct {
	Temperature float32 // ≤ 0: greedy (argmax, ties to the lower id)
	TopK        int     // keep the K most likely tokens (0: all)
	TopP        float32 // keep the smallest set whose probability reaches P (0 or ≥ 1: all)
	Seed        uint64  // seeds the random draw: the same seed gives the same tokens
}

// Validate reports options that make no sense.
func (o SamplerOptions) Validate() error {
	switch {
	case math.IsNaN(float64(o.Temperature)) || math.IsInf(float64(o.Temperature), 0):
		return fmt.Errorf("temperature %v is not a finite number", o.Temperature)
	case o.TopK < 0:
		return fmt.Errorf("top-k %d is negative", o.TopK)
	case math.IsNaN(float64(o.TopP)) || o.TopP < 0:
		return fmt.Errorf("top-p %v is not in [0, 1]", o.TopP)
	}
	return nil
}

// Sampler picks tokens. It keeps its own random stream, so a session is reproducible.
type Sampler struct {
	opts SamplerOptions
	rng  *rand.Rand
	idx  []int
	prob []float64
}

// NewSampler returns a sampler for opts.
func NewSampler(opts SamplerOptions) *Sampler {
	return &Sampler{opts: opts, rng: rand.New(rand.NewPCG(opts.Seed, 0x617474_6e73636f))}
}

// Argmax returns the index of the largest value, the lowest index among ties (kernels.Argmax:
// on vectors where the machine has them).
func Argmax(x []float32) int32 {
	return int32(kernels.Argmax(x))
}

// Sample picks the next token from logits (one row of NVocab values).
func (s *Sampler) Sample(logits []float32) int32 {
	o := s.opts
	if o.Temperature <= 0 {
		return Argmax(logits)
	}
	// Candidates sorted by logit, descending (ties to the lower id).
	s.idx = s.idx[:0]
	for i := range logits {
		s.idx = append(s.idx, i)
	}
	sort.SliceStable(s.idx, func(a, b int) bool { return logits[s.idx[a]] > logits[s.idx[b]] })
	cand := s.idx
	if o.TopK > 0 && o.TopK < len(cand) {
		cand = cand[:o.TopK]
	}
	// Softmax with temperature over the candidates.
	s.prob = s.prob[:0]
	maxv := float64(logits[cand[0]])
	var sum float64
	for _, i := range cand {
		p := math.Exp((float64(logits[i]) - maxv) / float64(o.Temperature))
		s.prob = append(s.prob, p)
		sum += p
	}
	for i := range s.prob {
		s.prob[i] /= sum
	}
	sum = 1
	if o.TopP > 0 && o.TopP < 1 {
		var c float64
		for i, p := range s.prob {
			c += p
			if c >= float64(o.TopP) {
				cand, s.prob = cand[:i+1], s.prob[:i+1]
				break
			}
		}
		sum = 0
		for _, p := range s.prob {
			sum += p
		}
	}
	r := s.rng.Float64() * sum
	for i, p := range s.prob {
		r -= p
		if r < 0 {
			return int32(cand[i])
		}
	}
	return int32(cand[len(cand)-1])
}
