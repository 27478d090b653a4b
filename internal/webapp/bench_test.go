package webapp

import (
	"context"
	"testing"
)

// BenchmarkRender draws each view of a stories260K run of "Once upon a time" plus 8 tokens.
func BenchmarkRender(b *testing.B) {
	l := load(b, sharedModel(b, "stories260K.gguf"))
	s, res, err := Run(context.Background(), l, "Once upon a time", RunOptions{MaxTokens: 8}, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	for _, view := range Views {
		b.Run(view, func(b *testing.B) {
			v := NewViewer(nil)
			v.Top = res.Top
			v.State = ViewState{View: view, Layer: 1, Head: 2, Token: -1}
			for b.Loop() {
				if _, err := v.Render(s.Trace); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
