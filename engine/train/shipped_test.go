package train

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/attnscope/attnscope/engine/infer"
)

// shippedDir holds the models this repository ships (rebuilt by make models).
const shippedDir = "../../models"

// TestShippedChecksums checks every shipped model against models/SHA256SUMS and the size budget.
func TestShippedChecksums(t *testing.T) {
	f, err := os.Open(filepath.Join(shippedDir, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	listed := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok {
			t.Fatalf("SHA256SUMS: bad line %q", sc.Text())
		}
		listed[name] = true
		g, err := os.Open(filepath.Join(shippedDir, name))
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		io.Copy(h, g)
		g.Close()
		if got := hex.EncodeToString(h.Sum(nil)); got != sum {
			t.Errorf("%s: sha256 %s, SHA256SUMS says %s", name, got, sum)
		}
	}
	files, _ := filepath.Glob(filepath.Join(shippedDir, "*.gguf"))
	var total int64
	for _, p := range files {
		fi, _ := os.Stat(p)
		total += fi.Size()
		if !listed[filepath.Base(p)] {
			t.Errorf("%s is not in SHA256SUMS", p)
		}
	}
	if total > 8<<20 {
		t.Errorf("shipped models take %d bytes, over the 8 MiB budget", total)
	}
}

// TestShippedReverse re-measures the reverse model's card on cases it never saw (a seed the
// training run does not use): exact match of greedy answers and its mirror head.
func TestShippedReverse(t *testing.T) {
	l, err := infer.Open(filepath.Join(shippedDir, "reverse.gguf"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	task, _ := NewTask("reverse", reverseMaxLen, nil)
	acc, err := FileAccuracy(l, task, rand.New(rand.NewPCG(2026, 11)), 400)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := Complete(l, "hello=", 10); err != nil || got != "olleh" {
		t.Errorf("hello= → %q, %v", got, err)
	}
	rs, err := RoleScores(l, task, rand.New(rand.NewPCG(2026, 12)), 40)
	if err != nil {
		t.Fatal(err)
	}
	var mirror float64
	for _, r := range rs {
		if r.Name == "mirror" {
			mirror = r.Heads[0].Score
			t.Logf("best mirror head L%d.H%d: %.3f", r.Heads[0].Layer, r.Heads[0].Head, mirror)
		}
	}
	t.Logf("exact match %.2f%% of 400 fresh cases", 100*acc)
	if acc < reverseMinAcc {
		t.Errorf("exact match %.3f, below the card's %.3f", acc, reverseMinAcc)
	}
	if mirror < reverseMinMirror {
		t.Errorf("best mirror head scores %.3f, below %.3f", mirror, reverseMinMirror)
	}
}

// What models/reverse.md states: strings of 1…10 letters, exact match ≥ 99%, and a head whose
// mirror score (measured 0.49 there) stays clearly above the chance level of about 0.1.
const (
	reverseMaxLen    = 10
	reverseMinAcc    = 0.99
	reverseMinMirror = 0.3
)
