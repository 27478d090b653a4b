package gguf

import (
	"os"
	"path/filepath"
	"testing"
)

func TestSmokeShared(t *testing.T) {
	files, _ := filepath.Glob("../../../shared/models/*.gguf")
	for _, p := range files {
		f, err := Open(p)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		t.Logf("%s: v%d arch=%s kvs=%d tensors=%d", filepath.Base(p), f.Version, f.Architecture(), len(f.KVs), len(f.Tensors))
		f.Close()
	}
	_ = os.Getenv
}
