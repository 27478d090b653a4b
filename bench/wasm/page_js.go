package main

import (
	"encoding/json"
	"fmt"
	"syscall/js"

	"github.com/attnscope/attnscope/engine/backend/cpu"
)

// inPage says whether a page set globalThis.attnscopeBench (Node runs the command line).
func inPage() bool { return js.Global().Get("attnscopeBench").Type() == js.TypeObject }

// runPage reads {model: Uint8Array, name, promptTokens, genTokens, runs, noWarmup, compute (auto,
// f32 or ggml; default auto)} from
// globalThis.attnscopeBench, measures, and sets its result (JSON text) or error (a message).
func runPage() {
	cfg := js.Global().Get("attnscopeBench")
	res, err := pageBench(cfg)
	if err != nil {
		cfg.Set("error", err.Error())
		return
	}
	res.Platform = platform()
	text, _ := json.Marshal(res)
	cfg.Set("result", string(text))
}

func pageBench(cfg js.Value) (result, error) {
	model := cfg.Get("model")
	if model.Type() != js.TypeObject || !model.InstanceOf(js.Global().Get("Uint8Array")) {
		return result{}, fmt.Errorf("attnscopeBench.model must be a Uint8Array of the GGUF file")
	}
	num := func(key string, def int) int {
		if v := cfg.Get(key); v.Type() == js.TypeNumber {
			return v.Int()
		}
		return def
	}
	s := settings{promptTokens: num("promptTokens", 128), genTokens: num("genTokens", 64), runs: num("runs", 5), compute: cpu.ComputeAuto}
	s.noWarmup = cfg.Get("noWarmup").Truthy()
	if v := cfg.Get("compute"); v.Type() == js.TypeString {
		c, err := cpu.ParseCompute(v.String())
		if err != nil {
			return result{}, err
		}
		s.compute = c
	}
	name := "model.gguf"
	if v := cfg.Get("name"); v.Type() == js.TypeString {
		name = v.String()
	}
	data := make([]byte, model.Length())
	js.CopyBytesToGo(data, model)
	cfg.Set("model", js.Undefined()) // the page's copy can go
	return benchBytes(data, name, s)
}
