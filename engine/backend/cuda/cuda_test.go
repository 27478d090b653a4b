package cuda

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/attnscope/attnscope/engine/backend"
	"github.com/attnscope/attnscope/engine/backend/backendtest"
)

// openOrSkip opens GPU 0, or skips saying why; with ATTNSCOPE_REQUIRE_CUDA=1 a missing GPU fails.
func openOrSkip(t testing.TB) *Backend {
	t.Helper()
	b, err := Open(0)
	if err != nil {
		if os.Getenv("ATTNSCOPE_REQUIRE_CUDA") == "1" {
			t.Fatalf("ATTNSCOPE_REQUIRE_CUDA=1 but: %v", err)
		}
		t.Skipf("no CUDA device: %v", err)
	}
	return b
}

func TestConformance(t *testing.T) {
	b := openOrSkip(t)
	info := b.Info()
	b.Close()
	t.Logf("%s, compute capability %d.%d, %d SMs, %.1f GiB, driver %d", info.Name, info.Major, info.Minor, info.SMs,
		float64(info.TotalBytes)/(1<<30), info.DriverVersion)
	backendtest.Run(t, func() backend.Backend { return openOrSkip(t) })
	backendtest.RunDevice(t, func() backend.Device { return openOrSkip(t) })
}

// Without a driver Open says so and wraps backend.ErrUnavailable; with one it opens.
func TestOpenReportsUnavailable(t *testing.T) {
	b, err := Open(0)
	if err == nil {
		b.Close()
		t.Skip("a CUDA device is present")
	}
	if !errors.Is(err, backend.ErrUnavailable) {
		t.Errorf("Open without a device: %v does not wrap ErrUnavailable", err)
	}
	if !strings.Contains(err.Error(), "backend unavailable: ") || len(err.Error()) < 30 {
		t.Errorf("Open's error does not say why: %q", err)
	}
	t.Logf("Open(0): %v", err)
}

// The embedded PTX lists the kernels the Go side launches.
func TestPTXHasKernels(t *testing.T) {
	have := map[string]bool{}
	files, _ := filepath.Glob("ptx/*.ptx")
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries(src) {
			have[e] = true
		}
	}
	var want []string
	for _, s := range []string{"f32", "f16", "q8_0", "q4_0"} {
		want = append(want, "mv_"+s, "mm_"+s, "rows_"+s)
	}
	want = append(want, "rmsnorm", "layernorm", "rope", "swiglu", "gelu", "add", "add_rows", "softmax_rows",
		"attn_flash_32", "attn_flash_64", "attn_flash_128", "attn_flash_256", "attn_probs")
	for _, k := range want {
		if !have[k] {
			t.Errorf("no kernel %s in ptx/", k)
		}
	}
}

// PTXCommand is how `make ptx` compiles one kernel file (kept in step with the Makefile).
func ptxCommand(clang, src, out string) *exec.Cmd {
	return exec.Command(clang, "-x", "cuda", "--cuda-device-only", "--cuda-gpu-arch=sm_80", "-nocudainc", "-nocudalib",
		"-O3", "-S", "-Xclang", "-target-feature", "-Xclang", "+ptx70", "-Ikernels", src, "-o", out)
}

// The committed PTX is what the committed sources compile to.
func TestPTXMatchesSources(t *testing.T) {
	clang, err := exec.LookPath("clang++-14")
	if err != nil {
		t.Skip("clang++-14 is not installed (make ptx needs it): the PTX cannot be regenerated here")
	}
	srcs, _ := filepath.Glob("kernels/*.cu")
	if len(srcs) == 0 {
		t.Fatal("no kernels/*.cu")
	}
	dir := t.TempDir()
	for _, src := range srcs {
		name := strings.TrimSuffix(filepath.Base(src), ".cu") + ".ptx"
		out := filepath.Join(dir, name)
		if msg, err := ptxCommand(clang, src, out).CombinedOutput(); err != nil {
			t.Fatalf("compiling %s: %v\n%s", src, err, msg)
		}
		got, _ := os.ReadFile(out)
		committed, err := os.ReadFile(filepath.Join("ptx", name))
		if err != nil {
			t.Errorf("%s has no committed ptx/%s (run make ptx)", src, name)
			continue
		}
		if !bytes.Equal(got, committed) {
			t.Errorf("ptx/%s is stale: run make ptx and commit it", name)
		}
	}
}
