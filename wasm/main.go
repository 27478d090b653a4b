//go:build js && wasm

// Command wasm is the engine in the browser: it fills in window.attnscope (see the README) and
// draws the views onto a canvas. Build it with GOOS=js GOARCH=wasm into web/attnscope.wasm; the
// page's boot.js starts it.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"syscall/js"
	"time"

	"golang.org/x/image/font/opentype"

	"github.com/attnscope/attnscope/engine/infer"
	"github.com/attnscope/attnscope/engine/kvcache"
	"github.com/attnscope/attnscope/engine/trace"
	"github.com/attnscope/attnscope/internal/webapp"
	"github.com/attnscope/attnscope/viz/paint"
)

// app is the page's state. Every field is touched only by one goroutine at a time: JS callbacks
// run on the event loop and the work they start holds busy.
type app struct {
	loaded  *infer.Loaded
	info    *webapp.Info
	tr      *trace.Trace
	viewer  *webapp.Viewer
	img     *image.RGBA
	canvas  js.Value
	busy    bool
	cancel  context.CancelFunc
	lastDrw time.Time
}

var (
	global = js.Global()
	a      = &app{viewer: webapp.NewViewer(nil)}
)

func main() {
	api := global.Get("attnscope")
	if api.IsUndefined() || api.IsNull() {
		api = global.Get("Object").New()
		global.Set("attnscope", api)
	}
	set := func(name string, fn func(this js.Value, args []js.Value) any) {
		api.Set(name, js.FuncOf(fn))
	}
	set("loadModel", func(_ js.Value, args []js.Value) any {
		return promise(func() (any, error) { return a.loadModel(arg(args, 0), arg(args, 1)) })
	})
	set("run", func(_ js.Value, args []js.Value) any {
		return promise(func() (any, error) { return a.run(arg(args, 0), arg(args, 1)) })
	})
	set("stop", func(js.Value, []js.Value) any {
		if a.cancel != nil {
			a.cancel()
		}
		return nil
	})
	// show and trace report errors as {attnscopeError: message}, which boot.js turns into thrown
	// Errors: a Go panic in a callback would end the whole program.
	set("_trace", func(js.Value, []js.Value) any { return a.traceJS() })
	set("_show", func(_ js.Value, args []js.Value) any {
		v, err := a.show(arg(args, 0), arg(args, 1))
		if err != nil {
			return failure(err)
		}
		return v
	})
	set("exportPNG", func(js.Value, []js.Value) any { return promise(a.exportPNG) })
	set("attach", func(_ js.Value, args []js.Value) any {
		a.canvas = arg(args, 0)
		a.draw()
		return nil
	})
	set("at", func(_ js.Value, args []js.Value) any {
		return toJS(a.viewer.At(arg(args, 0).Int(), arg(args, 1).Int()))
	})
	set("info", func(js.Value, []js.Value) any {
		if a.info == nil {
			return js.Null()
		}
		return toJS(a.info)
	})
	set("state", func(js.Value, []js.Value) any { return toJS(a.viewer.State) })
	api.Set("views", toJS(webapp.Views))
	api.Set("limits", toJS(map[string]int64{"modelBytes": webapp.MaxModelBytes, "promptBytes": webapp.MaxPromptBytes, "maxTokens": webapp.MaxTokens}))

	go func() {
		a.loadFont()
		a.render()
		if r := api.Get("_resolveReady"); r.Type() == js.TypeFunction {
			r.Invoke()
		}
	}()
	select {}
}

func arg(args []js.Value, i int) js.Value {
	if i < len(args) {
		return args[i]
	}
	return js.Undefined()
}

