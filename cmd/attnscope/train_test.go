package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTrainCommand(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "rev.gguf")
	out, code := cli(t, "train", "--task", "reverse", "--steps", "20", "--max-len", "3", "--dim", "32", "--layers", "1",
		"--heads", "2", "--batch", "8", "--eval", "10", "--log-every", "10", "--type", "q8_0", "-o", path)
	if code != 0 || !strings.Contains(out, "step    20/20") || !strings.Contains(out, "tok/s") || !strings.Contains(out, "ETA") ||
		!strings.Contains(out, "held-out exact match") {
		t.Fatalf("exit %d: %s", code, out)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
	if es, _ := os.ReadDir(dir); len(es) != 1 {
		t.Errorf("%d files in the output directory", len(es))
	}
	empty := filepath.Join(dir, "empty.txt")
	os.WriteFile(empty, nil, 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--task", "nope"}, `unknown task "nope"`},
		{[]string{"--task", "reverse", "--steps", "0"}, "--steps is 0"},
		{[]string{"--task", "english"}, "needs --corpus"},
		{[]string{"--task", "english", "--corpus", filepath.Join(dir, "missing.txt")}, "no such file"},
		{[]string{"--task", "english", "--corpus", empty}, "is empty"},
		{[]string{"--task", "english", "--corpus", dir}, "no Brown corpus files"},
		{[]string{"--task", "english", "--corpus", empty, "--steps", "0"}, "--steps is 0"},
		{[]string{"--task", "reverse", "--corpus", empty}, "only for --task english"},
		{[]string{"--task", "reverse", "--dim", "30", "--heads", "4"}, "do not divide dim 30"},
		{[]string{"--task", "reverse", "--ctx", "5"}, "too short"},
		{[]string{"--task", "reverse", "--dim", "48", "--type", "q8_0"}, "multiples of 32"},
	} {
		out, code := cli(t, append(append([]string{"train"}, c.args...), "-o", filepath.Join(dir, "x.gguf"))...)
		if code == 0 || !strings.Contains(out, c.want) {
			t.Errorf("%v: exit %d, %q (want %q)", c.args, code, out, c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "x.gguf")); err == nil {
		t.Error("a refused run wrote a file")
	}
}

// TestTrainEnglish trains a tiny english model on a plain-text corpus (its last tenth held out)
// and checks the report: held-out loss measured with infer, greedy continuations, head roles.
func TestTrainEnglish(t *testing.T) {
	dir := t.TempDir()
	corpus := filepath.Join(dir, "corpus.txt")
	line := "the cat sat on the mat and the dog sat on the log.\n"
	if err := os.WriteFile(corpus, []byte(strings.Repeat(line, 40)), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "en.gguf")
	out, code := cli(t, "train", "--task", "english", "--corpus", corpus, "--steps", "30", "--dim", "32", "--layers", "1",
		"--heads", "2", "--ctx", "40", "--batch", "8", "--lr", "1e-2", "--eval", "8", "--log-every", "10", "-o", path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	for _, want := range []string{"step    30/30", "windows of the held-out text", "held-out loss", "nats per byte",
		`greedy "The "`, "head role previous-token", "head role induction"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in the output:\n%s", want, out)
		}
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
}
