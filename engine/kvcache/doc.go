// Package kvcache stores the keys and values of every evaluated position, per layer, and reports
// how much memory it uses as it grows. Storage grows in chunks as tokens arrive, up to the
// capacity fixed at creation (the context length), so the bytes it reports are really held.
//
// Imports: the standard library only.
package kvcache
