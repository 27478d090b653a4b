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

// shipped lists what each model's card states: the task, its longest string, the exact-match
// accuracy and the role score its best head keeps (chance is about 0.1 or less).
var shipped = []struct {
	file, task string
	maxLen     int
	minAcc     float64
	role       string
	minRole    float64
	probe      [2]string // a prompt and its answer
}{
	{"reverse.gguf", "reverse", 16, 0.99, "mirror", 0.2, [2]string{"hello=", "olleh"}},
	{"sort.gguf", "sort", 16, 0.99, "", 0, [2]string{"dcab=", "abcd"}},
	{"brackets.gguf", "brackets", 16, 0.99, "bracket-match", 0.3, [2]string{"([{=", "}])"}},
	{"induction.gguf", "induction", 16, 0.8, "induction", 0.8, [2]string{"qwertyuiopqwer", "tyuiop"}},
}

// TestShipped re-measures every shipped model's card on cases it never saw (seeds the
// training runs do not use): exact match of greedy answers, one fixed probe and its head role.
func TestShipped(t *testing.T) {
	for _, m := range shipped {
		t.Run(m.task, func(t *testing.T) {
			l, err := infer.Open(filepath.Join(shippedDir, m.file), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			task, _ := NewTask(m.task, m.maxLen, nil)
			acc, err := FileAccuracy(l, task, rand.New(rand.NewPCG(2026, 11)), 400)
			if err != nil {
				t.Fatal(err)
			}
			if got, err := Complete(l, m.probe[0], 20); err != nil || got != m.probe[1] {
				t.Errorf("%s → %q, %v (want %q)", m.probe[0], got, err, m.probe[1])
			}
			rs, err := RoleScores(l, task, rand.New(rand.NewPCG(2026, 12)), 40)
			if err != nil {
				t.Fatal(err)
			}
			var score float64
			for _, r := range rs {
				if r.Name == m.role {
					score = r.Heads[0].Score
					t.Logf("best %s head L%d.H%d: %.3f", m.role, r.Heads[0].Layer, r.Heads[0].Head, score)
				}
			}
			t.Logf("exact match %.2f%% of 400 fresh cases", 100*acc)
			if acc < m.minAcc {
				t.Errorf("exact match %.3f, below the card's %.3f", acc, m.minAcc)
			}
			if m.role != "" && score < m.minRole {
				t.Errorf("best %s head scores %.3f, below %.3f", m.role, score, m.minRole)
			}
		})
	}
}
