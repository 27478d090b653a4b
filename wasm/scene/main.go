//go:build js && wasm

// Command scene is the Ebiten version of the page's views (web/scene.html): it reads the model
// URL, the text and the view from the URL hash (#model=…&text=…&view=…&layer=…&head=…, all
// checked), runs the model and shows the scene. window.attnscene reports its state to the host
// page: {state: "loading"|"ready"|"error", error}.
package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"syscall/js"

	"github.com/hajimehoshi/ebiten/v2"

	"github.com/attnscope/attnscope/internal/webapp"
	"github.com/attnscope/attnscope/viz/scene"
)

func report(state, msg string) {
	o := js.Global().Get("Object").New()
	o.Set("state", state)
	o.Set("error", msg)
	js.Global().Set("attnscene", o)
}

func main() {
	report("loading", "")
	sc, err := setup()
	if err != nil {
		report("error", err.Error())
		select {}
	}
	report("ready", "")
	ebiten.SetWindowTitle("attnscope")
	if err := ebiten.RunGame(sc); err != nil {
		report("error", err.Error())
	}
}

func setup() (*scene.Scene, error) {
	loc := js.Global().Get("location")
	base, err := url.Parse(loc.Get("href").String())
	if err != nil {
		return nil, err
	}
	hash := loc.Get("hash").String()
	if len(hash) > 0 && hash[0] == '#' {
		hash = hash[1:]
	}
	q, err := url.ParseQuery(hash)
	if err != nil {
		return nil, fmt.Errorf("the address after # is not name=value pairs: %w", err)
	}
	ref := q.Get("model")
	if ref == "" {
		return nil, fmt.Errorf("no model: add #model=URL to the address")
	}
	u, err := base.Parse(ref)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("the model must be an http(s) URL or a path")
	}
	text := q.Get("text")
	if text == "" {
		text = "Once upon a time"
	}
	if len(text) > 4096 {
		return nil, fmt.Errorf("the text is longer than 4096 bytes")
	}
	st := webapp.ViewState{View: "model", Token: -1}
	if v := q.Get("view"); v != "" {
		st.View = v
	}
	for _, f := range []struct {
		name string
		dst  *int
	}{{"layer", &st.Layer}, {"head", &st.Head}, {"token", &st.Token}} {
		if raw := q.Get(f.name); raw != "" {
			n, err := strconv.Atoi(raw)
			if err != nil {
				return nil, fmt.Errorf("%s must be a whole number", f.name)
			}
			*f.dst = n
		}
	}
	if err := st.Check(nil); err != nil {
		return nil, err
	}
	data, err := fetch(u.String())
	if err != nil {
		return nil, fmt.Errorf("downloading the model: %w", err)
	}
	l, _, err := webapp.Load(data)
	if err != nil {
		return nil, err
	}
	maxTokens := 0
	if raw := q.Get("maxTokens"); raw != "" {
		if maxTokens, err = strconv.Atoi(raw); err != nil || maxTokens < 0 || maxTokens > 256 {
			return nil, fmt.Errorf("maxTokens must be a whole number from 0 to 256")
		}
	}
	s, res, err := webapp.Run(context.Background(), l, text, webapp.RunOptions{MaxTokens: maxTokens}, nil, nil)
	if err != nil {
		return nil, err
	}
	v := webapp.NewViewer(nil)
	v.Top = res.Top
	if v.Positions, err = webapp.LearnedPositions(l); err != nil {
		return nil, err
	}
	sc := scene.New(v, s.Trace)
	if err := sc.Show(st); err != nil {
		return nil, err
	}
	return sc, nil
}

// await blocks this goroutine until the JS promise p settles; the event loop keeps running.
func await(p js.Value) (js.Value, error) {
	done := make(chan struct{})
	var v js.Value
	var err error
	ok := js.FuncOf(func(_ js.Value, args []js.Value) any { v = args[0]; close(done); return nil })
	bad := js.FuncOf(func(_ js.Value, args []js.Value) any {
		err = errors.New(js.Global().Get("String").Invoke(args[0]).String())
		close(done)
		return nil
	})
	defer ok.Release()
	defer bad.Release()
	p.Call("then", ok, bad)
	<-done
	return v, err
}

// fetch downloads url through the browser, refusing files over webapp.MaxModelBytes.
func fetch(url string) ([]byte, error) {
	resp, err := await(js.Global().Call("fetch", url))
	if err != nil {
		return nil, err
	}
	if !resp.Get("ok").Bool() {
		return nil, fmt.Errorf("HTTP %d", resp.Get("status").Int())
	}
	buf, err := await(resp.Call("arrayBuffer"))
	if err != nil {
		return nil, err
	}
	n := int64(buf.Get("byteLength").Int())
	u8 := js.Global().Get("Uint8Array").New(buf)
	head := make([]byte, min(n, 4))
	js.CopyBytesToGo(head, u8)
	if err := webapp.CheckHeader(head, n); err != nil {
		return nil, err
	}
	b := make([]byte, n)
	js.CopyBytesToGo(b, u8)
	return b, nil
}
