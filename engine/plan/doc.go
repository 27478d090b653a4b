// Package plan is the memory planner: given a model's shape and weight bytes, a sequence length,
// a GPU, a KV-cache type and an attention implementation, it says how many bytes the weights,
// the KV cache and the working buffers need and how many sequences fit side by side, with every
// number traced back to a formula.
//
// Plan is a pure function of its Input; FromGGUF and FromPreset build the model part of an
// Input from a model file's header (exact tensor bytes) or from a named preset shape.
//
// The memory model (all sizes in bytes, int64, every product and sum checked for overflow):
//
//	gpu_bytes      = floor((gpu_total − reserve) × 95 / 100)   reserve = 1.5 GiB; or --gpu-mem as given
//	weights_bytes  = Σ tensor bytes (file) | matrices × type bytes + vectors × 4 (preset)
//	kv_bytes_per_token    = 2 × n_layer × n_kv_head × head_bytes(kv type)
//	kv_bytes_per_sequence = kv_bytes_per_token × seq
//	workspace_bytes_per_sequence = activations of one layer + attention workspace of one layer
//	max_batch      = floor((gpu_bytes − weights_bytes) / (kv_bytes_per_sequence + workspace_bytes_per_sequence))
//
// See Plan for the terms of the workspace.
//
// Imports: the standard library, engine/gguf, engine/model, engine/presets, engine/quant.
package plan
