// Command ratios reads `go test -bench` output on its standard input, copies it to its standard
// output as it comes, and then prints, for every benchmark that ran as the twins ".../simd=X"
// and ".../plain" (engine/kernels' side-by-side benchmarks), how many times faster the SIMD
// kernel is than the plain-Go one. --want NAME=R states a target: every pair whose name contains
// NAME should be at least R times faster; the table says which are met.
//
//	go test -run='^$' -bench=. ./engine/kernels | go run ./bench/ratios --want MatVecLanes=3
//
// It fails when the input holds no benchmark pairs at all or a test failed, so that a broken
// run never prints an empty table that looks like a result.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

type wantFlags []want

type want struct {
	substr string
	ratio  float64
}

func (w *wantFlags) String() string { return fmt.Sprint(*w) }
func (w *wantFlags) Set(v string) error {
	name, r, ok := strings.Cut(v, "=")
	f, err := strconv.ParseFloat(r, 64)
	if !ok || name == "" || err != nil || f <= 0 {
		return fmt.Errorf("want NAME=RATIO (e.g. MatVecLanes=3), got %q", v)
	}
	*w = append(*w, want{name, f})
	return nil
}

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench/ratios:", err)
		os.Exit(1)
	}
}

func run(args []string, in io.Reader, out io.Writer) error {
	fs := flag.NewFlagSet("ratios", flag.ContinueOnError)
	var wants wantFlags
	fs.Var(&wants, "want", "NAME=R: pairs whose name contains NAME should be R times faster with SIMD (repeatable)")
	title := fs.String("title", "SIMD vs plain Go", "a heading for the table")
	quiet := fs.Bool("q", false, "do not copy the input")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q (the benchmark output comes on standard input)", fs.Args())
	}
	pairs, failed, err := read(in, out, *quiet)
	if err != nil {
		return err
	}
	if len(pairs) == 0 {
		return errors.New("no SIMD/plain benchmark pairs in the input")
	}
	report(out, *title, pairs, wants)
	if failed != "" {
		return fmt.Errorf("the benchmark run failed: %s", failed)
	}
	return nil
}

// pair is one benchmark's two sides.
type pair struct {
	name        string  // the benchmark without its side, e.g. BenchmarkVecDot/Q8_0/n=768
	pkg         string  // the package it ran in
	level       string  // the SIMD side's instruction set, e.g. avx2
	simd, plain float64 // ns/op
	hasS, hasP  bool
}

var (
	benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+([0-9.]+) ns/op`)
	simdSide  = regexp.MustCompile(`/simd=([^/]+)(/|$)`)
)

// read parses the benchmark lines, copying the input to out unless quiet.
func read(in io.Reader, out io.Writer, quiet bool) (pairs []*pair, failed string, err error) {
	byName := map[string]*pair{}
	pkg := ""
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !quiet {
			fmt.Fprintln(out, line)
		}
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = strings.TrimSpace(p)
		}
		if strings.HasPrefix(line, "FAIL") || strings.HasPrefix(line, "--- FAIL") || strings.HasPrefix(line, "panic:") {
			if failed == "" {
				failed = line
			}
		}
		m := benchLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		ns, err := strconv.ParseFloat(m[2], 64)
		if err != nil || ns <= 0 {
			continue
		}
		full := m[1]
		var key, level string
		isSIMD := false
		if sm := simdSide.FindStringSubmatchIndex(full); sm != nil {
			level = full[sm[2]:sm[3]]
			key = full[:sm[0]] + full[sm[4]:]
			key = strings.TrimSuffix(key, "/")
			isSIMD = true
		} else if k, ok := strings.CutSuffix(full, "/plain"); ok {
			key = k
		} else if i := strings.Index(full, "/plain/"); i >= 0 {
			key = full[:i] + full[i+len("/plain"):]
		} else {
			continue
		}
		id := pkg + " " + key
		p := byName[id]
		if p == nil {
			p = &pair{name: key, pkg: pkg}
			byName[id] = p
		}
		if isSIMD {
			p.simd, p.hasS, p.level = ns, true, level
		} else {
			p.plain, p.hasP = ns, true
		}
	}
	if err := sc.Err(); err != nil {
		return nil, "", err
	}
	for _, p := range byName {
		if p.hasS && p.hasP {
			pairs = append(pairs, p)
		}
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].pkg != pairs[j].pkg {
			return pairs[i].pkg < pairs[j].pkg
		}
		return pairs[i].name < pairs[j].name
	})
	return pairs, failed, nil
}

func report(out io.Writer, title string, pairs []*pair, wants wantFlags) {
	fmt.Fprintf(out, "\n%s (ns/op; speedup = plain / simd)\n", title)
	fmt.Fprintf(out, "%-52s %-12s %12s %12s %8s\n", "benchmark", "simd", "simd ns/op", "plain ns/op", "speedup")
	for _, p := range pairs {
		fmt.Fprintf(out, "%-52s %-12s %12.1f %12.1f %7.2fx\n", strings.TrimPrefix(p.name, "Benchmark"), p.level, p.simd, p.plain, p.plain/p.simd)
	}
	for _, w := range wants {
		lo, n := 0.0, 0
		for _, p := range pairs {
			if strings.Contains(p.name, w.substr) {
				if r := p.plain / p.simd; n == 0 || r < lo {
					lo = r
				}
				n++
			}
		}
		switch {
		case n == 0:
			fmt.Fprintf(out, "target %s ≥ %.1fx: no such benchmark\n", w.substr, w.ratio)
		case lo >= w.ratio:
			fmt.Fprintf(out, "target %s ≥ %.1fx: met (lowest %.2fx of %d)\n", w.substr, w.ratio, lo, n)
		default:
			fmt.Fprintf(out, "target %s ≥ %.1fx: NOT met (lowest %.2fx of %d)\n", w.substr, w.ratio, lo, n)
		}
	}
}
