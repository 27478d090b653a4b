// Package shareddata locates the shared test models and llama.cpp reference outputs
// ($ATTNSCOPE_TESTDATA, default ../shared from the repository root) for tests, and decodes the
// reference JSON files. Tests that need them skip with a clear message when they are absent,
// unless ATTNSCOPE_REQUIRE_TESTDATA=1, which makes their absence a failure.
package shareddata

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Root returns the shared test-data directory, or "" if it does not exist.
func Root() string {
	dir := os.Getenv("ATTNSCOPE_TESTDATA")
	if dir == "" {
		_, file, _, ok := runtime.Caller(0)
		if !ok {
			return ""
		}
		// file is <repo>/internal/testdata/testdata.go; shared sits beside the repository.
		dir = filepath.Join(filepath.Dir(file), "..", "..", "..", "shared")
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return ""
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return dir
	}
	return abs
}

// Required reports whether ATTNSCOPE_REQUIRE_TESTDATA=1 is set.
func Required() bool { return os.Getenv("ATTNSCOPE_REQUIRE_TESTDATA") == "1" }

// Path returns the path of a file under the shared directory (e.g. "models/stories260K.gguf"),
// skipping the test (or failing it when test data is required) if the file is absent.
func Path(tb testing.TB, rel string) string {
	tb.Helper()
	root := Root()
	if root == "" {
		missing(tb, "the shared test-data directory (set ATTNSCOPE_TESTDATA, default ../shared) is absent")
		return ""
	}
	p := filepath.Join(root, rel)
	if _, err := os.Stat(p); err != nil {
		missing(tb, "test data "+p+" is absent")
		return ""
	}
	return p
}

// Model is Path(tb, "models/"+name).
func Model(tb testing.TB, name string) string {
	tb.Helper()
	return Path(tb, filepath.Join("models", name))
}

func missing(tb testing.TB, why string) {
	tb.Helper()
	if Required() {
		tb.Fatalf("%s, and ATTNSCOPE_REQUIRE_TESTDATA=1 requires it", why)
	}
	tb.Skipf("skipping: %s", why)
}

// LoadJSON decodes a file under the shared directory into v (skipping like Path if absent).
func LoadJSON(tb testing.TB, rel string, v any) {
	tb.Helper()
	p := Path(tb, rel)
	b, err := os.ReadFile(p)
	if err != nil {
		tb.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		tb.Fatalf("%s: %v", p, err)
	}
}