// promise runs fn in its own goroutine (it may block on JS promises) and settles a JS Promise.
func promise(fn func() (any, error)) js.Value {
	var exec js.Func
	exec = js.FuncOf(func(_ js.Value, args []js.Value) any {
		resolve, reject := args[0], args[1]
		go func() {
			defer exec.Release()
			defer func() {
				if r := recover(); r != nil {
					reject.Invoke(jsError(fmt.Errorf("internal error: %v", r)))
				}
			}()
			v, err := fn()
			if err != nil {
				reject.Invoke(jsError(err))
				return
			}
			resolve.Invoke(v)
		}()
		return nil
	})
	return global.Get("Promise").New(exec)
}

func jsError(err error) js.Value { return global.Get("Error").New(err.Error()) }

// failure is an error as the synchronous functions return it (see boot.js).
func failure(err error) js.Value {
	o := global.Get("Object").New()
	o.Set("attnscopeError", err.Error())
	return o
}

// await blocks the calling goroutine (never the event loop's) until p settles.
func await(p js.Value) (js.Value, error) {
	type result struct {
		v   js.Value
		err error
	}
	ch := make(chan result, 1)
	ok := js.FuncOf(func(_ js.Value, args []js.Value) any { ch <- result{v: arg(args, 0)}; return nil })
	bad := js.FuncOf(func(_ js.Value, args []js.Value) any {
		e := arg(args, 0)
		msg := "failed"
		if e.Type() == js.TypeObject && e.Get("message").Type() == js.TypeString {
			msg = e.Get("message").String()
		} else if e.Type() == js.TypeString {
			msg = e.String()
		}
		ch <- result{err: errors.New(msg)}
		return nil
	})
	defer ok.Release()
	defer bad.Release()
	p.Call("then", ok, bad)
	r := <-ch
	return r.v, r.err
}

// yieldToPage lets the page draw a frame before the engine goes on. Posting a message alone is
// not enough: Chromium runs queued tasks ahead of rendering for a while, so frames still stall.
// It waits for the next animation frame (or frameTimeout, as a hidden tab gets no frames) and
// then for a message posted from there, so that the engine resumes after the frame is painted,
// not inside the frame's callbacks.
func yieldToPage() error {
	waitFrame()
	if !yieldPort.Truthy() {
		ch := global.Get("MessageChannel").New()
		ch.Get("port1").Set("onmessage", js.FuncOf(func(js.Value, []js.Value) any {
			yieldDone <- struct{}{}
			return nil
		}))
		yieldPort = ch.Get("port2")
	}
	yieldPort.Call("postMessage", 0)
	<-yieldDone
	return nil
}

var (
	yieldPort js.Value
	yieldDone = make(chan struct{}, 1)
)

// waitFrame returns at the next animation frame or after frameTimeout, whichever comes first.
func waitFrame() {
	done := make(chan struct{}, 2)
	fn := js.FuncOf(func(js.Value, []js.Value) any {
		select {
		case done <- struct{}{}:
		default:
		}
		return nil
	})
	raf := global.Call("requestAnimationFrame", fn)
	tid := global.Call("setTimeout", fn, frameTimeout.Milliseconds())
	<-done
	// Neither callback can run after this, so the function can go.
	global.Call("cancelAnimationFrame", raf)
	global.Call("clearTimeout", tid)
	fn.Release()
}

// Slices: the engine runs at most sliceBudget between frames, and redraws the view during a run
// at most every redrawEvery. A hidden tab, which gets no frames, goes on every frameTimeout.
const (
	sliceBudget  = 10 * time.Millisecond
	redrawEvery  = 250 * time.Millisecond
	frameTimeout = 100 * time.Millisecond
)

// toJS converts a Go value to a plain JS value through JSON.
func toJS(v any) js.Value {
	b, err := json.Marshal(v)
	if err != nil {
		return failure(err)
	}
	return global.Get("JSON").Call("parse", string(b))
}

func isType(v js.Value, ctor string) bool {
	c := global.Get(ctor)
	return v.Type() == js.TypeObject && c.Type() == js.TypeFunction && v.InstanceOf(c)
}

