// Package backendtest is the conformance suite that every Backend passes: Run checks weight
// products and row lookups for every type in quant.Supported() against plain-Go references
// built from quant.Dequantize, and checks that bad input is refused (errors for bad weight
// data, panics for bad lengths). A backend's own tests call Run with a constructor.
//
// Imports: the standard library (testing among it), engine/backend and engine/quant.
package backendtest
