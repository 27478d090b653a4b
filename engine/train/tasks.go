package train

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
)

// Task makes training sequences. The algorithmic tasks write a prompt and its answer as
//
//	<|endoftext|> prompt answer <|endoftext|>
//
// and score only the answer and the closing <|endoftext|>; english writes <|endoftext|> and a
// window of its corpus that starts at the beginning of a line, and scores every byte.
type Task struct {
	Name   string
	MaxLen int    // longest string of an algorithmic task
	corpus []byte // english: the training text
	starts []int  // english: offsets of the corpus's lines
	held   []byte // english: the held-out text (nil: none)
}

// Tasks are the task names, in the order help lists them.
var Tasks = []string{"reverse", "sort", "induction", "brackets", "english"}

// Errors of NewTask.
var (
	ErrUnknownTask = errors.New("train: unknown task")
	ErrCorpus      = errors.New("train: unusable corpus")
)

// NewTask returns the named task; english needs a corpus (text, at least 2 bytes), the others
// a maximum length of at least 1.
func NewTask(name string, maxLen int, corpus []byte) (*Task, error) {
	if !slices.Contains(Tasks, name) {
		return nil, fmt.Errorf("%w %q (tasks: %s)", ErrUnknownTask, name, strings.Join(Tasks, ", "))
	}
	t := &Task{Name: name, MaxLen: maxLen}
	if name == "english" {
		if len(corpus) < 2 {
			return nil, fmt.Errorf("%w: the corpus holds %d bytes", ErrCorpus, len(corpus))
		}
		if len(corpus) > MaxCorpusBytes {
			return nil, fmt.Errorf("%w: the corpus holds %d bytes, over %d", ErrCorpus, len(corpus), MaxCorpusBytes)
		}
		t.corpus = corpus
		t.starts = lineStarts(corpus)
		return t, nil
	}
	if maxLen < 1 {
		return nil, fmt.Errorf("train: task %s: maximum length %d must be at least 1", name, maxLen)
	}
	return t, nil
}

// NewEnglish returns the english task on trainText with heldText held out (see HeldOut).
func NewEnglish(trainText, heldText []byte) (*Task, error) {
	t, err := NewTask("english", 0, trainText)
	if err != nil {
		return nil, err
	}
	if len(heldText) < 2 || len(heldText) > MaxCorpusBytes {
		return nil, fmt.Errorf("%w: the held-out text holds %d bytes", ErrCorpus, len(heldText))
	}
	t.held = heldText
	return t, nil
}

// HeldOut returns the english task on the held-out text, or nil when there is none.
func (t *Task) HeldOut() *Task {
	if t.held == nil {
		return nil
	}
	h, _ := NewTask("english", 0, t.held)
	return h
}

// lineStarts lists the offsets that begin a line holding at least one byte.
func lineStarts(text []byte) []int {
	var s []int
	for i := range text {
		if (i == 0 || text[i-1] == '\n') && text[i] != '\n' {
			s = append(s, i)
		}
	}
	if len(s) == 0 {
		s = []int{0}
	}
	return s
}

// Window returns the english sample that starts at the beginning of a random line: up to ctx
// bytes of the corpus.
func (t *Task) Window(r *rand.Rand, ctx int) string {
	off := t.starts[r.IntN(len(t.starts))]
	return string(t.corpus[off:min(off+ctx, len(t.corpus))])
}

// MinCtx is the context a model needs for the task's longest sequences (without the final token).
func (t *Task) MinCtx() int {
	switch t.Name {
	case "english":
		return 2
	case "induction":
		return 2*t.MaxLen + 1
	}
	return 2*t.MaxLen + 2 // <|endoftext|>, the string, "=", the answer
}

const letters = "abcdefghijklmnopqrstuvwxyz"

func randString(r *rand.Rand, alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

// Example draws one prompt and its answer (algorithmic tasks), lengths uniform in 1…MaxLen
// (induction: 2…MaxLen, the prompt being the string and its first character).
func (t *Task) Example(r *rand.Rand) (prompt, answer string) {
	n := 1 + r.IntN(t.MaxLen)
	switch t.Name {
	case "reverse":
		s := randString(r, letters, n)
		b := []byte(s)
		slices.Reverse(b)
		return s + "=", string(b)
	case "sort":
		s := randString(r, letters, n)
		b := []byte(s)
		slices.Sort(b)
		return s + "=", string(b)
	case "brackets":
		s := randString(r, "([{", n)
		b := make([]byte, n)
		for i := range s {
			b[n-1-i] = map[byte]byte{'(': ')', '[': ']', '{': '}'}[s[i]]
		}
		return s + "=", string(b)
	case "induction":
		n = max(n, 2)
		s := randString(r, letters, n)
		return s + s[:1], s[1:]
	}
	panic("train: Example on task " + t.Name)
}

// Sample draws one training sequence of at most ctx+1 tokens.
func (t *Task) Sample(r *rand.Rand, ctx int) Sample {
	if t.Name == "english" {
		toks := append([]int32{EOT}, Encode(t.Window(r, ctx))...)
		s := Sample{Tokens: toks, Target: make([]bool, len(toks)-1)}
		for i := range s.Target {
			s.Target[i] = true
		}
		return s
	}
	prompt, answer := t.Example(r)
	toks := append([]int32{EOT}, Encode(prompt+answer)...)
	toks = append(toks, EOT)
	s := Sample{Tokens: toks, Target: make([]bool, len(toks)-1)}
	for i := len(prompt); i < len(s.Target); i++ {
		s.Target[i] = true
	}
	return s
}

// Batch draws n samples.
func (t *Task) Batch(r *rand.Rand, n, ctx int) []Sample {
	b := make([]Sample, n)
	for i := range b {
		b[i] = t.Sample(r, ctx)
	}
	return b
}

// Accuracy is the fraction of n fresh examples (drawn from r) whose greedy answer, up to
// <|endoftext|>, equals the expected answer exactly.
func Accuracy[T Float](p *Params[T], t *Task, r *rand.Rand, n int) (float64, error) {
	if t.Name == "english" {
		return 0, fmt.Errorf("train: task english has no exact answers")
	}
	right := 0
	for range n {
		prompt, answer := t.Example(r)
		in := append([]int32{EOT}, Encode(prompt)...)
		out, err := p.Greedy(in, EOT, len(answer)+1)
		if err != nil {
			return 0, err
		}
		if Decode(out) == answer {
			right++
		}
	}
	return float64(right) / float64(n), nil
}