func (a *app) loadFont() {
	resp, err := await(global.Call("fetch", "fonts/hangul.ttf"))
	if err != nil || !resp.Get("ok").Bool() {
		return
	}
	buf, err := await(resp.Call("arrayBuffer"))
	if err != nil {
		return
	}
	b := bytesOf(global.Get("Uint8Array").New(buf))
	f, err := opentype.Parse(b)
	if err != nil {
		return
	}
	if fonts, err := paint.NewFonts(12, f); err == nil {
		a.viewer.Fonts = fonts
	}
}

func bytesOf(u8 js.Value) []byte {
	b := make([]byte, u8.Get("byteLength").Int())
	js.CopyBytesToGo(b, u8)
	return b
}

// loadModel reads src (URL, ArrayBuffer, typed array, Blob) after checking its size and first bytes.
func (a *app) loadModel(src, opts js.Value) (any, error) {
	if a.busy {
		return nil, errors.New("busy: wait for the current load or run to finish, or stop it")
	}
	a.busy = true
	defer func() { a.busy = false }()
	var progress js.Value
	cache := true
	if opts.Type() == js.TypeObject {
		progress = opts.Get("onProgress")
		if c := opts.Get("cache"); c.Type() == js.TypeBoolean {
			cache = c.Bool()
		}
	}
	var data []byte
	var err error
	switch {
	case src.Type() == js.TypeString:
		data, err = fetchModel(src.String(), progress, cache)
	case isType(src, "ArrayBuffer"):
		data, err = checkedBytes(global.Get("Uint8Array").New(src))
	case isType(src, "Uint8Array"):
		data, err = checkedBytes(src)
	case isType(src, "Blob"):
		data, err = readBlob(src)
	default:
		err = errors.New("loadModel: pass a URL, an ArrayBuffer, a Uint8Array or a File")
	}
	if err != nil {
		return nil, err
	}
	l, info, release, err := webapp.LoadHeld(data)
	if err != nil {
		return nil, err
	}
	if a.loaded != nil {
		a.loaded.Close()
	}
	pos, perr := webapp.LearnedPositions(l)
	if perr != nil {
		global.Get("console").Call("warn", "attnscope: the positions view has no table:", perr.Error())
	}
	// Nothing reads the file after this: its bytes go, and wasm memory holds the weights once.
	release()
	a.loaded, a.info, a.tr, a.viewer.Top, a.viewer.Positions = l, &info, nil, nil, pos
	a.render()
	// The page updates its model facts, whoever loaded the model (the page or the JS API).
	global.Call("dispatchEvent", global.Get("Event").New("attnscope-loaded"))
	return toJS(info), nil
}

func checkedBytes(u8 js.Value) ([]byte, error) {
	n := int64(u8.Get("byteLength").Int())
	head := make([]byte, min(n, 4))
	js.CopyBytesToGo(head, u8.Call("subarray", 0, len(head)))
	if err := webapp.CheckHeader(head, n); err != nil {
		return nil, err
	}
	return bytesOf(u8), nil
}

func readBlob(b js.Value) ([]byte, error) {
	n := int64(b.Get("size").Float())
	if n > webapp.MaxModelBytes {
		return nil, webapp.CheckHeader([]byte("GGUF"), n)
	}
	hb, err := await(b.Call("slice", 0, 4).Call("arrayBuffer"))
	if err != nil {
		return nil, err
	}
	if err := webapp.CheckHeader(bytesOf(global.Get("Uint8Array").New(hb)), n); err != nil {
		return nil, err
	}
	buf, err := await(b.Call("arrayBuffer"))
	if err != nil {
		return nil, fmt.Errorf("reading the file: %w", err)
	}
	return bytesOf(global.Get("Uint8Array").New(buf)), nil
}

const cacheName = "attnscope-models"

