package main

import (
	"bytes"
	"strings"
	"testing"
)

const sample = `goos: linux
pkg: github.com/attnscope/attnscope/engine/kernels
BenchmarkVecDot/Q8_0/n=768/simd=avx2-2         	 1000000	       100.0 ns/op	  15.36 GOP/s
BenchmarkVecDot/Q8_0/n=768/plain-2             	  300000	       400.0 ns/op	   3.84 GOP/s
BenchmarkMatVecLanes/768x288/simd=simd128-int  	    1000	      2000 ns/op
BenchmarkMatVecLanes/768x288/plain             	    1000	      3000 ns/op
BenchmarkExpApprox-2                           	 1000000	        10.0 ns/op
BenchmarkAttentionPrefill/flash/n=512-2        	     100	    100000 ns/op
PASS
`

func TestRatios(t *testing.T) {
	var out bytes.Buffer
	err := run([]string{"-q", "--want", "VecDot/Q8_0=3", "--want", "MatVecLanes=3", "--want", "Nothing=2"}, strings.NewReader(sample), &out)
	if err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{
		"VecDot/Q8_0/n=768", "avx2", "4.00x",
		"MatVecLanes/768x288", "simd128-int", "1.50x",
		"target VecDot/Q8_0 ≥ 3.0x: met (lowest 4.00x of 1)",
		"target MatVecLanes ≥ 3.0x: NOT met (lowest 1.50x of 1)",
		"target Nothing ≥ 2.0x: no such benchmark",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "ExpApprox") || strings.Contains(got, "flash") {
		t.Errorf("benchmarks without twins are listed:\n%s", got)
	}
}

func TestRatiosCopiesInput(t *testing.T) {
	var out bytes.Buffer
	if err := run(nil, strings.NewReader(sample), &out); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), sample) {
		t.Errorf("the input is not copied first:\n%s", out.String())
	}
}

func TestRatiosFailLoudly(t *testing.T) {
	for name, in := range map[string]string{
		"empty":     "",
		"no pairs":  "BenchmarkExpApprox-2 1000 10 ns/op\nPASS\n",
		"only simd": "BenchmarkVecDot/n=1/simd=avx2-2 1000 10 ns/op\n",
	} {
		if err := run([]string{"-q"}, strings.NewReader(in), new(bytes.Buffer)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	failed := sample + "--- FAIL: BenchmarkX\nFAIL\n"
	if err := run([]string{"-q"}, strings.NewReader(failed), new(bytes.Buffer)); err == nil || !strings.Contains(err.Error(), "FAIL") {
		t.Errorf("a failed run: err = %v", err)
	}
	if err := run([]string{"--want", "x"}, strings.NewReader(sample), new(bytes.Buffer)); err == nil {
		t.Error("--want without a ratio accepted")
	}
}
