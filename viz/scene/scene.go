//go:build js || ebiten

// Package scene shows the attention views as an Ebiten game, the same in a browser canvas and in
// a desktop window: the pictures come from internal/webapp (drawn by viz/paint); the scene adds
// hover read-outs, clicks (open a head from the model view, pin a token), keys and scrolling.
//
// Natively Ebiten needs cgo and the X11 development packages, so the package builds only for
// GOOS=js or with the ebiten build tag; pure tests never import it.
package scene

import (
	"fmt"
	"image"
	"image/color"
	"strings"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/ebitenutil"
	"github.com/hajimehoshi/ebiten/v2/inpututil"

	"github.com/attnscope/attnscope/engine/trace"
	"github.com/attnscope/attnscope/internal/webapp"
)

// Scene is an ebiten.Game showing one view of a trace at a time.
type Scene struct {
	viewer *webapp.Viewer
	tr     *trace.Trace
	pic    *ebiten.Image
	rgba   *image.RGBA
	dirty  bool
	scroll image.Point
	hover  webapp.Hit
	width  int
	err    error
	// Help is shown at the bottom (keys); empty hides it.
	Help string
}

// New shows t (nil: a message asking for a run) through v's state.
func New(v *webapp.Viewer, t *trace.Trace) *Scene {
	return &Scene{viewer: v, tr: t, dirty: true,
		Help: "keys 1-6: views | arrows: layer, head | click: open a head, pin a token | wheel: scroll | +/-: zoom | v: probs/log-probs | , . [ ]: position, dimension | Esc: model view"}
}

// SetTrace replaces the trace (after a run) and redraws.
func (s *Scene) SetTrace(t *trace.Trace) { s.tr, s.dirty = t, true }

// Show switches the view; the state is checked against the trace.
func (s *Scene) Show(st webapp.ViewState) error {
	if err := st.Check(s.tr); err != nil {
		return err
	}
	st.Width = s.viewer.State.Width
	s.viewer.State, s.dirty, s.scroll = st, true, image.Point{}
	return nil
}

// Update handles input.
func (s *Scene) Update() error {
	st := s.viewer.State
	for i, v := range webapp.Views {
		if inpututil.IsKeyJustPressed(ebiten.Key1 + ebiten.Key(i)) {
			st.View = v
		}
	}
	if s.tr != nil {
		if inpututil.IsKeyJustPressed(ebiten.KeyArrowRight) && st.Head+1 < s.tr.Model.NHead {
			st.Head++
		}
		if inpututil.IsKeyJustPressed(ebiten.KeyArrowLeft) && st.Head > 0 {
			st.Head--
		}
		if inpututil.IsKeyJustPressed(ebiten.KeyArrowDown) && st.Layer+1 < s.tr.Model.NLayer {
			st.Layer++
		}
		if inpututil.IsKeyJustPressed(ebiten.KeyArrowUp) && st.Layer > 0 {
			st.Layer--
		}
	}
	if inpututil.IsKeyJustPressed(ebiten.KeyEscape) {
		st.View, st.Token = "model", -1
	}
	if inpututil.IsKeyJustPressed(ebiten.KeyV) {
		if st.Values == "logprobs" {
			st.Values = "probs"
		} else {
			st.Values = "logprobs"
		}
	}
	if inpututil.IsKeyJustPressed(ebiten.KeyEqual) || inpututil.IsKeyJustPressed(ebiten.KeyKPAdd) {
		st.Zoom = min(max(st.Zoom, 1)*2, 64)
		st.FocusQuery, st.FocusKey = max(s.hover.Query, -1), max(s.hover.Key, -1)
	}
	if inpututil.IsKeyJustPressed(ebiten.KeyMinus) || inpututil.IsKeyJustPressed(ebiten.KeyKPSubtract) {
		st.Zoom = max(st.Zoom/2, 1)
	}
	if inpututil.IsKeyJustPressed(ebiten.KeyPeriod) {
		st.Pos++
	}
	if inpututil.IsKeyJustPressed(ebiten.KeyComma) && st.Pos > 0 {
		st.Pos--
	}
	if inpututil.IsKeyJustPressed(ebiten.KeyBracketRight) {
		st.Dim++
	}
	if inpututil.IsKeyJustPressed(ebiten.KeyBracketLeft) && st.Dim > 0 {
		st.Dim--
	}
	_, dy := ebiten.Wheel()
	s.scroll.Y -= int(dy * 40)
	x, y := ebiten.CursorPosition()
	p := image.Pt(x, y).Add(s.scroll)
	s.hover = s.viewer.At(p.X, p.Y)
	if inpututil.IsMouseButtonJustPressed(ebiten.MouseButtonLeft) {
		switch s.hover.Kind {
		case "thumb":
			st.View, st.Layer, st.Head, st.Token = "head", s.hover.Layer, s.hover.Head, -1
		case "cell", "row":
			if st.Token == s.hover.Query {
				st.Token = -1
			} else {
				st.Token = s.hover.Query
			}
		}
	}
	if !st.Equal(s.viewer.State) {
		if err := s.Show(st); err != nil {
			s.err = err
		}
	}
	return nil
}