// fetchModel downloads url with progress, from and into Cache Storage when the page may use it.
func fetchModel(url string, progress js.Value, useCache bool) ([]byte, error) {
	var store js.Value
	caches := global.Get("caches")
	if useCache && caches.Type() == js.TypeObject && global.Get("isSecureContext").Truthy() {
		if c, err := await(caches.Call("open", cacheName)); err == nil {
			store = c
		}
	}
	var resp js.Value
	fromCache := false
	if store.Truthy() {
		if r, err := await(store.Call("match", url)); err == nil && r.Truthy() {
			resp, fromCache = r, true
		}
	}
	if !fromCache {
		r, err := await(global.Call("fetch", url))
		if err != nil {
			return nil, fmt.Errorf("downloading %s: %w", url, err)
		}
		resp = r
	}
	if !resp.Get("ok").Bool() {
		return nil, fmt.Errorf("downloading %s: HTTP %d %s", url, resp.Get("status").Int(), resp.Get("statusText").String())
	}
	total := int64(-1)
	if cl := resp.Get("headers").Call("get", "Content-Length"); cl.Type() == js.TypeString && resp.Get("headers").Call("get", "Content-Encoding").IsNull() {
		var n int64
		if _, err := fmt.Sscan(cl.String(), &n); err == nil {
			total = n
			if n > webapp.MaxModelBytes {
				return nil, webapp.CheckHeader([]byte("GGUF"), n)
			}
		}
	}
	var saving js.Value
	if store.Truthy() && !fromCache {
		saving = store.Call("put", url, resp.Call("clone"))
	}
	reader := resp.Get("body").Call("getReader")
	var buf bytes.Buffer
	if total > 0 {
		buf.Grow(int(total))
	}
	for {
		chunk, err := await(reader.Call("read"))
		if err != nil {
			return nil, fmt.Errorf("downloading %s: %w", url, err)
		}
		if chunk.Get("done").Bool() {
			break
		}
		buf.Write(bytesOf(chunk.Get("value")))
		if int64(buf.Len()) > webapp.MaxModelBytes || (buf.Len() >= 4 && !bytes.HasPrefix(buf.Bytes(), []byte("GGUF"))) {
			reader.Call("cancel")
			err := webapp.CheckHeader(buf.Bytes(), int64(buf.Len()))
			forget(store, url, saving)
			return nil, err
		}
		if progress.Type() == js.TypeFunction {
			progress.Invoke(buf.Len(), total)
		}
	}
	if err := webapp.CheckHeader(buf.Bytes(), int64(buf.Len())); err != nil {
		forget(store, url, saving)
		return nil, err
	}
	if saving.Truthy() {
		await(saving) // a failed cache write only costs the next download
	}
	return buf.Bytes(), nil
}

// forget removes a bad download from the cache.
func forget(store js.Value, url string, saving js.Value) {
	if !store.Truthy() {
		return
	}
	if saving.Truthy() {
		await(saving)
	}
	store.Call("delete", url)
}

func num(o js.Value, name string, def float64) (float64, error) {
	if o.Type() != js.TypeObject {
		return def, nil
	}
	v := o.Get(name)
	switch v.Type() {
	case js.TypeUndefined, js.TypeNull:
		return def, nil
	case js.TypeNumber:
		return v.Float(), nil
	}
	return 0, fmt.Errorf("%s must be a number", name)
}

