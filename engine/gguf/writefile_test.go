package gguf

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	b := NewBuilder()
	if err := b.AddKV("general.name", ValueOf("x")); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "m.gguf")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := b.WriteFile(ctx, path); err == nil {
		t.Fatal("cancelled write succeeded")
	}
	if got, _ := os.ReadFile(path); string(got) != "old" {
		t.Fatalf("cancelled write changed the file: %q", got)
	}
	n, err := b.WriteFile(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if name, _ := f.String("general.name"); name != "x" || f.Size != n {
		t.Fatalf("read back name %q, %d bytes (wrote %d)", name, f.Size, n)
	}
	if _, err := b.WriteFile(context.Background(), dir); err == nil {
		t.Fatal("writing over a directory succeeded")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("%d files left in the directory, want 1", len(entries))
	}
}
