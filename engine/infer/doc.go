// Package infer runs a model over text: a Session tokenizes a prompt, evaluates it in one batch
// (prefill), then decodes token by token through the KV cache with a chosen sampler, recording a
// trace of attention, positions and KV-cache growth as it goes.
//
// Imports: engine/model, engine/tokenizer, engine/kvcache, engine/trace.
package infer
