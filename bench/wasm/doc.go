// Command wasm measures the engine's speed as `attnscope bench` does — a prompt of N tokens in one
// batch on an empty cache, then M tokens generated greedily one at a time, median tokens/s of
// several runs after a warm-up — in a program that also builds for GOOS=js GOARCH=wasm, so that
// the same numbers come from Node and from a browser page.
//
// From a command line (natively, or in Node through the toolchain's wasm_exec_node.js) it reads
// the model from disk and prints one JSON object:
//
//	node wasm_exec_node.js bench.wasm --model s15m-q8_0.gguf --prompt-tokens 128 --gen-tokens 64
//
// In a page (bench/web serves one) it takes its settings and the model's bytes from
// globalThis.attnscopeBench = {model: Uint8Array, name, promptTokens, genTokens, runs, noWarmup} and
// leaves the JSON text in globalThis.attnscopeBench.result (or the message in .error).
//
// It imports the engine (infer, the CPU backend, kernels); syscall/js only in its _js.go file.
package main
