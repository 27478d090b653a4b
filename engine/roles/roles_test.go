package roles

import (
	"math"
	"testing"

	"github.com/attnscope/attnscope/engine/trace"
)

// onehot makes causal rows that put all attention on key(q) (clamped to 0…q).
func onehot(n int, key func(q int) int) Rows {
	rows := make(Rows, n)
	for q := range rows {
		rows[q] = make([]float32, q+1)
		k := min(max(key(q), 0), q)
		rows[q][k] = 1
	}
	return rows
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestScores(t *testing.T) {
	prev := onehot(8, func(q int) int { return q - 1 })
	first := onehot(8, func(q int) int { return 0 })
	if !near(PreviousToken(prev), 1) || !near(FirstToken(prev), 1.0/7) || !near(FirstToken(first), 1) || !near(PreviousToken(first), 1.0/7) {
		t.Errorf("previous/first: %v %v %v %v", PreviousToken(prev), FirstToken(prev), FirstToken(first), PreviousToken(first))
	}
	// <eot> a b c d a b c d: period 4 from position 1.
	ind := onehot(9, func(q int) int { return q - 3 })
	if got := Induction(ind, 1, 4); !near(got, 1) {
		t.Errorf("induction = %v", got)
	}
	if got := Induction(prev, 1, 4); got > 0.01 {
		t.Errorf("a previous-token head scores %v as induction", got)
	}
	// <eot> a b c = c b a: n = 3, queries 4…6 look at 3, 2, 1.
	mir := onehot(7, func(q int) int { return 7 - q })
	if got := Mirror(mir, 3); !near(got, 1) {
		t.Errorf("mirror = %v", got)
	}
	texts := []string{"<eot>", "(", "[", "{", "=", "}", "]"}
	br := onehot(7, func(q int) int { return []int{0, 1, 2, 3, 3, 2, 1}[q] })
	if got := BracketMatch(br, texts); !near(got, 1) {
		t.Errorf("bracket match = %v", got)
	}
	tr := trace.New(trace.Model{NLayer: 1, NHead: 2}, trace.Positional{})
	tr.Attn[0][0], tr.Attn[0][1] = first, prev
	r := Rank(tr, PreviousToken)
	if r[0].Head != 1 || !near(r[0].Score, 1) {
		t.Errorf("Rank = %v", r)
	}
	a := Average([][]Head{r, Rank(tr, FirstToken)})
	if len(a) != 2 || !near(a[0].Score, (1+1.0/7)/2) {
		t.Errorf("Average = %v", a)
	}
}
