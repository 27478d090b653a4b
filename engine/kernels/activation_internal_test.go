package kernels

import (
	"math"
	"testing"
)

// ExpApprox's short way is its reference expApprox bit for bit: over every 613th float32 in
// [-110, 110] and at the edges of the range it scales exactly.
func TestExpApproxShortWay(t *testing.T) {
	check := func(x float32) {
		got, want := ExpApprox(x), expApprox(x)
		if math.Float32bits(got) != math.Float32bits(want) && !(got != got && want != want) {
			t.Fatalf("ExpApprox(%g) = %g (%#08x), expApprox %g (%#08x)", x, got, math.Float32bits(got), want, math.Float32bits(want))
		}
	}
	for b := uint32(0); b <= math.Float32bits(110); b += 613 {
		check(math.Float32frombits(b))
		check(-math.Float32frombits(b))
	}
	for _, edge := range []float32{-125 * math.Ln2, 127 * math.Ln2, -125.5 * math.Ln2, 127.5 * math.Ln2} {
		x := edge
		for i := 0; i < 1000; i++ {
			check(x)
			check(math.Float32frombits(math.Float32bits(edge) - uint32(i)))
			x = math.Nextafter32(x, float32(math.Inf(1)))
		}
	}
	for _, x := range []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), math.MaxFloat32, -math.MaxFloat32} {
		check(x)
	}
}
