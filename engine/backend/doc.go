// Package backend defines the interface through which model code runs its weight products, so
// that the same model runs on the CPU or on an accelerator chosen at run time. Tensors live where
// the backend puts them; model code holds only the Weight handles.
//
// Imports: the standard library and engine/quant.
package backend