func (a *app) run(text, opts js.Value) (any, error) {
	if a.loaded == nil {
		return nil, webapp.ErrNoModel
	}
	if text.Type() != js.TypeString {
		return nil, errors.New("run: the text must be a string")
	}
	if a.busy {
		return nil, errors.New("busy: wait for the current load or run to finish, or stop it")
	}
	var o webapp.RunOptions
	maxTok, err1 := num(opts, "maxTokens", 32)
	temp, err2 := num(opts, "temperature", 0)
	topK, err3 := num(opts, "topK", 0)
	topP, err4 := num(opts, "topP", 0)
	seed, err5 := num(opts, "seed", 0)
	if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
		return nil, err
	}
	if maxTok != float64(int(maxTok)) || topK != float64(int(topK)) || seed < 0 || seed != float64(uint64(seed)) {
		return nil, errors.New("maxTokens, topK and seed must be whole numbers, seed not negative")
	}
	o = webapp.RunOptions{MaxTokens: int(maxTok), Temperature: float32(temp), TopK: int(topK), TopP: float32(topP), Seed: uint64(seed),
		SliceBudget: sliceBudget}
	if opts.Type() == js.TypeObject {
		if kv := opts.Get("kvCache"); !kv.IsUndefined() && !kv.IsNull() {
			if kv.Type() != js.TypeString {
				return nil, errors.New("kvCache must be 'f32' or 'f16'")
			}
			t, err := kvcache.ParseType(kv.String())
			if err != nil {
				return nil, err
			}
			o.KVType = t
		}
	}
	var onToken js.Value
	if opts.Type() == js.TypeObject {
		onToken = opts.Get("onToken")
	}
	a.busy = true
	ctx, cancel := context.WithCancel(context.Background())
	a.cancel = cancel
	defer func() { a.busy, a.cancel = false, nil; cancel() }()
	lastYield := time.Now()
	yield := func(s *infer.Session) error {
		if time.Since(lastYield) < sliceBudget {
			return nil
		}
		err := yieldToPage()
		if time.Since(a.lastDrw) > redrawEvery {
			// The picture of the run so far, in a task of its own.
			a.tr = s.Trace
			a.fitState()
			a.render()
			err = yieldToPage()
		}
		lastYield = time.Now()
		return err
	}
	step := func(id int32, piece string) {
		if onToken.Type() == js.TypeFunction {
			onToken.Invoke(id, piece)
		}
	}
	sess, res, err := webapp.Run(ctx, a.loaded, text.String(), o, yield, step)
	if sess != nil {
		a.tr = sess.Trace
	}
	if res != nil {
		a.viewer.Top = res.Top
	}
	yieldToPage() // the last slice and the final picture are separate tasks
	a.fitState()
	a.render()
	if err != nil {
		return nil, err
	}
	return toJS(res), nil
}

func (a *app) traceJS() any {
	if a.tr == nil {
		return js.Null()
	}
	b, err := webapp.TraceBytes(a.tr)
	if err != nil {
		return failure(err)
	}
	return global.Get("JSON").Call("parse", string(b))
}

func (a *app) show(view, opts js.Value) (any, error) {
	st := a.viewer.State
	if view.Type() == js.TypeString {
		st.View = view.String()
	} else if !view.IsUndefined() && !view.IsNull() {
		return nil, errors.New("show: the view must be a string")
	}
	if err := viewOptions(&st, opts); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		name string
		dst  *int
	}{{"layer", &st.Layer}, {"head", &st.Head}, {"token", &st.Token}, {"width", &st.Width},
		{"focusQuery", &st.FocusQuery}, {"focusKey", &st.FocusKey}, {"pos", &st.Pos}, {"dim", &st.Dim}} {
		v, err := num(opts, f.name, float64(*f.dst))
		if err != nil {
			return nil, err
		}
		if v != float64(int(v)) {
			return nil, fmt.Errorf("%s must be a whole number", f.name)
		}
		*f.dst = int(v)
	}
	if a.tr != nil {
		// A focus past the end centres on the last token (the page drags without knowing n).
		n := len(a.tr.Tokens)
		st.FocusQuery, st.FocusKey = min(st.FocusQuery, n-1), min(st.FocusKey, n-1)
	}
	if err := st.Check(a.tr); err != nil {
		return nil, err
	}
	old := a.viewer.State
	a.viewer.State = st
	if err := a.render(); err != nil {
		a.viewer.State = old
		a.render()
		return nil, err
	}
	return toJS(a.viewer.State), nil
}

