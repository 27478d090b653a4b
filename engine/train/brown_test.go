package train

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A tagged file in the Brown corpus's form C, made up for the test.
const taggedSample = "\n\n\tThe/at cat/nn said/vbd ``/`` hello/uh ''/'' (/( twice/rb )/) ,/, and/cc left/vbd ./.\n\n\n" +
	"\tIs/bez it/pps 3/4/cd done/vbn ?/.\n\n\tWell/rb --/-- maybe/rb ;/. no/rb !/.\n"

func TestBrownText(t *testing.T) {
	got := string(BrownText([]byte(taggedSample)))
	want := "The cat said \"hello\" (twice), and left.\nIs it 3/4 done?\nWell -- maybe; no!\n"
	if got != want {
		t.Errorf("BrownText:\n got %q\nwant %q", got, want)
	}
	if got := BrownText([]byte("\n\t\n  \n")); len(got) != 0 {
		t.Errorf("blank lines gave %q", got)
	}
}

func TestBrownHeldOut(t *testing.T) {
	for name, want := range map[string]bool{"ca10": true, "cr00": true, "cb20": true, "ca01": false, "cr09": false,
		"cs10": false, "ca1": false, "README": false, "ca10x": false} {
		if got := BrownHeldOut(name); got != want {
			t.Errorf("BrownHeldOut(%q) = %v", name, got)
		}
	}
}

func TestReadBrown(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := ReadBrown(dir); !errors.Is(err, ErrCorpus) {
		t.Errorf("an empty folder: %v", err)
	}
	if _, _, err := ReadBrown(filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing folder gave no error")
	}
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("ca01", "\tOne/cd ./.\n")
	if _, _, err := ReadBrown(dir); !errors.Is(err, ErrCorpus) {
		t.Errorf("no held-out document: %v", err)
	}
	write("cb02", "\tTwo/cd ./.\n")
	write("ca10", "\tTen/cd ./.\n")
	write("README", "not a corpus file")
	tr, held, err := ReadBrown(dir)
	if err != nil {
		t.Fatal(err)
	}
	if string(tr) != "One.\nTwo.\n" || string(held) != "Ten.\n" {
		t.Errorf("training %q, held out %q", tr, held)
	}
}

func TestSplitText(t *testing.T) {
	text := []byte(strings.Repeat("a line of text\n", 30))
	tr, held, err := SplitText(text)
	if err != nil {
		t.Fatal(err)
	}
	if string(tr)+string(held) != string(text) || len(held) < len(text)/10 || len(held) > len(text)/5 || held[0] != 'a' {
		t.Errorf("split %d + %d bytes, held out %q", len(tr), len(held), held)
	}
	if _, _, err := SplitText([]byte("ab")); !errors.Is(err, ErrCorpus) {
		t.Errorf("a 2-byte corpus: %v", err)
	}
}

// TestEnglishSamples checks the english task's sequences: <|endoftext|>, then a window that
// starts a line of the training text, every position scored; the held-out task draws from
// the held-out text only.
func TestEnglishSamples(t *testing.T) {
	trainText := "first line here\nsecond line\n\nthird and last line\n"
	task, err := NewEnglish([]byte(trainText), []byte("held out words\n"))
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 50 {
		s := task.Sample(r, 8)
		if len(s.Tokens) != 9 || s.Tokens[0] != EOT || len(s.Target) != 8 {
			t.Fatalf("sample %v (targets %v)", s.Tokens, s.Target)
		}
		for _, b := range s.Target {
			if !b {
				t.Fatalf("an unscored position in %v", s.Target)
			}
		}
		w := Decode(s.Tokens[1:])
		if !strings.HasPrefix(trainText, w) && !strings.Contains(trainText, "\n"+w) {
			t.Fatalf("window %q does not start a line of the training text", w)
		}
	}
	h := task.HeldOut()
	for range 20 {
		if w := h.Window(r, 100); w != "held out words\n" {
			t.Fatalf("held-out window %q", w)
		}
	}
	if _, err := NewEnglish([]byte(trainText), nil); !errors.Is(err, ErrCorpus) {
		t.Errorf("no held-out text: %v", err)
	}
	if plain, _ := NewTask("english", 0, []byte(trainText)); plain.HeldOut() != nil {
		t.Error("a task without held-out text has a held-out task")
	}
}
