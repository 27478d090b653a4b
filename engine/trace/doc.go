// Package trace holds the plain data that the engine hands to viewers: the tokens, per layer and
// head the attention probabilities of every evaluated query, the model's positional scheme and
// the growth of the KV cache. Nothing here computes; viewers read these values and nothing else.
//
// Imports: the standard library only.
package trace
