// Package train trains small Transformers of the two decoder architectures the inference engine
// runs and writes them as GGUF files that engine/infer (and llama.cpp) load unchanged:
//
//	gpt2:  learned positions, pre-LayerNorm blocks, fused QKV with bias, GELU feed-forward
//	llama: RoPE on adjacent pairs, RMSNorm, SwiGLU feed-forward, no biases
//
// Both have causal multi-head attention (as many KV heads as query heads), a final norm, an
// untied LM head and a cross-entropy loss over the positions a task marks.
//
// The forward pass computes what engine/model computes: in float32 it calls the same kernels
// for the products (MatVecLanes), norms, attention rows (AttentionRow with a cache's summation
// orders) and GELU (its half-precision table), with the same epsilons and RoPE angles, and a
// test compares its logits with engine/infer's on the written file (gpt2: identical bits;
// llama: within 1e-6). The code is generic over float32 (training) and float64 (gradient checks against finite
// differences); in float64 GELU is the exact tanh formula and the backward pass is its
// derivative.
//
// Training uses AdamW with linear warm-up and cosine decay, clipping by global gradient norm,
// seeded initialisation and data, and one goroutine per shard of a batch. With the same seed
// and the same number of shards the run is deterministic.
//
// Imports: the standard library, engine/gguf (the writer), engine/quant (Q8_0) and
// engine/kernels (GELU's table); evaluate.go measures written models through engine/infer and
// engine/roles.
package train
