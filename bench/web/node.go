package main

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// runNode runs one build of bench/wasm in Node through the toolchain's wasm_exec_node.js; the
// program reads the model from disk.
func runNode(ctx context.Context, c *config, b build, model string) (engineResult, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	args := []string{filepath.Join(c.wasmExec, "wasm_exec_node.js"), b.path,
		"--model", model, "--prompt-tokens", strconv.Itoa(c.promptTokens),
		"--gen-tokens", strconv.Itoa(c.genTokens), "--runs", strconv.Itoa(c.runs)}
	if c.noWarmup {
		args = append(args, "--no-warmup")
	}
	cmd := exec.CommandContext(ctx, c.nodeBin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return engineResult{}, fmt.Errorf("node: no result within %v", c.timeout)
		}
		return engineResult{}, fmt.Errorf("node: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return parseResult(strings.TrimSpace(stdout.String()))
}
