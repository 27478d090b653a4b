package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/chromedp"
)

// browser is one headless Chromium with a fresh profile; each measurement gets its own tab.
type browser struct {
	ctx     context.Context
	cancel  func()
	profile string
}

func newBrowser(ctx context.Context, c *config) (*browser, error) {
	chrome, err := exec.LookPath(c.chrome)
	if err != nil {
		return nil, fmt.Errorf("%s not found (Debian: apt-get install chromium): %w", c.chrome, err)
	}
	profile, err := os.MkdirTemp("", "attnscope-bench-chromium-")
	if err != nil {
		return nil, err
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chrome),
		chromedp.Flag("headless", "new"),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile),
	}
	actx, cancelA := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelB := chromedp.NewContext(actx)
	if err := chromedp.Do(bctx); err != nil { // starts the browser
		cancelB()
		cancelA()
		os.RemoveAll(profile)
		return nil, fmt.Errorf("starting %s: %w", chrome, err)
	}
	return &browser{ctx: bctx, cancel: func() { cancelB(); cancelA() }, profile: profile}, nil
}

func (b *browser) close() {
	b.cancel()
	os.RemoveAll(b.profile)
}

// eval opens page in a new tab, waits for ready (a JavaScript expression) to be true, awaits
// call and returns the string it resolves to. Console errors of the page come with a failure.
func (b *browser) eval(c *config, page, ready, call string) (string, error) {
	tctx, cancel := chromedp.NewContext(b.ctx)
	defer cancel()
	if err := chromedp.Do(tctx, chromedp.Navigate(page)); err != nil { // opens the tab
		return "", fmt.Errorf("chromium: %s: %w", page, err)
	}
	// The page's console, kept to explain a failure.
	lctx, stopLog := context.WithCancel(tctx)
	var mu sync.Mutex
	var console []string
	done := make(chan struct{})
	messages := chromedp.Console(lctx)
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return
			}
			mu.Lock()
			console = append(console, fmt.Sprintf("[%s] %s", m.Type, m.Text))
			if len(console) > 40 {
				console = console[len(console)-40:]
			}
			mu.Unlock()
		}
	}()
	defer func() { stopLog(); <-done }()
	withConsole := func(err error) error {
		mu.Lock()
		defer mu.Unlock()
		if len(console) == 0 {
			return err
		}
		return fmt.Errorf("%w\nthe page's console (last lines):\n  %s", err, strings.Join(console, "\n  "))
	}
	if _, err := chromedp.Run(tctx, chromedp.Poll[bool](ready, chromedp.WithPollingTimeout(time.Minute))); err != nil {
		return "", withConsole(fmt.Errorf("chromium: %s did not get ready (%s): %w", page, ready, err))
	}
	ectx, cancelE := context.WithTimeout(tctx, c.timeout)
	defer cancelE()
	out, err := chromedp.Run(ectx, chromedp.Evaluate[string](call, chromedp.EvalAwaitPromise))
	if err != nil {
		if ectx.Err() != nil {
			return "", withConsole(fmt.Errorf("chromium: no result within %v", c.timeout))
		}
		return "", withConsole(fmt.Errorf("chromium: %w", err))
	}
	return out, nil
}

func (b *browser) runOurs(c *config, s *server, bd build, model string) (engineResult, error) {
	name := filepath.Base(model)
	call := fmt.Sprintf("runOurs(%s, %s, %s, %d, %d, %d, %t)", js("/wasm/"+bd.name+".wasm"), js("/models/"+name), js(name),
		c.promptTokens, c.genTokens, c.runs, c.noWarmup)
	text, err := b.eval(c, s.url+"/ours.html", "typeof runOurs === 'function'", call)
	if err != nil {
		return engineResult{}, err
	}
	return parseResult(text)
}

func (b *browser) runWllama(c *config, s *server, model string) (engineResult, error) {
	text, bans, err := promptAndBans(model, c.promptTokens)
	if err != nil {
		return engineResult{}, err
	}
	bansJSON, _ := json.Marshal(bans)
	name := filepath.Base(model)
	call := fmt.Sprintf("runWllama(%s, %s, %s, %d, %d, %d, %t)", js(s.url+"/models/"+name), js(text), bansJSON,
		c.promptTokens, c.genTokens, c.runs, c.noWarmup)
	out, err := b.eval(c, s.url+"/wllama.html", "window.wllamaReady === true", call)
	if err != nil {
		return engineResult{}, err
	}
	return parseResult(out)
}

// js quotes a string as a JavaScript literal.
func js(s string) string {
	b, _ := json.Marshal(s)
	return strings.ReplaceAll(string(b), "</", "<\\/")
}
