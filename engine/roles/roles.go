package roles

import (
	"slices"

	"github.com/attnscope/attnscope/engine/trace"
)

// Rows are one head's attention rows, shape (query, key): rows[q][k] is the probability query q
// gives key k (causal rows hold q+1 keys).
type Rows = [][]float32

// mean averages rows[q][key(q)] over the queries q for which key returns a key in 0…q.
func mean(rows Rows, key func(q int) int) float64 {
	var s float64
	n := 0
	for q, r := range rows {
		k := key(q)
		if k < 0 || k >= len(r) {
			continue
		}
		s += float64(r[k])
		n++
	}
	if n == 0 {
		return 0
	}
	return s / float64(n)
}

// PreviousToken is the mean attention of queries 1… on the key just before them.
func PreviousToken(rows Rows) float64 { return mean(rows, func(q int) int { return q - 1 }) }

// FirstToken is the mean attention of queries 1… on key 0 (the attention sink).
func FirstToken(rows Rows) float64 {
	return mean(rows, func(q int) int {
		if q == 0 {
			return -1
		}
		return 0
	})
}

// Induction scores a sequence whose tokens from position start+period on repeat those from
// start (start+period+i holds the token of start+i): the mean attention of each query in the
// repeat on the key right after the earlier occurrence of its token, where an induction head
// looks to predict what comes next.
func Induction(rows Rows, start, period int) float64 {
	return mean(rows, func(q int) int {
		if q < start+period {
			return -1
		}
		return q - period + 1
	})
}

// Mirror scores the reverse task's sequence <|endoftext|> s "=" answer, s of length n at
// positions 1…n: the query at position q ≥ n+1 predicts answer character q−n, which is s's
// character at position 2n+1−q. The score is the mean attention on that key.
func Mirror(rows Rows, n int) float64 {
	return mean(rows, func(q int) int {
		if q < n+1 || q > 2*n {
			return -1
		}
		return 2*n + 1 - q
	})
}

// BracketMatch scores queries inside a bracket sequence (texts are the tokens' texts): for every
// query with an unclosed open bracket at or before it, the mean attention on the innermost one,
// whose closing bracket comes next.
func BracketMatch(rows Rows, texts []string) float64 {
	open := make([]int, len(texts)) // innermost unclosed open bracket at each position, or -1
	var stack []int
	for i, t := range texts {
		switch t {
		case "(", "[", "{":
			stack = append(stack, i)
		case ")", "]", "}":
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		}
		open[i] = -1
		if len(stack) > 0 {
			open[i] = stack[len(stack)-1]
		}
	}
	return mean(rows, func(q int) int {
		if q >= len(open) {
			return -1
		}
		return open[q]
	})
}

// Head is one head's score.
type Head struct {
	Layer, Head int
	Score       float64
}

// Rank scores every head of t with score and returns them best first.
func Rank(t *trace.Trace, score func(Rows) float64) []Head {
	var hs []Head
	for l := range t.Attn {
		for h := range t.Attn[l] {
			hs = append(hs, Head{l, h, score(t.Attn[l][h])})
		}
	}
	slices.SortStableFunc(hs, func(a, b Head) int {
		switch {
		case a.Score > b.Score:
			return -1
		case a.Score < b.Score:
			return 1
		}
		return 0
	})
	return hs
}

// Average averages per-head scores over several traces of the same model: scores[i] is
// Rank's result for trace i (any order). The result is best first.
func Average(scores [][]Head) []Head {
	sum := map[[2]int]float64{}
	for _, hs := range scores {
		for _, h := range hs {
			sum[[2]int{h.Layer, h.Head}] += h.Score
		}
	}
	var out []Head
	for k, s := range sum {
		out = append(out, Head{k[0], k[1], s / float64(len(scores))})
	}
	slices.SortFunc(out, func(a, b Head) int {
		switch {
		case a.Score > b.Score:
			return -1
		case a.Score < b.Score:
			return 1
		case a.Layer != b.Layer:
			return a.Layer - b.Layer
		}
		return a.Head - b.Head
	})
	return out
}
