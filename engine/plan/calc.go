package plan

import (
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"
)

// Term is one quantity of a plan: its formula in symbols, the same formula with the numbers
// substituted, and its value (bytes, or sequences for max_batch).
type Term struct {
	Name        string `json:"name"`
	Formula     string `json:"formula"`
	Substituted string `json:"substituted"`
	Value       int64  `json:"value"`
}

// ErrOverflow reports a quantity too large for int64 bytes.
var ErrOverflow = fmt.Errorf("plan: a size overflows int64 bytes")

// calc does checked int64 arithmetic; the first failure sticks and later results are 0.
type calc struct {
	err error
}

func (c *calc) fail(format string, args ...any) {
	if c.err == nil {
		c.err = fmt.Errorf(format, args...)
	}
}

// mul multiplies non-negative factors, failing on overflow.
func (c *calc) mul(what string, xs ...int64) int64 {
	p := int64(1)
	for _, x := range xs {
		if c.err != nil {
			return 0
		}
		if x < 0 {
			c.fail("plan: %s: negative factor %d", what, x)
			return 0
		}
		hi, lo := bits.Mul64(uint64(p), uint64(x))
		if hi != 0 || lo > math.MaxInt64 {
			c.fail("%w: %s (%s)", ErrOverflow, what, joinInts(xs, " × "))
			return 0
		}
		p = int64(lo)
	}
	return p
}

// add sums non-negative terms, failing on overflow.
func (c *calc) add(what string, xs ...int64) int64 {
	s := int64(0)
	for _, x := range xs {
		if c.err != nil {
			return 0
		}
		if x < 0 {
			c.fail("plan: %s: negative term %d", what, x)
			return 0
		}
		if s > math.MaxInt64-x {
			c.fail("%w: %s (%s)", ErrOverflow, what, joinInts(xs, " + "))
			return 0
		}
		s += x
	}
	return s
}

// product is a Term whose value is the product of factors; formula names them in order.
func (c *calc) product(name, formula string, factors ...int64) Term {
	return Term{Name: name, Formula: formula, Substituted: joinInts(factors, " × "), Value: c.mul(name, factors...)}
}

// sum is a Term whose value is the sum of other terms' values.
func (c *calc) sum(name string, terms ...Term) Term {
	names := make([]string, len(terms))
	vals := make([]int64, len(terms))
	for i, t := range terms {
		names[i], vals[i] = t.Name, t.Value
	}
	return Term{Name: name, Formula: strings.Join(names, " + "), Substituted: joinInts(vals, " + "), Value: c.add(name, vals...)}
}

func joinInts(xs []int64, sep string) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.FormatInt(x, 10)
	}
	return strings.Join(s, sep)
}
