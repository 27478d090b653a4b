package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/attnscope/attnscope/viz/paint"
)

func init() {
	register(command{"serve", "serve the browser app (web/) and the shipped models on 127.0.0.1", cmdServe})
}

func cmdServe(args []string, stdout io.Writer) error {
	fs := newFlags("serve")
	port := fs.Int("port", 8080, "TCP `port` on 127.0.0.1 (0: any free port)")
	dir := fs.String("dir", "web", "`directory` of the page (index.html, attnscope.wasm, wasm_exec.js)")
	models := fs.String("models", "models", "`directory` of GGUF models served at /models/")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *port < 0 || *port > 65535 {
		return fmt.Errorf("--port %d: use 0 to 65535", *port)
	}
	if st, err := os.Stat(*dir); err != nil || !st.IsDir() {
		return fmt.Errorf("--dir %s: not a directory (build the page with `make wasm`)", *dir)
	}
	if _, err := os.Stat(filepath.Join(*dir, "attnscope.wasm")); err != nil {
		fmt.Fprintf(diag, "note: %s has no attnscope.wasm yet: run `make wasm`\n", *dir)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", fmt.Sprint(*port)))
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: newServeHandler(*dir, *models), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "attnscope: serving %s at http://%s/ (models from %s; Ctrl-C stops)\n", *dir, ln.Addr(), *models)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(shut)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// serveTypes are the content types the page needs exactly (the system's mime table varies).
var serveTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".mjs":  "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".json": "application/json",
	".wasm": "application/wasm",
	".gguf": "application/octet-stream",
	".png":  "image/png",
	".svg":  "image/svg+xml",
	".ttf":  "font/ttf",
	".otf":  "font/otf",
	".txt":  "text/plain; charset=utf-8",
	".md":   "text/plain; charset=utf-8",
}

func contentType(name string) string {
	ext := strings.ToLower(path.Ext(name))
	if t, ok := serveTypes[ext]; ok {
		return t
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return "application/octet-stream"
}

// compressible reports whether responses of this type are worth gzipping.
func compressible(ctype string) bool {
	return strings.HasPrefix(ctype, "text/") || strings.HasPrefix(ctype, "application/json") ||
		ctype == "application/wasm" || ctype == "image/svg+xml" || ctype == "font/ttf" || ctype == "font/otf"
}

// fileServer serves the page directory, /models/ and /fonts/hangul.ttf.
type fileServer struct {
	dir, models string
	mu          sync.Mutex
	gz          map[string]gzEntry // by file path: gzipped bytes of the version with that mtime and size
}

type gzEntry struct {
	mod  time.Time
	size int64
	data []byte
}

func newServeHandler(dir, models string) http.Handler {
	return &fileServer{dir: dir, models: models, gz: map[string]gzEntry{}}
}

func (s *fileServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := path.Clean("/" + r.URL.Path)
	for _, part := range strings.Split(p, "/") {
		if strings.HasPrefix(part, ".") {
			http.NotFound(w, r)
			return
		}
	}
	switch {
	case p == "/models/index.json" || p == "/models":
		s.serveModelList(w, r)
		return
	case strings.HasPrefix(p, "/models/"):
		name := strings.TrimPrefix(p, "/models/")
		if strings.Contains(name, "/") || !strings.HasSuffix(strings.ToLower(name), ".gguf") {
			http.NotFound(w, r)
			return
		}
		s.serveFile(w, r, filepath.Join(s.models, name), name)
		return
	case p == "/fonts/hangul.ttf":
		// A copy in the page directory wins; otherwise the system's Hangul font, if any.
		if f := filepath.Join(s.dir, "fonts", "hangul.ttf"); exists(f) {
			s.serveFile(w, r, f, p)
			return
		}
		for _, f := range paint.HangulFontPaths {
			if strings.HasSuffix(f, ".ttf") && exists(f) {
				s.serveFile(w, r, f, p)
				return
			}
		}
		http.NotFound(w, r)
		return
	}
	name := strings.TrimPrefix(p, "/")
	if name == "" || strings.HasSuffix(p, "/") {
		name = path.Join(name, "index.html")
	}
	s.serveFile(w, r, filepath.Join(s.dir, filepath.FromSlash(name)), name)
}

func exists(f string) bool {
	st, err := os.Stat(f)
	return err == nil && st.Mode().IsRegular()
}

// serveFile sends one regular file, gzipped when the client takes it and the type compresses.
func (s *fileServer) serveFile(w http.ResponseWriter, r *http.Request, file, name string) {
	f, err := os.Open(file)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		if err == nil && st.IsDir() {
			http.Redirect(w, r, strings.TrimSuffix(r.URL.Path, "/")+"/", http.StatusMovedPermanently)
			return
		}
		http.NotFound(w, r)
		return
	}
	ctype := contentType(name)
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Cache-Control", "no-cache") // revalidate: rebuilt files show up at once
	h.Set("X-Content-Type-Options", "nosniff")
	if !compressible(ctype) {
		http.ServeContent(w, r, name, st.ModTime(), f)
		return
	}
	h.Add("Vary", "Accept-Encoding")
	if !acceptsGzip(r) {
		http.ServeContent(w, r, name, st.ModTime(), f)
		return
	}
	data, err := s.gzipped(file, st, f)
	if err != nil {
		http.Error(w, "reading "+name+" failed", http.StatusInternalServerError)
		return
	}
	h.Set("Content-Encoding", "gzip")
	h.Set("ETag", fmt.Sprintf(`"gz-%x-%x"`, st.ModTime().UnixNano(), st.Size()))
	http.ServeContent(w, r, name, st.ModTime(), bytes.NewReader(data))
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") && strings.ReplaceAll(strings.TrimSpace(q), " ", "") != "q=0" {
			return true
		}
	}
	return false
}

// gzipped returns the file's gzipped bytes, compressing once per version of the file.
func (s *fileServer) gzipped(file string, st fs.FileInfo, f io.Reader) ([]byte, error) {
	s.mu.Lock()
	e, ok := s.gz[file]
	s.mu.Unlock()
	if ok && e.mod.Equal(st.ModTime()) && e.size == st.Size() {
		return e.data, nil
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
	if _, err := io.Copy(zw, f); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.gz[file] = gzEntry{mod: st.ModTime(), size: st.Size(), data: buf.Bytes()}
	s.mu.Unlock()
	return buf.Bytes(), nil
}

// modelEntry is one file of /models/index.json.
type modelEntry struct {
	Name  string `json:"name"`
	URL   string `json:"url"`
	Bytes int64  `json:"bytes"`
}

// serveModelList lists the .gguf files of the models directory as JSON.
func (s *fileServer) serveModelList(w http.ResponseWriter, r *http.Request) {
	list := []modelEntry{}
	ents, _ := os.ReadDir(s.models)
	for _, e := range ents {
		n := e.Name()
		if strings.HasPrefix(n, ".") || !strings.HasSuffix(strings.ToLower(n), ".gguf") {
			continue
		}
		st, err := os.Stat(filepath.Join(s.models, n))
		if err != nil || !st.Mode().IsRegular() {
			continue
		}
		list = append(list, modelEntry{Name: n, URL: "models/" + url.PathEscape(n), Bytes: st.Size()})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	json.NewEncoder(w).Encode(list)
}
