package quant_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/attnscope/attnscope/engine/quant"
)

// ggmlQuantized pairs an F32 model with the files ggml's own quantizer made from it.
var ggmlQuantized = []struct{ base, derived string }{
	{"stories260K.gguf", "stories260K-q8_0.gguf"},
	{"stories260K.gguf", "stories260K-q4_0.gguf"},
	{"tiny-gpt2-synthetic.gguf", "tiny-gpt2-synthetic-q8_0.gguf"},
	{"tiny-gpt2-synthetic.gguf", "tiny-gpt2-synthetic-q4_0.gguf"},
	{"tiny-bert-synthetic.gguf", "tiny-bert-synthetic-q8_0.gguf"},
	{"tiny-bert-synthetic.gguf", "tiny-bert-synthetic-q4_0.gguf"},
}

// firstBlockDiff describes the first block where got and want differ.
func firstBlockDiff(got, want []byte, blockBytes int, src []float32, blockSize int) string {
	n, first := 0, -1
	for i := 0; i < len(want); i += blockBytes {
		if !bytes.Equal(got[i:i+blockBytes], want[i:i+blockBytes]) {
			if first < 0 {
				first = i / blockBytes
			}
			n++
		}
	}
	if first < 0 {
		return "no block differs"
	}
	o := first * blockBytes
	return fmt.Sprintf("%d of %d blocks differ; first is block %d:\n got  %x\n want %x\n input %v",
		n, len(want)/blockBytes, first, got[o:o+blockBytes], want[o:o+blockBytes],
		src[first*blockSize:(first+1)*blockSize])
}

// TestQuantizeMatchesGGMLFiles quantizes every F32 tensor that ggml quantized in the derived
// files and requires byte-identical data. Tensors ggml left in F32 must be unchanged.
func TestQuantizeMatchesGGMLFiles(t *testing.T) {
	for _, pair := range ggmlQuantized {
		t.Run(pair.derived, func(t *testing.T) {
			base, derived := openModel(t, pair.base), openModel(t, pair.derived)
			if len(derived.Tensors) != len(base.Tensors) {
				t.Fatalf("%d tensors, %s has %d", len(derived.Tensors), pair.base, len(base.Tensors))
			}
			quantized := 0
			for i := range derived.Tensors {
				ti := &derived.Tensors[i]
				bi, ok := base.Tensor(ti.Name)
				if !ok || bi.Type != quant.F32 {
					t.Fatalf("%s: not an F32 tensor in %s", ti.Name, pair.base)
				}
				src := dequantized(t, base, bi)
				want := tensorData(t, derived, ti)
				got := make([]byte, len(want))
				if err := quant.Quantize(ti.Type, got, src); err != nil {
					t.Fatalf("%s: %v", ti.Name, err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s (%s, dims %v): %s", ti.Name, ti.Type, ti.Dims,
						firstBlockDiff(got, want, ti.Type.BlockBytes(), src, ti.Type.BlockSize()))
				}
				if ti.Type != quant.F32 {
					quantized++
				}
			}
			if quantized == 0 {
				t.Fatal("no quantized tensor in the file")
			}
			t.Logf("%d quantized tensors byte-identical", quantized)
		})
	}
}

// TestRequantizeIsIdempotent checks quantize(dequantize(q)) == q for ggml's Q8_0 and Q4_0
// blocks. It holds by construction: the largest dequantized magnitude is 127·d (Q8_0) or
// −8·d (Q4_0) exactly in float32, so the recomputed scale is d itself, and q·d·(1/d) is within
// an ulp of q, which rounds back to q. A block whose binary16 scale underflowed to zero while
// its quants are not zero would break it; none occurs in these files.
func TestRequantizeIsIdempotent(t *testing.T) {
	for _, pair := range ggmlQuantized {
		t.Run(pair.derived, func(t *testing.T) {
			f := openModel(t, pair.derived)
			for i := range f.Tensors {
				ti := &f.Tensors[i]
				if ti.Type != quant.Q8_0 && ti.Type != quant.Q4_0 {
					continue
				}
				want := tensorData(t, f, ti)
				vals := dequantized(t, f, ti)
				got := make([]byte, len(want))
				if err := quant.Quantize(ti.Type, got, vals); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s: %s", ti.Name, firstBlockDiff(got, want, ti.Type.BlockBytes(), vals, ti.Type.BlockSize()))
				}
			}
		})
	}
}
