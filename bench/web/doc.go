// Command web measures the engine compiled to WebAssembly — in Node and in a headless Chromium
// page — and, beside it, llama.cpp compiled to WebAssembly (the @wllama/wllama package) in the
// same browser, on the same GGUF files: prompt processing of N tokens in one batch and greedy
// generation of M tokens, single-threaded, tokens/s as medians of several runs.
//
//	web --wasm simd=simd.wasm --wasm plain=plain.wasm --node --chromium [--wllama DIR] MODEL.gguf...
//
// Each --wasm is one build of bench/wasm (for example with and without GOEXPERIMENT=simd). The
// program serves the builds, the toolchain's wasm_exec.js, the model files and the wllama package
// from 127.0.0.1 with cross-origin isolation headers (wllama's threads need SharedArrayBuffer),
// drives Chromium through the DevTools protocol (chromedp), runs Node as a child process, and
// prints one table row per model, runtime and engine, then the ratios between them.
package main
