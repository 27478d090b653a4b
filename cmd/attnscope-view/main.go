//go:build ebiten

// Command attnscope-view opens the attention views of a model run in a desktop window (the same
// Ebiten scenes as web/scene.html). It needs cgo and the X11 development packages, hence the
// build tag, and a display: Ebiten opens its window system when the program starts (without one,
// attnscope render draws the same views to PNG files). Build and run:
//
//	go build -tags ebiten -o bin/attnscope-view ./cmd/attnscope-view
//	bin/attnscope-view --model FILE --prompt TEXT [--view head --layer L --head H] [--max-tokens N] [--screenshot out.png]
package main

import (
	"context"
	"flag"
	"fmt"
	"image"
	"os"

	"github.com/hajimehoshi/ebiten/v2"

	"github.com/attnscope/attnscope/internal/webapp"
	"github.com/attnscope/attnscope/viz/paint"
	"github.com/attnscope/attnscope/viz/scene"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "attnscope-view:", err)
		os.Exit(1)
	}
}

func run() error {
	model := flag.String("model", "", "GGUF model `file`")
	prompt := flag.String("prompt", "", "input `text`")
	view := flag.String("view", "model", "first view: model|head|lines|positions|kvcache|generation")
	layer := flag.Int("layer", 0, "layer of the head and lines views")
	head := flag.Int("head", 0, "head of the head and lines views")
	maxTokens := flag.Int("max-tokens", 0, "greedily generate this many tokens after the prompt")
	shot := flag.String("screenshot", "", "write the window's picture after a few frames to this PNG `file` and quit")
	flag.Parse()
	if *model == "" || *prompt == "" {
		flag.Usage()
		return fmt.Errorf("--model and --prompt are required")
	}
	data, err := os.ReadFile(*model)
	if err != nil {
		return err
	}
	l, _, err := webapp.Load(data)
	if err != nil {
		return fmt.Errorf("%s: %w", *model, err)
	}
	s, res, err := webapp.Run(context.Background(), l, *prompt, webapp.RunOptions{MaxTokens: *maxTokens}, nil, nil)
	if err != nil {
		return err
	}
	fonts, err := paint.NewFonts(12) // with the system's Hangul font when installed
	if err != nil {
		return err
	}
	v := webapp.NewViewer(fonts)
	v.Top = res.Top
	if v.Positions, err = webapp.LearnedPositions(l); err != nil {
		return err
	}
	sc := scene.New(v, s.Trace)
	if err := sc.Show(webapp.ViewState{View: *view, Layer: *layer, Head: *head, Token: -1}); err != nil {
		return err
	}
	ebiten.SetWindowSize(1100, 800)
	ebiten.SetWindowResizingMode(ebiten.WindowResizingModeEnabled)
	ebiten.SetWindowTitle("attnscope · " + *model)
	if *shot != "" {
		return ebiten.RunGame(&capture{Scene: sc, path: *shot})
	}
	return ebiten.RunGame(sc)
}

// capture runs a scene for captureFrames frames, writes what the last one drew to path and ends
// the game: proof that the window draws, for tests and docs.
type capture struct {
	*scene.Scene
	path   string
	frames int
	err    error
	done   bool
}

const captureFrames = 10

func (c *capture) Update() error {
	if c.done {
		if c.err != nil {
			return c.err
		}
		return ebiten.Termination
	}
	return c.Scene.Update()
}

func (c *capture) Draw(screen *ebiten.Image) {
	c.Scene.Draw(screen)
	c.frames++
	if c.frames < captureFrames || c.done {
		return
	}
	b := screen.Bounds()
	img := image.NewRGBA(b)
	screen.ReadPixels(img.Pix)
	c.err = writePNG(c.path, img)
	c.done = true
}

func writePNG(path string, img *image.RGBA) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := paint.WritePNG(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
