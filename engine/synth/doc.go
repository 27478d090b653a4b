// Package synth writes synthetic GGUF models: a chosen llama or gpt2 shape with seeded random
// weights and a complete tokenizer section, laid out as llama.cpp writes such files, so that
// benchmarks can run any size of model without downloading one and llama.cpp loads the same file.
//
// # Weights
//
// Matrices are drawn from N(0, 0.02); norm weights are 1 and biases 0, stored as F32. Matrices
// are stored in Options.Type (F32, F16, Q8_0 or Q4_0), except gpt2's position_embd, which stays
// F32 under the quantized types because llama.cpp's quantizer never quantizes positional
// embeddings.
//
// The draws are fully specified, so the same Options give a byte-identical file on any machine:
// row r of the tensor called name comes from math/rand/v2's PCG seeded with
// (Seed, splitmix64(FNV-1a-64(name) + r)), elements left to right. Each element takes three
// Uint64 draws; their twelve 16-bit fields (draws in order, low bits first) are summed to S, and
// the element is float32(0.02 · (2S − 12·65535) / 2¹⁷): the Irwin–Hall approximation of a
// normal draw (twelve uniforms, mean 0, standard deviation 0.02 to within 1e-10, bounded at ±6σ).
// Only integer arithmetic and one multiplication by a constant are involved, so no platform's
// math library or fused multiply-add can change a bit; rand.Rand's NormFloat64 is not specified
// to that degree. Rows are independent streams, which lets rows be generated in parallel without
// changing the output.
//
// # Vocabulary
//
// "llama" files get a SentencePiece-style vocabulary (tokenizer.ggml.model "llama"): <unk>, <s>,
// </s>, the 256 byte tokens <0x00>…<0xFF>, the single characters "▁" and printable ASCII, then
// merged pieces. "gpt2" files get a byte-level BPE vocabulary (model "gpt2", pre "gpt-2"): the
// 256 byte symbols of GPT-2's byte-to-unicode mapping in GPT-2's order, one token per merge (token
// 256+i is the result of merge i) and <|endoftext|> last. Both use the same deterministic list
// of merges (see mergeList): common English words with a leading space, capitalized and bare,
// then letter strings of growing length, each joined into one token by merging the parts that the
// earlier merges leave, so ordinary English text mostly tokenizes into whole words. llama pieces
// score 0, −1, −2, … in order (special and byte tokens 0), with BOS 1, EOS 2, UNK 0 and
// add_bos_token set; gpt2 uses <|endoftext|> as BOS and EOS.
//
// # Metadata
//
// The keys and their GGUF types are those llama.cpp's converters write: general.architecture,
// general.name, general.file_type (llama_ftype: 0, 1, 7, 2 for F32, F16, Q8_0, Q4_0),
// <arch>.context_length, embedding_length, block_count, feed_forward_length, attention.head_count
// (uint32 each), llama's rope.dimension_count and attention.head_count_kv,
// attention.layer_norm_rms_epsilon (llama) or attention.layer_norm_epsilon (gpt2) as float32 1e-5,
// the tokenizer.ggml.* keys, and general.quantization_version 2 in quantized files. The alignment
// is the default 32.
//
// # Limits
//
// Options.Validate refuses shapes llama.cpp or this engine cannot load (heads not dividing the
// width, KV heads not dividing the heads, quantized rows that are not a multiple of 32, sizes
// out of range) and, before anything is written, any file larger than Options.MaxBytes
// (DefaultMaxBytes, 64 GiB, when zero). Generation itself holds only the vocabulary and a few
// MiB of rows in memory, whatever the model's size.
//
// Imports: the standard library, engine/gguf (the writer), engine/quant (encodings) and
// engine/presets (named shapes).
package synth
