package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// row is one measurement: a model in a runtime with an engine.
type row struct {
	Model   string  `json:"model"`   // the file's name
	Runtime string  `json:"runtime"` // "node" or "chromium"
	Engine  string  `json:"engine"`  // "attnscope/<build>" or "wllama"
	PP      float64 `json:"pp_tok_s"`
	TG      float64 `json:"tg_tok_s"`
	Threads int     `json:"threads"`
	SIMD    string  `json:"simd"` // what the engine reports about its vector kernels
	Err     string  `json:"error,omitempty"`
}

// engineResult is the JSON both bench/wasm and the wllama page hand back.
type engineResult struct {
	PP      float64 `json:"pp_tok_s"`
	TG      float64 `json:"tg_tok_s"`
	Threads int     `json:"threads"`
	SIMD    string  `json:"simd"`
}

func parseResult(text string) (engineResult, error) {
	var r engineResult
	if err := json.Unmarshal([]byte(text), &r); err != nil {
		return r, fmt.Errorf("reading the result %.200q: %w", text, err)
	}
	if !(r.PP > 0) || !(r.TG > 0) {
		return r, fmt.Errorf("the result has no speeds: %.200s", text)
	}
	return r, nil
}

// measureAll runs every model in every runtime. A failing measurement becomes a row with its
// error, and the first error is returned after all rows are done.
func measureAll(ctx context.Context, c *config) ([]row, error) {
	var rows []row
	var first error
	add := func(r row, res engineResult, err error) {
		if err != nil {
			r.Err = err.Error()
			if first == nil {
				first = fmt.Errorf("%s in %s with %s: %w", r.Model, r.Runtime, r.Engine, err)
			}
			fmt.Fprintf(c.log, "FAILED %s %s %s: %v\n", r.Model, r.Runtime, r.Engine, err)
		} else {
			r.PP, r.TG, r.Threads, r.SIMD = res.PP, res.TG, res.Threads, res.SIMD
			fmt.Fprintf(c.log, "%s %s %s: pp %.1f tg %.1f tok/s\n", r.Model, r.Runtime, r.Engine, r.PP, r.TG)
		}
		rows = append(rows, r)
	}
	if c.node {
		for _, m := range c.models {
			for _, b := range c.builds {
				res, err := runNode(ctx, c, b, m)
				add(row{Model: filepath.Base(m), Runtime: "node", Engine: "attnscope/" + b.name}, res, err)
			}
		}
	}
	if c.chromium || c.wllama != "" {
		srv, err := newServer(c)
		if err != nil {
			return rows, err
		}
		defer srv.close()
		br, err := newBrowser(ctx, c)
		if err != nil {
			return rows, err
		}
		defer br.close()
		for _, m := range c.models {
			if c.chromium {
				for _, b := range c.builds {
					res, err := br.runOurs(c, srv, b, m)
					add(row{Model: filepath.Base(m), Runtime: "chromium", Engine: "attnscope/" + b.name}, res, err)
				}
			}
			if c.wllama != "" {
				res, err := br.runWllama(c, srv, m)
				add(row{Model: filepath.Base(m), Runtime: "chromium", Engine: "wllama"}, res, err)
			}
		}
	}
	return rows, first
}

// printTable prints the rows, then the ratios: each build against the one named "plain" in the
// same runtime, and each attnscope build against wllama in Chromium.
func printTable(w io.Writer, c *config, rows []row) {
	pp, tg := fmt.Sprintf("pp%d_tok_s", c.promptTokens), fmt.Sprintf("tg%d_tok_s", c.genTokens)
	fmt.Fprintf(w, "\n%-20s %-9s %-17s %11s %11s %s\n", "model", "runtime", "engine", pp, tg, "simd")
	for _, r := range rows {
		if r.Err != "" {
			fmt.Fprintf(w, "%-20s %-9s %-17s %11s %11s FAILED: %s\n", r.Model, r.Runtime, r.Engine, "-", "-", firstLine(r.Err))
			continue
		}
		fmt.Fprintf(w, "%-20s %-9s %-17s %11.1f %11.1f %s\n", r.Model, r.Runtime, r.Engine, r.PP, r.TG, r.SIMD)
	}
	find := func(model, runtime, engine string) *row {
		for i := range rows {
			r := &rows[i]
			if r.Model == model && r.Runtime == runtime && r.Engine == engine && r.Err == "" {
				return r
			}
		}
		return nil
	}
	var lines []string
	for _, r := range rows {
		if r.Err != "" || !strings.HasPrefix(r.Engine, "attnscope/") {
			continue
		}
		if r.Engine != "attnscope/plain" {
			if base := find(r.Model, r.Runtime, "attnscope/plain"); base != nil {
				lines = append(lines, fmt.Sprintf("%-20s %-9s %-34s %7.2fx %7.2fx", r.Model, r.Runtime,
					r.Engine+" / attnscope/plain", r.PP/base.PP, r.TG/base.TG))
			}
		}
		if peer := find(r.Model, r.Runtime, "wllama"); peer != nil {
			lines = append(lines, fmt.Sprintf("%-20s %-9s %-34s %7.2fx %7.2fx", r.Model, r.Runtime,
				r.Engine+" / wllama", r.PP/peer.PP, r.TG/peer.TG))
		}
	}
	if len(lines) > 0 {
		fmt.Fprintf(w, "\n%-20s %-9s %-34s %8s %8s\n", "model", "runtime", "ratio", "pp", "tg")
		for _, l := range lines {
			fmt.Fprintln(w, l)
		}
	}
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return s
}
