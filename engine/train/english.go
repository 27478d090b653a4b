package train

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/attnscope/attnscope/engine/infer"
	"github.com/attnscope/attnscope/engine/roles"
)

// FileLoss measures a written english model as users run it: for n windows of t's text (each
// starting at a line, up to ctx bytes, drawn from r) it prefills the window with engine/infer,
// which puts <|endoftext|> in front, and returns the mean cross-entropy in nats per byte of
// predicting every byte of the window from the ones before it.
func FileLoss(l *infer.Loaded, t *Task, r *rand.Rand, n, ctx int) (float64, error) {
	if t.Name != "english" {
		return 0, fmt.Errorf("train: FileLoss needs task english, not %s", t.Name)
	}
	if ctx < 1 || ctx+1 > l.Model.Config().NCtx {
		return 0, fmt.Errorf("train: windows of %d bytes do not fit the model's context of %d", ctx, l.Model.Config().NCtx)
	}
	var sum float64
	count := 0
	for range n {
		l, c, err := textLoss(l, t.Window(r, ctx))
		if err != nil {
			return 0, err
		}
		sum += l
		count += c
	}
	if count == 0 {
		return 0, fmt.Errorf("train: no windows to measure")
	}
	return sum / float64(count), nil
}

// TextLoss is the mean cross-entropy in nats per byte with which the written english model
// predicts every byte of text (at most its context less one) after <|endoftext|>.
func TextLoss(l *infer.Loaded, text string) (float64, error) {
	if len(text) == 0 || len(text)+1 > l.Model.Config().NCtx {
		return 0, fmt.Errorf("train: %d bytes of text do not fit the model's context of %d", len(text), l.Model.Config().NCtx)
	}
	sum, n, err := textLoss(l, text)
	if err != nil {
		return 0, err
	}
	return sum / float64(n), nil
}

// textLoss returns the summed cross-entropy of text's bytes and their number.
func textLoss(l *infer.Loaded, text string) (float64, int, error) {
	s := l.NewSession(infer.Options{})
	ids, b, err := s.Prefill(text, true)
	if err != nil {
		return 0, 0, err
	}
	want := Encode(text)
	// ids is <|endoftext|> and one token per byte; the logits at position i predict ids[i+1].
	if len(ids) != len(want)+1 {
		return 0, 0, fmt.Errorf("train: the tokenizer made %d tokens of %d bytes (want one per byte and <|endoftext|>)", len(ids), len(text))
	}
	V := len(b.Logits) / len(ids)
	var sum float64
	for i, id := range want {
		if ids[i+1] != id {
			return 0, 0, fmt.Errorf("train: the tokenizer's token %d is %d, the trainer's %d", i+1, ids[i+1], id)
		}
		sum += crossEntropy(b.Logits[i*V:(i+1)*V], id)
	}
	return sum, len(want), nil
}

// crossEntropy is −log softmax(logits)[target].
func crossEntropy(logits []float32, target int32) float64 {
	m := math.Inf(-1)
	for _, v := range logits {
		m = max(m, float64(v))
	}
	var z float64
	for _, v := range logits {
		z += math.Exp(float64(v) - m)
	}
	return m + math.Log(z) - float64(logits[target])
}

// EnglishRoleScores traces n windows of t's text (drawn from r, each length bytes) on the
// written model and scores every head: previous-token and first-token on the window as it is,
// induction on the window's first half written twice (a repeat a head can copy from).
func EnglishRoleScores(l *infer.Loaded, t *Task, r *rand.Rand, n, length int) ([]Role, error) {
	if t.Name != "english" {
		return nil, fmt.Errorf("train: EnglishRoleScores needs task english, not %s", t.Name)
	}
	if length < 4 || 2*(length/2) >= l.Model.Config().NCtx {
		return nil, fmt.Errorf("train: windows of %d bytes do not fit the model's context of %d", length, l.Model.Config().NCtx)
	}
	names := []string{"previous-token", "first-token", "induction"}
	per := make([][][]roles.Head, len(names))
	for range n {
		w := t.Window(r, length)
		half := w[:len(w)/2]
		for k, text := range []string{w, half + half} {
			s := l.NewSession(infer.Options{Capture: true})
			if _, _, err := s.Prefill(text, false); err != nil {
				return nil, err
			}
			if k == 0 {
				per[0] = append(per[0], roles.Rank(s.Trace, roles.PreviousToken))
				per[1] = append(per[1], roles.Rank(s.Trace, roles.FirstToken))
				continue
			}
			// <|endoftext|> at 0, the half at 1…, its repeat after it.
			per[2] = append(per[2], roles.Rank(s.Trace, func(rows roles.Rows) float64 { return roles.Induction(rows, 1, len(half)) }))
		}
	}
	out := make([]Role, len(names))
	for i, name := range names {
		out[i] = Role{name, roles.Average(per[i])}
	}
	return out, nil
}
