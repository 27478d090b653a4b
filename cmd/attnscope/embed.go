package main

import (
	"fmt"
	"io"

	"github.com/attnscope/attnscope/engine/infer"
)

func cmdEmbed(args []string, stdout io.Writer) error {
	fs := newFlags("embed")
	var mf modelFlags
	mf.register(fs, true)
	l, err := mf.parseOpen(fs, args, true)
	if err != nil {
		return err
	}
	defer l.Close()
	cfg := l.Model.Config()
	if cfg.Causal {
		return fmt.Errorf("%s is a causal %s model, not an encoder: use run or trace", mf.model, cfg.Arch)
	}
	s := l.NewSession(infer.Options{Context: mf.ctx, KVType: mf.kv})
	ids, hidden, pooled, err := s.Embed(mf.prompt)
	if err != nil {
		return err
	}
	E := cfg.NEmbd
	hs := make([][]f32, len(ids))
	for i := range ids {
		hs[i] = f32s(hidden[i*E : (i+1)*E])
	}
	if mf.json {
		return writeJSON(stdout, struct {
			Tokens  []int32 `json:"tokens"`
			Hidden  [][]f32 `json:"hidden_states"`
			Pooled  []f32   `json:"pooled"`
			Pooling string  `json:"pooling"`
		}{ids, hs, f32s(pooled), cfg.Pooling.String()})
	}
	fmt.Fprintf(stdout, "%d tokens, width %d, pooling %s\n", len(ids), E, cfg.Pooling)
	if pooled != nil {
		fmt.Fprintf(stdout, "pooled: %v\n", pooled)
	}
	return nil
}
