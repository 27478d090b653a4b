package train

import (
	"math/rand/v2"

	"github.com/attnscope/attnscope/engine/infer"
	"github.com/attnscope/attnscope/engine/roles"
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

// Role is one head-role measurement: the role's name and every head's mean score, best first.
type Role struct {
	Name  string
	Heads []roles.Head
}

// RoleScores traces n fresh examples of t (prompt and expected answer, with <|endoftext|> in
// front, as one prefill) on the written model and scores every head for the roles that apply:
// previous-token and first-token always, mirror for reverse, bracket-match for brackets and
// induction for induction (a random string followed by its repeat).
func RoleScores(l *infer.Loaded, t *Task, r *rand.Rand, n int) ([]Role, error) {
	names := []string{"previous-token", "first-token"}
	switch t.Name {
	case "reverse":
		names = append(names, "mirror")
	case "brackets":
		names = append(names, "bracket-match")
	case "induction":
		names = append(names, "induction")
	}
	per := make([][][]roles.Head, len(names))
	for range n {
		prompt, answer := t.Example(r)
		s := l.NewSession(infer.Options{Capture: true})
		ids, _, err := s.Prefill(prompt+answer, false)
		if err != nil {
			return nil, err
		}
		texts := make([]string, len(ids))
		for i, id := range ids {
			texts[i] = string(l.Tok.Piece(id))
		}
		strLen := len(prompt) - 1 // reverse, sort, brackets: the string before "="
		for i, name := range names {
			var f func(roles.Rows) float64
			switch name {
			case "previous-token":
				f = roles.PreviousToken
			case "first-token":
				f = roles.FirstToken
			case "mirror":
				f = func(rows roles.Rows) float64 { return roles.Mirror(rows, strLen) }
			case "bracket-match":
				f = func(rows roles.Rows) float64 { return roles.BracketMatch(rows, texts) }
			case "induction":
				f = func(rows roles.Rows) float64 { return roles.Induction(rows, 1, len(prompt)-1) }
			}
			per[i] = append(per[i], roles.Rank(s.Trace, f))
		}
	}
	out := make([]Role, len(names))
	for i, name := range names {
		out[i] = Role{name, roles.Average(per[i])}
	}
	return out, nil
}
