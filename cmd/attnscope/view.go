package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
)

func init() {
	register(command{"view", "open the attention views of a run in a desktop window (runs attnscope-view)", cmdView})
}

// viewBinary is the desktop viewer's program name. It is a separate binary because Ebiten needs
// cgo and X11 to build, which the main binary must not.
const viewBinary = "attnscope-view"

// errNoViewer says how to get the desktop viewer.
var errNoViewer = errors.New("the desktop window is the separate program " + viewBinary +
	", not found beside attnscope, in $ATTNSCOPE_VIEW or on PATH: build it with `make view` " +
	"(needs cgo and the X11 development packages: libx11-dev libxrandr-dev libxcursor-dev libxinerama-dev libxi-dev libxxf86vm-dev libgl-dev), " +
	"or draw the same views to PNG files with `attnscope render`")

func cmdView(args []string, stdout io.Writer) error {
	fs := newFlags("view")
	model := fs.String("model", "", "GGUF model `file`")
	prompt := fs.String("prompt", "", "input `text`")
	view := fs.String("view", "model", "first view: model|head|lines|positions|kvcache|generation")
	layer := fs.Int("layer", 0, "layer of the head and lines views")
	head := fs.Int("head", 0, "head of the head and lines views")
	maxTokens := fs.Int("max-tokens", 0, "greedily generate this many tokens after the prompt")
	shot := fs.String("screenshot", "", "write the window's picture after a few frames to this PNG `file` and quit")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := need(fs, "model", *model); err != nil {
		return err
	}
	if err := need(fs, "prompt", *prompt); err != nil {
		return err
	}
	if *layer < 0 || *head < 0 || *maxTokens < 0 {
		return fmt.Errorf("--layer, --head and --max-tokens must not be negative")
	}
	st, err := os.Stat(*model)
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("--model %s: not a file", *model)
	}
	bin, err := findViewer()
	if err != nil {
		return err
	}
	vargs := []string{"--model", *model, "--prompt", *prompt, "--view", *view,
		"--layer", strconv.Itoa(*layer), "--head", strconv.Itoa(*head), "--max-tokens", strconv.Itoa(*maxTokens)}
	if *shot != "" {
		vargs = append(vargs, "--screenshot", *shot)
	}
	cmd := exec.Command(bin, vargs...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, stdout, diag
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return fmt.Errorf("%s exited with status %d", bin, ee.ExitCode())
		}
		return fmt.Errorf("running %s: %w", bin, err)
	}
	return nil
}

// findViewer looks for the viewer in $ATTNSCOPE_VIEW, beside this executable, then on PATH.
func findViewer() (string, error) {
	if p := os.Getenv("ATTNSCOPE_VIEW"); p != "" {
		if st, err := os.Stat(p); err != nil || st.IsDir() {
			return "", fmt.Errorf("$ATTNSCOPE_VIEW=%s: not a program: %w", p, errNoViewer)
		}
		return p, nil
	}
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), viewBinary)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	if p, err := exec.LookPath(viewBinary); err == nil {
		return p, nil
	}
	return "", errNoViewer
}
