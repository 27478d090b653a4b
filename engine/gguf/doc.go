// Package gguf reads and writes GGUF files (versions 2 and 3 read, version 3 written), the
// model format of llama.cpp and ggml.
//
// Files are untrusted: Read checks every count, length, offset and size against the file's
// real length before allocating or using it, and reports problems as errors wrapping ErrNotGGUF,
// ErrVersion, ErrTruncated, ErrCorrupt or ErrUnknownType. Tensor data is not loaded by Read; it is
// fetched with ReadTensor/TensorData from the same io.ReaderAt.
//
// Imports: the standard library and engine/quant (for the ggml type table).
package gguf
