package gguf

import (
	"fmt"
	"slices"
)

// checkLayout verifies that every tensor is aligned, lies inside the file and overlaps no
// other. Tensors may appear in any order with gaps between them (ggml itself writes them
// back to back in info order, which Builder does too).
func (f *File) checkLayout() error {
	dataLen := max(f.Size-f.DataOffset, 0)
	align := uint64(f.Alignment)
	for i := range f.Tensors {
		t := &f.Tensors[i]
		if t.Offset%align != 0 {
			return fmt.Errorf("tensor %q: offset %d is not a multiple of the alignment %d: %w", t.Name, t.Offset, align, ErrCorrupt)
		}
		if t.Offset > uint64(dataLen) || uint64(t.Size) > uint64(dataLen)-t.Offset {
			return fmt.Errorf("tensor %q: its %d bytes at offset %d run past the end of the file (the data section at byte %d holds %d bytes): %w",
				t.Name, t.Size, t.Offset, f.DataOffset, dataLen, ErrTruncated)
		}
	}
	order := make([]*TensorInfo, len(f.Tensors))
	for i := range f.Tensors {
		order[i] = &f.Tensors[i]
	}
	slices.SortFunc(order, func(a, b *TensorInfo) int {
		switch {
		case a.Offset < b.Offset:
			return -1
		case a.Offset > b.Offset:
			return 1
		}
		return 0
	})
	for k := 1; k < len(order); k++ {
		p, q := order[k-1], order[k]
		if end := p.Offset + uint64(p.Size); end > q.Offset {
			return fmt.Errorf("tensors %q (bytes %d to %d of the data section) and %q (from byte %d) overlap: %w",
				p.Name, p.Offset, end, q.Name, q.Offset, ErrCorrupt)
		}
	}
	return nil
}
