package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"

	"github.com/attnscope/attnscope/engine/backend/cpu"
	"github.com/attnscope/attnscope/engine/infer"
)

func main() {
	if inPage() {
		runPage() // settings, model and result go through globalThis.attnscopeBench
		return
	}
	if err := cli(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// cli reads the model named by --model and prints the result as JSON.
func cli(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	path := fs.String("model", "", "GGUF model file (required)")
	var s settings
	fs.IntVar(&s.promptTokens, "prompt-tokens", 128, "prompt length in tokens (processed in one batch)")
	fs.IntVar(&s.genTokens, "gen-tokens", 64, "tokens generated one at a time (greedy) after the prompt")
	fs.IntVar(&s.runs, "runs", 5, "measured runs after one warm-up run; the medians are reported")
	fs.BoolVar(&s.noWarmup, "no-warmup", false, "measure from the first run on")
	compute := fs.String("compute", "auto", "products with quantized weights: auto, f32 or ggml (as attnscope bench --compute)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var err error
	if s.compute, err = cpu.ParseCompute(*compute); err != nil {
		return err
	}
	if *path == "" || fs.NArg() > 0 {
		return fmt.Errorf("usage: bench --model FILE [--prompt-tokens N] [--gen-tokens M] [--runs R] [--no-warmup] [--compute auto|f32|ggml]")
	}
	data, err := os.ReadFile(*path)
	if err != nil {
		return err
	}
	res, err := benchBytes(data, filepath.Base(*path), s)
	if err != nil {
		return err
	}
	res.Platform = platform()
	return json.NewEncoder(stdout).Encode(res)
}

// benchBytes loads a model from its bytes on a one-thread CPU backend and measures it.
func benchBytes(data []byte, name string, s settings) (result, error) {
	if err := s.check(); err != nil {
		return result{}, err
	}
	l, err := infer.Read(bytes.NewReader(data), int64(len(data)), cpu.NewWithOptions(cpu.Options{Threads: 1, Compute: s.compute}))
	if err != nil {
		return result{}, fmt.Errorf("%s: %w", name, err)
	}
	defer l.Close()
	res, err := measure(l, s)
	if err != nil {
		return result{}, fmt.Errorf("%s: %w", name, err)
	}
	res.Model = name
	return res, nil
}

func platform() string {
	p := runtime.GOOS + "/" + runtime.GOARCH
	if runtime.GOOS == "js" {
		if inPage() {
			return p + " browser"
		}
		return p + " node"
	}
	return p
}
