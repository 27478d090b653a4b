package paint

import (
	"image"
	"image/png"
	"io"
)

// WritePNG encodes img as PNG.
func WritePNG(w io.Writer, img image.Image) error {
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	return enc.Encode(w, img)
}
