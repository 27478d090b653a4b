package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestViewCommand(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "m.gguf")
	os.WriteFile(model, []byte("GGUF"), 0o644)

	// No viewer anywhere: the error says how to build one.
	t.Setenv("ATTNSCOPE_VIEW", "")
	t.Setenv("PATH", dir)
	var out, errb bytes.Buffer
	if code := runMain([]string{"view", "--model", model, "--prompt", "hi"}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "make view") {
		t.Errorf("without a viewer: exit %d, %q", code, errb.String())
	}

	// A stand-in viewer records the arguments it is given.
	args := filepath.Join(dir, "args")
	fake := filepath.Join(dir, "fake-view")
	os.WriteFile(fake, []byte("#!/bin/sh\nfor a in \"$@\"; do echo \"$a\"; done > "+args+"\necho drawn\n"), 0o755)
	t.Setenv("ATTNSCOPE_VIEW", fake)
	out.Reset()
	errb.Reset()
	if code := runMain([]string{"view", "--model", model, "--prompt", "안녕 world", "--view", "head", "--layer", "1", "--head", "2"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	got, _ := os.ReadFile(args)
	want := strings.Join([]string{"--model", model, "--prompt", "안녕 world", "--view", "head", "--layer", "1", "--head", "2", "--max-tokens", "0"}, "\n") + "\n"
	if string(got) != want || out.String() != "drawn\n" {
		t.Errorf("viewer got %q, printed %q", got, out.String())
	}
	if code := runMain([]string{"view", "--model", model, "--prompt", "x", "--screenshot", "s.png"}, &out, &errb); code != 0 {
		t.Fatalf("--screenshot: exit %d", code)
	}
	if got, _ := os.ReadFile(args); !strings.HasSuffix(string(got), "--screenshot\ns.png\n") {
		t.Errorf("--screenshot passed as %q", got)
	}

	// Refusals before anything runs.
	for _, bad := range [][]string{
		{"view", "--prompt", "hi"},
		{"view", "--model", model},
		{"view", "--model", filepath.Join(dir, "missing.gguf"), "--prompt", "hi"},
		{"view", "--model", model, "--prompt", "hi", "--layer", "-1"},
	} {
		os.Remove(args)
		if code := runMain(bad, &out, &errb); code == 0 {
			t.Errorf("%v: exit 0", bad)
		}
		if _, err := os.Stat(args); err == nil {
			t.Errorf("%v: the viewer ran", bad)
		}
	}
}