// render redraws the picture when the state, trace or width changed.
func (s *Scene) render() {
	if !s.dirty {
		return
	}
	s.dirty = false
	img, err := s.viewer.Render(s.tr)
	if err != nil {
		s.err = err
		return
	}
	s.err = nil
	s.rgba = img
	b := img.Bounds()
	if s.pic == nil || s.pic.Bounds().Size() != b.Size() {
		if s.pic != nil {
			s.pic.Deallocate()
		}
		s.pic = ebiten.NewImage(b.Dx(), b.Dy())
	}
	s.pic.WritePixels(img.Pix)
}

// Picture is the last picture drawn (nil before the first frame).
func (s *Scene) Picture() *image.RGBA { return s.rgba }

// Draw paints the view, the hover read-out and the help line.
func (s *Scene) Draw(screen *ebiten.Image) {
	s.render()
	screen.Fill(color.White)
	sw, sh := screen.Bounds().Dx(), screen.Bounds().Dy()
	if s.pic != nil {
		ph := s.pic.Bounds().Dy()
		s.scroll.Y = max(0, min(s.scroll.Y, ph-sh+40))
		op := &ebiten.DrawImageOptions{}
		op.GeoM.Translate(float64(-s.scroll.X), float64(-s.scroll.Y))
		screen.DrawImage(s.pic, op)
	}
	var lines []string
	if s.err != nil {
		lines = append(lines, "error: "+s.err.Error())
	}
	if t := hitText(s.hover); t != "" {
		lines = append(lines, t)
	}
	if s.Help != "" {
		lines = append(lines, s.Help)
	}
	if len(lines) > 0 {
		h := 16 * len(lines)
		bar := ebiten.NewImage(sw, h+4)
		bar.Fill(color.RGBA{245, 245, 248, 235})
		ebitenutil.DebugPrintAt(bar, strings.Join(lines, "\n"), 6, 2)
		op := &ebiten.DrawImageOptions{}
		op.GeoM.Translate(0, float64(sh-h-4))
		screen.DrawImage(bar, op)
		bar.Deallocate()
	}
}

// hitText is the hover read-out. The debug font has ASCII only: other text is quoted as Go does.
func hitText(h webapp.Hit) string {
	switch h.Kind {
	case "cell":
		return fmt.Sprintf("L%d H%d  %+q (%d) -> %+q (%d)  p = %.6f", h.Layer, h.Head, h.From, h.Query, h.To, h.Key, h.P)
	case "thumb":
		return fmt.Sprintf("layer %d, head %d: click to open", h.Layer, h.Head)
	case "row":
		return fmt.Sprintf("token %d %+q: click to pin", h.Query, h.From)
	}
	return ""
}

// Layout uses the window's size; a new width redraws the view to fit it.
func (s *Scene) Layout(outsideWidth, outsideHeight int) (int, int) {
	w := min(max(outsideWidth, 320), 4096)
	if w != s.width {
		s.width = w
		s.viewer.State.Width = w
		s.dirty = true
	}
	return outsideWidth, outsideHeight
}
