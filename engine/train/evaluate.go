package train

import (
	"math/rand/v2"

	"github.com/attnscope/attnscope/engine/infer"
)

// FileAccuracy measures a written model as users run it: for n fresh examples of t (drawn from
// r) it prefills the prompt with engine/infer (which adds <|endoftext|> in front), decodes
// greedily up to <|endoftext|> or a newline, and counts exact matches of the answer.
func FileAccuracy(l *infer.Loaded, t *Task, r *rand.Rand, n int) (float64, error) {
	right := 0
	for range n {
		prompt, answer := t.Example(r)
		got, err := Complete(l, prompt, len(answer)+1)
		if err != nil {
			return 0, err
		}
		if got == answer {
			right++
		}
	}
	return float64(right) / float64(n), nil
}

// Complete returns the greedy continuation of prompt, at most max tokens, ending before
// <|endoftext|> or a newline.
func Complete(l *infer.Loaded, prompt string, max int) (string, error) {
	s := l.NewSession(infer.Options{})
	_, b, err := s.Prefill(prompt, false)
	if err != nil {
		return "", err
	}
	logits := b.Logits
	eos := l.Tok.Vocab().EOS
	var out []byte
	for len(out) < max {
		id := infer.Argmax(logits)
		if id == eos {
			break
		}
		piece := l.Tok.Piece(id)
		if len(piece) == 1 && piece[0] == '\n' {
			break
		}
		out = append(out, piece...)
		if s.Cache.Len() >= l.Model.Config().NCtx {
			break
		}
		if logits, err = s.Step(id); err != nil {
			return "", err
		}
	}
	return string(out), nil
}
