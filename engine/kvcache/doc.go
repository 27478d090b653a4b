// Package kvcache stores the keys and values of every evaluated position, per layer, and reports
// how much memory it uses as it grows. Storage grows in chunks as tokens arrive, up to the
// capacity fixed at creation (the context length), so the bytes it reports are really held. A
// caller that knows how many positions a run needs reserves them up front (Cache.Reserve): the
// storage is then allocated once at that size instead of doubling past it.
//
// Values are stored as float32 (what was computed) or as binary16 (Type F16: half the memory
// and half the bytes attention reads, as llama.cpp's default cache).
//
// Imports: engine/quant (binary16 conversions) and the standard library.
package kvcache
