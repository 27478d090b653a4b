package kernels

// Plain-Go versions of the SIMD kernels, for differential tests and side-by-side benchmarks.
var (
	DotLanesPlain   = dotLanesPlain
	DotBlockedPlain = dotBlockedPlain
	F16Scale        = f16Scale
	SoftmaxExp      = softmaxExp // ExpApprox, expUnfused on WebAssembly
)

var (
	detectedLevel = simdLevel
	detectedQuant = quantSIMD
)

// UseSIMD switches the kernels between their SIMD versions (on, where the CPU has them) and
// their plain versions, returning a function that restores the previous choice. Tests that
// call it must not run in parallel.
func UseSIMD(on bool) (restore func()) {
	prevLevel, prevQuant := simdLevel, quantSIMD
	prevFloat := setWasmFloat(on)
	if on {
		simdLevel, quantSIMD = detectedLevel, detectedQuant
	} else {
		simdLevel, quantSIMD = simdNone, false
	}
	return func() { simdLevel, quantSIMD = prevLevel, prevQuant; setWasmFloat(prevFloat) }
}
