package quant_test

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/attnscope/attnscope/engine/quant"
)

// FuzzDequantize decodes arbitrary bytes as every supported type (as many whole blocks as the
// input holds) and takes a dot product with them: neither may panic, and DotRow must equal the
// plain loop over the decoded values.
func FuzzDequantize(f *testing.F) {
	f.Add([]byte{})
	f.Add(make([]byte, 292))
	f.Add([]byte{0x00, 0x3c, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20})
	ff := make([]byte, 600)
	for i := range ff {
		ff[i] = 0xff // NaN scales everywhere
	}
	f.Add(ff)
	seed := make([]byte, 440)
	for i := range seed {
		seed[i] = byte(i * 37)
	}
	f.Add(seed)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, typ := range quant.Supported() {
			n := len(data) / typ.BlockBytes() * typ.BlockSize()
			src := data[:n/typ.BlockSize()*typ.BlockBytes()]
			dst := make([]float32, n)
			if err := quant.Dequantize(typ, dst, src); err != nil {
				t.Fatal(err)
			}
			x := make([]float32, n)
			for i := range x {
				x[i] = float32(i%7) - 3
			}
			var want float32
			for i := range dst {
				want += float32(dst[i] * x[i])
			}
			if got := quant.DotRow(typ, src, x); !sameFloat(got, want) {
				t.Fatalf("%s: DotRow %g, loop %g", typ, got, want)
			}
		}
	})
}

// fuzzValues turns fuzz bytes into 32·k values: int16 pairs times 2^(exp−15), exp from the
// fuzzer. These are finite and in a range where binary16 scales neither overflow nor vanish.
func fuzzValues(data []byte, exp int8) []float32 {
	scale := math.Ldexp(1, int(exp)%16-15)
	n := len(data) / 2 / quant.QK * quant.QK
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(float64(int16(binary.LittleEndian.Uint16(data[2*i:]))) * scale)
	}
	return x
}

// fuzzRaw reinterprets fuzz bytes as float32 bit patterns (NaN, infinity, subnormals, …), 32·k
// of them.
func fuzzRaw(data []byte) []float32 {
	n := len(data) / 4 / quant.QK * quant.QK
	x := make([]float32, n)
	for i := range x {
		x[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
	}
	return x
}

func fuzzQuantize(f *testing.F, typ quant.Type) {
	f.Add(make([]byte, 128), int8(0))
	f.Add([]byte{0xff, 0x7f, 0x00, 0x80, 1, 0, 2, 0, 0xfe, 0xff, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8, 0, 9, 0, 10, 0,
		11, 0, 12, 0, 13, 0, 14, 0, 15, 0, 16, 0, 17, 0, 18, 0, 19, 0, 20, 0, 21, 0, 22, 0, 23, 0, 24, 0, 25, 0,
		26, 0, 27, 0, 28, 0, 29, 0, 30, 0, 31, 0, 0x00, 0x7f, 0x80, 0x7f, 0x00, 0xc0}, int8(5))
	ramp := make([]byte, 256)
	for i := range ramp {
		ramp[i] = byte(i)
	}
	f.Add(ramp, int8(-3))
	f.Fuzz(func(t *testing.T, data []byte, exp int8) {
		// Raw bit patterns must not panic whatever they hold.
		raw := fuzzRaw(data)
		q := make([]byte, rowBytes(t, typ, len(raw)))
		if err := quant.Quantize(typ, q, raw); err != nil {
			t.Fatal(err)
		}
		if err := quant.Dequantize(typ, make([]float32, len(raw)), q); err != nil {
			t.Fatal(err)
		}
		// Sane values must come back within the reference quantizer's error bound.
		checkRoundTrip(t, typ, fuzzValues(data, exp))
	})
}

// FuzzQuantizeQ8_0 checks Q8_0 quantize→dequantize on fuzzed blocks.
func FuzzQuantizeQ8_0(f *testing.F) { fuzzQuantize(f, quant.Q8_0) }

// FuzzQuantizeQ4_0 checks Q4_0 quantize→dequantize on fuzzed blocks.
func FuzzQuantizeQ4_0(f *testing.F) { fuzzQuantize(f, quant.Q4_0) }
