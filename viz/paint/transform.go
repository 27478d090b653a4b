package paint

import (
	"math"

	"github.com/go-gl/mathgl/mgl64"
)

// MaxZoom is the deepest a ViewTransform zooms: the window then shows 1/MaxZoom of each axis.
const MaxZoom = 256

// ViewTransform is the zoom and scroll of a square map of n tokens as one homogeneous 2-D matrix:
// M maps token coordinates (x = key, y = query; token i spans [i, i+1)) to window coordinates, where
// the shown window is the unit square [0, 1]². At zoom 1 the window shows every token.
type ViewTransform struct {
	N    int
	Zoom float64
	M    mgl64.Mat3
}

// NewViewTransform shows n tokens zoomed by zoom (clamped to [1, MaxZoom] and to whole tokens:
// the window shows at least one token) and centred as near (focusKey, focusQuery) as the window
// allows while it stays inside the map; a negative focus centres that axis.
func NewViewTransform(n int, zoom float64, focusQuery, focusKey int) ViewTransform {
	if n <= 0 {
		return ViewTransform{Zoom: 1, M: mgl64.Ident3()}
	}
	if math.IsNaN(zoom) || zoom < 1 {
		zoom = 1
	}
	zoom = min(zoom, MaxZoom, float64(n))
	span := float64(n) / zoom // tokens the window shows on each axis
	start := func(focus int) float64 {
		c := float64(n) / 2
		if focus >= 0 {
			c = float64(min(focus, n-1)) + 0.5
		}
		return math.Max(0, math.Min(float64(n)-span, c-span/2))
	}
	x0, y0 := start(focusKey), start(focusQuery)
	m := mgl64.Scale2D(1/span, 1/span).Mul3(mgl64.Translate2D(-x0, -y0))
	return ViewTransform{N: n, Zoom: zoom, M: m}
}

// ToWindow maps a point in token coordinates to window coordinates.
func (v ViewTransform) ToWindow(x, y float64) (wx, wy float64) {
	p := v.M.Mul3x1(mgl64.Vec3{x, y, 1})
	return p[0], p[1]
}

// ToTokens maps a point in window coordinates back to token coordinates.
func (v ViewTransform) ToTokens(wx, wy float64) (x, y float64) {
	p := v.M.Inv().Mul3x1(mgl64.Vec3{wx, wy, 1})
	return p[0], p[1]
}

// Window returns the tokens the window shows on each axis: queries [q0, q1) and keys [k0, k1),
// every token at least partly inside it.
func (v ViewTransform) Window() (q0, q1, k0, k1 int) {
	if v.N <= 0 {
		return 0, 0, 0, 0
	}
	x0, y0 := v.ToTokens(0, 0)
	x1, y1 := v.ToTokens(1, 1)
	clamp := func(t float64) int { return max(0, min(v.N, int(t))) }
	const eps = 1e-9
	q0, k0 = clamp(math.Floor(y0+eps)), clamp(math.Floor(x0+eps))
	q1, k1 = clamp(math.Ceil(y1-eps)), clamp(math.Ceil(x1-eps))
	return q0, max(q1, q0+1), k0, max(k1, k0+1)
}

// Window cuts m to the rows [q0, q1) and keys [k0, k1). Cells a query may not see stay masked.
func (m Map) Window(q0, q1, k0, k1 int) Map {
	q1 = min(q1, len(m.Rows))
	keys := m.NKeys()
	k1 = min(k1, keys)
	if q0 >= q1 || k0 >= k1 {
		return Map{Signed: m.Signed}
	}
	rows := make([][]float32, q1-q0)
	for i := range rows {
		r := m.Rows[q0+i]
		if k0 < len(r) {
			rows[i] = r[k0:min(k1, len(r))]
		} else {
			rows[i] = []float32{}
		}
	}
	return Map{Rows: rows, Keys: k1 - k0, Signed: m.Signed}
}
