package paint

import (
	"fmt"
	"image/color"
	"math"
	"strings"
)

// Colormap maps a value in [0, 1] to a colour. The maps here are built from a handful of sRGB
// control points, interpolated in OKLab (a perceptual colour space), and tabulated at 256 levels.
type Colormap struct {
	Name string
	// Diverging maps are for signed data: 0.5 is the neutral middle (a score of zero).
	Diverging bool
	lut       [256]color.RGBA
}

// The colormaps. Viridis, Magma and Inferno are sequential, dark to light, with lightness rising
// monotonically; Diverging (blue – near white – red) is for signed scores.
var (
	Viridis   = newColormap("viridis", false, "440154 472c7a 3b518b 2c718e 21908d 27ad81 5cc863 aadc32 fde725")
	Magma     = newColormap("magma", false, "000004 1c1044 4f127b 812581 b5367a e55064 fb8761 fec287 fcfdbf")
	Inferno   = newColormap("inferno", false, "000004 1f0c48 550f6d 88226a ba3655 e35933 f98c0a f9c932 fcffa4")
	Greys     = newColormap("greys", false, "000000 ffffff")
	Diverging = newColormap("diverging", true, "2166ac 4393c3 92c5de d1e5f0 f7f7f7 fddbc7 f4a582 d6604d b2182b")
)

// Colormaps lists every colormap by name.
var Colormaps = []*Colormap{Viridis, Magma, Inferno, Greys, Diverging}

// ColormapByName returns the colormap called name (case-insensitive).
func ColormapByName(name string) (*Colormap, error) {
	var names []string
	for _, m := range Colormaps {
		if strings.EqualFold(m.Name, name) {
			return m, nil
		}
		names = append(names, m.Name)
	}
	return nil, fmt.Errorf("paint: unknown colormap %q (have %s)", name, strings.Join(names, ", "))
}

// At returns the colour for t, clamped to [0, 1]; NaN gives the colour of 0.
func (m *Colormap) At(t float64) color.RGBA {
	if !(t > 0) { // also NaN
		return m.lut[0]
	}
	if t >= 1 {
		return m.lut[255]
	}
	return m.lut[int(t*255+0.5)]
}

// newColormap tabulates a map from hex control points spaced evenly over [0, 1].
func newColormap(name string, diverging bool, hexes string) *Colormap {
	var stops [][3]float64
	for _, h := range strings.Fields(hexes) {
		var r, g, b uint8
		if _, err := fmt.Sscanf(h, "%02x%02x%02x", &r, &g, &b); err != nil {
			panic("paint: bad colour " + h)
		}
		stops = append(stops, toOKLab(color.RGBA{r, g, b, 255}))
	}
	m := &Colormap{Name: name, Diverging: diverging}
	segs := float64(len(stops) - 1)
	for i := range m.lut {
		x := float64(i) / 255 * segs
		j := int(x)
		if j >= len(stops)-1 {
			j = len(stops) - 2
		}
		f := x - float64(j)
		var lab [3]float64
		for c := range lab {
			lab[c] = stops[j][c]*(1-f) + stops[j+1][c]*f
		}
		m.lut[i] = fromOKLab(lab)
	}
	return m
}

func srgbToLinear(c float64) float64 {
	if c <= 0.04045 {
		return c / 12.92
	}
	return math.Pow((c+0.055)/1.055, 2.4)
}

func linearToSRGB(c float64) float64 {
	if c <= 0.0031308 {
		return 12.92 * c
	}
	return 1.055*math.Pow(c, 1/2.4) - 0.055
}

// toOKLab converts an opaque sRGB colour to OKLab (L, a, b); L runs from 0 (black) to 1 (white).
func toOKLab(c color.RGBA) [3]float64 {
	r := srgbToLinear(float64(c.R) / 255)
	g := srgbToLinear(float64(c.G) / 255)
	b := srgbToLinear(float64(c.B) / 255)
	l := math.Cbrt(0.4122214708*r + 0.5363325363*g + 0.0514459929*b)
	m := math.Cbrt(0.2119034982*r + 0.6806995451*g + 0.1073969566*b)
	s := math.Cbrt(0.0883024619*r + 0.2817188376*g + 0.6299787005*b)
	return [3]float64{
		0.2104542553*l + 0.7936177850*m - 0.0040720468*s,
		1.9779984951*l - 2.4285922050*m + 0.4505937099*s,
		0.0259040371*l + 0.7827717662*m - 0.8086757660*s,
	}
}

// fromOKLab converts OKLab to sRGB, clipping to the gamut.
func fromOKLab(lab [3]float64) color.RGBA {
	l := lab[0] + 0.3963377774*lab[1] + 0.2158037573*lab[2]
	m := lab[0] - 0.1055613458*lab[1] - 0.0638541728*lab[2]
	s := lab[0] - 0.0894841775*lab[1] - 1.2914855480*lab[2]
	l, m, s = l*l*l, m*m*m, s*s*s
	r := 4.0767416621*l - 3.3077115913*m + 0.2309699292*s
	g := -1.2684380046*l + 2.6097574011*m - 0.3413193965*s
	b := -0.0041960863*l - 0.7034186147*m + 1.7076147010*s
	return color.RGBA{to8(linearToSRGB(r)), to8(linearToSRGB(g)), to8(linearToSRGB(b)), 255}
}

func to8(x float64) uint8 {
	switch {
	case !(x > 0):
		return 0
	case x >= 1:
		return 255
	}
	return uint8(x*255 + 0.5)
}

// Lightness is a colour's OKLab lightness in [0, 1] (perceived brightness).
func Lightness(c color.RGBA) float64 { return toOKLab(c)[0] }

// headColors are distinct hues for drawing several heads in one picture.
var headColors = []color.RGBA{
	{0x1f, 0x77, 0xb4, 255}, {0xff, 0x7f, 0x0e, 255}, {0x2c, 0xa0, 0x2c, 255}, {0xd6, 0x27, 0x28, 255},
	{0x94, 0x67, 0xbd, 255}, {0x8c, 0x56, 0x4b, 255}, {0xe3, 0x77, 0xc2, 255}, {0x17, 0xbe, 0xcf, 255},
	{0xbc, 0xbd, 0x22, 255}, {0x7f, 0x7f, 0x7f, 255},
}

// HeadColor returns the colour of head h in multi-head pictures: ten distinct colours, then hues
// spaced by the golden angle at a fixed lightness and chroma.
func HeadColor(h int) color.RGBA {
	if h >= 0 && h < len(headColors) {
		return headColors[h]
	}
	hue := float64(h) * 137.50776 * math.Pi / 180
	return fromOKLab([3]float64{0.62, 0.13 * math.Cos(hue), 0.13 * math.Sin(hue)})
}