// fitState keeps the view's state valid for a new trace: a pinned token, a focus or lines heads
// of the previous run that the new one lacks are dropped.
func (a *app) fitState() {
	st := &a.viewer.State
	if a.tr == nil {
		return
	}
	n := len(a.tr.Tokens)
	if st.Token >= n {
		st.Token = -1
	}
	if st.FocusQuery >= n || st.FocusKey >= n {
		st.Zoom, st.FocusQuery, st.FocusKey = 0, -1, -1
	}
	if st.Layer >= a.tr.Model.NLayer || st.Head >= a.tr.Model.NHead {
		st.Layer, st.Head, st.Heads = 0, 0, nil
	}
	for _, h := range st.Heads {
		if h >= a.tr.Model.NHead {
			st.Heads = nil
			break
		}
	}
}

// viewOptions reads show's options that are not whole numbers: values ('probs'|'logprobs'), zoom
// (a number) and heads (an array of head numbers, 'all' for every head of the layer, or null).
func viewOptions(st *webapp.ViewState, opts js.Value) error {
	if opts.Type() != js.TypeObject {
		return nil
	}
	switch v := opts.Get("values"); v.Type() {
	case js.TypeUndefined:
	case js.TypeString:
		st.Values = v.String()
	default:
		return errors.New("values must be 'probs' or 'logprobs'")
	}
	z, err := num(opts, "zoom", st.Zoom)
	if err != nil {
		return err
	}
	st.Zoom = z
	switch h := opts.Get("heads"); {
	case h.IsUndefined():
	case h.IsNull():
		st.Heads = nil
	case h.Type() == js.TypeString && h.String() == "all":
		st.Heads = nil
		if a.tr == nil {
			break // nothing to draw yet: the page shows its message
		}
		st.Heads = make([]int, a.tr.Model.NHead)
		for i := range st.Heads {
			st.Heads[i] = i
		}
	case isType(h, "Array"):
		n := h.Length()
		if n > webapp.MaxLinesHeads {
			return fmt.Errorf("heads: at most %d at once", webapp.MaxLinesHeads)
		}
		heads := make([]int, n)
		for i := range heads {
			x := h.Index(i)
			if x.Type() != js.TypeNumber || x.Float() != float64(int(x.Float())) {
				return errors.New("heads must be whole numbers")
			}
			heads[i] = x.Int()
		}
		st.Heads = heads
	default:
		return errors.New("heads must be an array of head numbers, 'all' or null")
	}
	return nil
}

// render draws the current view and puts it on the attached canvas.
func (a *app) render() error {
	img, err := a.viewer.Render(a.tr)
	if err != nil {
		return err
	}
	a.img = img
	a.lastDrw = time.Now()
	a.draw()
	return nil
}

func (a *app) draw() {
	if a.img == nil || !a.canvas.Truthy() {
		return
	}
	b := a.img.Bounds()
	w, h := b.Dx(), b.Dy()
	px := global.Get("Uint8ClampedArray").New(len(a.img.Pix))
	js.CopyBytesToJS(px, a.img.Pix)
	a.canvas.Set("width", w)
	a.canvas.Set("height", h)
	ctx := a.canvas.Call("getContext", "2d")
	ctx.Call("putImageData", global.Get("ImageData").New(px, w, h), 0, 0)
	a.canvas.Call("dispatchEvent", global.Get("Event").New("attnscope-drawn"))
}

func (a *app) exportPNG() (any, error) {
	if a.img == nil {
		return nil, errors.New("nothing is drawn yet")
	}
	var buf bytes.Buffer
	if err := paint.WritePNG(&buf, a.img); err != nil {
		return nil, err
	}
	u8 := global.Get("Uint8Array").New(buf.Len())
	js.CopyBytesToJS(u8, buf.Bytes())
	parts := global.Get("Array").New(u8)
	opts := global.Get("Object").New()
	opts.Set("type", "image/png")
	return global.Get("Blob").New(parts, opts), nil
}
