package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// build is one compilation of bench/wasm: a name for the table and the .wasm file.
type build struct{ name, path string }

type buildFlags []build

func (b *buildFlags) String() string { return fmt.Sprint(*b) }
func (b *buildFlags) Set(v string) error {
	name, path, ok := strings.Cut(v, "=")
	if !ok || name == "" || path == "" {
		return fmt.Errorf("want NAME=FILE.wasm, got %q", v)
	}
	*b = append(*b, build{name, path})
	return nil
}

// config is everything a run needs.
type config struct {
	builds                        buildFlags
	wasmExec                      string // the toolchain's lib/wasm folder
	node, chromium                bool
	nodeBin, chrome               string
	wllama                        string // the @wllama/wllama package folder ("" skips it)
	models                        []string
	promptTokens, genTokens, runs int
	noWarmup                      bool
	timeout                       time.Duration
	jsonOut                       string
	log                           io.Writer
}

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench/web:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("web", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	fs.Var(&c.builds, "wasm", "NAME=FILE: a GOOS=js build of bench/wasm (repeatable)")
	fs.StringVar(&c.wasmExec, "wasm-exec", "", "the Go toolchain's lib/wasm folder (wasm_exec.js, wasm_exec_node.js)")
	fs.BoolVar(&c.node, "node", false, "run each build in Node")
	fs.BoolVar(&c.chromium, "chromium", false, "run each build in a headless Chromium page")
	fs.StringVar(&c.nodeBin, "node-bin", "node", "the Node executable")
	fs.StringVar(&c.chrome, "chrome", "chromium", "the Chromium executable")
	fs.StringVar(&c.wllama, "wllama", "", "the @wllama/wllama package folder: also run llama.cpp's wasm in the same Chromium")
	fs.IntVar(&c.promptTokens, "prompt-tokens", 128, "prompt tokens, processed in one batch")
	fs.IntVar(&c.genTokens, "gen-tokens", 64, "tokens generated greedily after the prompt")
	fs.IntVar(&c.runs, "runs", 3, "measured runs after one warm-up; medians are reported")
	fs.BoolVar(&c.noWarmup, "no-warmup", false, "measure from the first run on (for slow runtimes)")
	fs.DurationVar(&c.timeout, "timeout", 30*time.Minute, "limit for one model in one runtime")
	fs.StringVar(&c.jsonOut, "json", "", "also write the rows as JSON to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	c.models = fs.Args()
	c.log = stderr
	if err := c.check(); err != nil {
		return err
	}
	rows, err := measureAll(context.Background(), &c)
	printTable(stdout, &c, rows)
	if c.jsonOut != "" {
		data, _ := json.MarshalIndent(rows, "", "  ")
		if werr := os.WriteFile(c.jsonOut, append(data, '\n'), 0o644); werr != nil && err == nil {
			err = werr
		}
	}
	return err
}

func (c *config) check() error {
	var errs []error
	if len(c.models) == 0 {
		errs = append(errs, errors.New("no model files given"))
	}
	for _, m := range c.models {
		if st, err := os.Stat(m); err != nil {
			errs = append(errs, err)
		} else if st.IsDir() {
			errs = append(errs, fmt.Errorf("%s is a folder, not a model file", m))
		}
	}
	if !c.node && !c.chromium && c.wllama == "" {
		errs = append(errs, errors.New("nothing to run: give --node, --chromium or --wllama"))
	}
	if (c.node || c.chromium) && len(c.builds) == 0 {
		errs = append(errs, errors.New("--node and --chromium need at least one --wasm NAME=FILE"))
	}
	seen := map[string]bool{}
	for _, b := range c.builds {
		if seen[b.name] {
			errs = append(errs, fmt.Errorf("--wasm %s given twice", b.name))
		}
		seen[b.name] = true
		if _, err := os.Stat(b.path); err != nil {
			errs = append(errs, fmt.Errorf("--wasm %s: %w", b.name, err))
		}
	}
	if len(c.builds) > 0 {
		for _, f := range []string{"wasm_exec.js", "wasm_exec_node.js"} {
			if _, err := os.Stat(filepath.Join(c.wasmExec, f)); err != nil {
				errs = append(errs, fmt.Errorf("--wasm-exec: %w (want the toolchain's lib/wasm: $(go env GOROOT)/lib/wasm)", err))
			}
		}
	}
	if c.wllama != "" {
		for _, f := range []string{"esm/index.js", "esm/wasm/wllama.wasm"} {
			if _, err := os.Stat(filepath.Join(c.wllama, f)); err != nil {
				errs = append(errs, fmt.Errorf("--wllama: %w (want the unpacked @wllama/wllama package)", err))
			}
		}
	}
	if c.promptTokens < 1 || c.genTokens < 1 || c.runs < 1 {
		errs = append(errs, errors.New("--prompt-tokens, --gen-tokens and --runs must be at least 1"))
	}
	return errors.Join(errs...)
}
