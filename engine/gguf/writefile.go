package gguf

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
)

// WriteFile writes b to path atomically: into a temporary file in the same directory, synced,
// then renamed over path. On any error, or when ctx is done before the rename, the temporary
// file is removed and path is left as it was. It returns the bytes written.
func (b *Builder) WriteFile(ctx context.Context, path string) (int64, error) {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return 0, fmt.Errorf("%s is a directory", path)
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return 0, err
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	bw := bufio.NewWriterSize(tmp, 1<<20)
	n, err := b.WriteTo(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = tmp.Sync()
	}
	if err == nil {
		err = tmp.Chmod(0o644)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil && ctx != nil {
		err = ctx.Err() // done after the last byte: still leave path alone
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return n, err
	}
	done = true
	return n, nil
}
