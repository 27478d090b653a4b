package main

import (
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestServeTypesAndGzip(t *testing.T) {
	web, models := t.TempDir(), t.TempDir()
	files := map[string]string{
		"index.html":     "<!doctype html><p>hi</p>",
		"app.js":         strings.Repeat("console.log(1);\n", 200),
		"style.css":      "body{}",
		"attnscope.wasm": "\x00asm" + strings.Repeat("\x01", 4000),
		".secret":        "no",
	}
	for n, c := range files {
		if err := os.WriteFile(filepath.Join(web, n), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gguf := "GGUF" + strings.Repeat("\x00", 100)
	os.WriteFile(filepath.Join(models, "m.gguf"), []byte(gguf), 0o644)
	os.WriteFile(filepath.Join(models, "notes.txt"), []byte("x"), 0o644)
	srv := httptest.NewServer(newServeHandler(web, models))
	defer srv.Close()

	get := func(path string, gz bool) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		if gz {
			req.Header.Set("Accept-Encoding", "gzip")
		} else {
			req.Header.Set("Accept-Encoding", "identity")
		}
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var r io.Reader = resp.Body
		if resp.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(resp.Body)
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			r = zr
		}
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		return resp, string(b)
	}
	for _, c := range []struct{ path, ctype, body string }{
		{"/", "text/html; charset=utf-8", files["index.html"]},
		{"/app.js", "text/javascript; charset=utf-8", files["app.js"]},
		{"/style.css", "text/css; charset=utf-8", files["style.css"]},
		{"/attnscope.wasm", "application/wasm", files["attnscope.wasm"]},
		{"/models/m.gguf", "application/octet-stream", gguf},
	} {
		for _, gz := range []bool{false, true} {
			resp, body := get(c.path, gz)
			if resp.StatusCode != 200 {
				t.Fatalf("%s: status %d", c.path, resp.StatusCode)
			}
			if got := resp.Header.Get("Content-Type"); got != c.ctype {
				t.Errorf("%s: Content-Type %q, want %q", c.path, got, c.ctype)
			}
			if body != c.body {
				t.Errorf("%s (gzip %v): body differs", c.path, gz)
			}
			enc := resp.Header.Get("Content-Encoding")
			wantGz := gz && c.ctype != "application/octet-stream"
			if (enc == "gzip") != wantGz {
				t.Errorf("%s (accept gzip %v): Content-Encoding %q", c.path, gz, enc)
			}
		}
	}
	for _, p := range []string{"/.secret", "/models/notes.txt", "/models/../app.js", "/nope.js"} {
		if resp, _ := get(p, false); resp.StatusCode != 404 && !(p == "/models/../app.js" && resp.StatusCode == 200) {
			t.Errorf("%s: status %d, want 404", p, resp.StatusCode)
		}
	}
	resp, body := get("/models/index.json", true)
	var list []modelEntry
	if err := json.Unmarshal([]byte(body), &list); err != nil || resp.StatusCode != 200 {
		t.Fatalf("models list: %v %q", err, body)
	}
	if len(list) != 1 || list[0].Name != "m.gguf" || list[0].URL != "models/m.gguf" || list[0].Bytes != int64(len(gguf)) {
		t.Errorf("models list %+v", list)
	}
}
