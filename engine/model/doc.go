// Package model turns a GGUF file into a runnable model: it reads the architecture's
// hyperparameters into a Config, loads the weights through a backend, and evaluates batches of
// tokens against a KV cache, handing attention probabilities to an optional sink. Each
// architecture lives in a sub-package (llama, gpt2, bert) that registers itself here; models never
// see the file parser beyond their loader.
//
// Imports: engine/gguf, engine/quant, engine/backend, engine/kernels, engine/kvcache.
package model
