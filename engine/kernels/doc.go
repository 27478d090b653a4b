// Package kernels holds the numerical inner loops of the engine: normalizations, softmax,
// positional rotations, activations and attention rows. Every function writes into a
// caller-provided destination and allocates nothing; lengths that do not match panic with a
// "kernels: ..." message. The functions here are the plain-Go reference versions; faster
// variants must agree with them.
//
// Imports: the standard library and engine/quant.
package kernels
