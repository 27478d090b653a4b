package plan

import (
	"fmt"
	"math/big"
	"strings"
)

// units are the suffixes ParseBytes accepts: SI prefixes count in powers of 1000, binary ones
// (Ki, Mi, …) in powers of 1024, with or without a trailing B.
var units = []struct {
	suffix string
	scale  int64
}{
	{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"tib", 1 << 40},
	{"ki", 1 << 10}, {"mi", 1 << 20}, {"gi", 1 << 30}, {"ti", 1 << 40},
	{"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9}, {"tb", 1e12},
	{"k", 1e3}, {"m", 1e6}, {"g", 1e9}, {"t", 1e12},
	{"b", 1},
}

// ParseBytes reads a memory size: a plain number of bytes ("85899345920") or a number with a
// unit ("80GiB", "79.5 GiB", "80GB", "81920MiB"). Fractions are exact and rounded down to whole
// bytes; the result must be positive and fit int64.
func ParseBytes(s string) (int64, error) {
	in := strings.TrimSpace(s)
	num, scale := strings.ToLower(in), int64(1)
	for _, u := range units {
		if strings.HasSuffix(num, u.suffix) {
			num, scale = strings.TrimSpace(strings.TrimSuffix(num, u.suffix)), u.scale
			break
		}
	}
	r, ok := new(big.Rat), decimal(num)
	if ok {
		_, ok = r.SetString(num)
	}
	if !ok {
		return 0, fmt.Errorf("bad memory size %q (want bytes or a number with KB, MB, GB, TB, KiB, MiB, GiB or TiB, e.g. 80GiB)", s)
	}
	r.Mul(r, new(big.Rat).SetInt64(scale))
	n := new(big.Int).Quo(r.Num(), r.Denom())
	if !n.IsInt64() {
		return 0, fmt.Errorf("memory size %q is too large", s)
	}
	if n.Sign() <= 0 {
		return 0, fmt.Errorf("memory size %q is not positive", s)
	}
	return n.Int64(), nil
}

// FormatBytes writes n in the largest binary unit that keeps it at least 1 (two decimals).
func FormatBytes(n int64) string {
	switch {
	case n >= 1<<40:
		return fmt.Sprintf("%.2f TiB", float64(n)/(1<<40))
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.2f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// decimal reports whether s is digits with at most one decimal point, 40 characters at most.
func decimal(s string) bool {
	digits, dots := 0, 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '.':
			dots++
		default:
			return false
		}
	}
	return digits > 0 && dots <= 1 && len(s) <= 40
}
