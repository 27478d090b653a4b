// Package gguf reads and writes GGUF files (versions 2 and 3 read, version 3 written), the
// model format of llama.cpp and ggml.
//
// Files are untrusted: Read checks every count, length, offset and size against the file's
// real length before allocating or using it, and reports problems as errors that name the
// metadata key or tensor and the cause, wrapping ErrNotGGUF, ErrVersion, ErrTruncated,
// ErrCorrupt or ErrUnknownType. Read parses the header only; tensor data is fetched with
// ReadTensor/TensorData from the same io.ReaderAt.
//
// Builder writes GGUF v3 in ggml's layout, checking what it is given against the same rules
// Read applies (errors wrap ErrInvalid). FromFile and File.WriteTo copy a parsed file; a file
// written by ggml or gguf-py comes out byte for byte as it went in. Summary describes a file
// for display.
//
// Imports: the standard library and engine/quant (for the ggml type table).
package gguf
