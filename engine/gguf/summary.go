package gguf

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/attnscope/attnscope/engine/quant"
)

// KeyFileType is the metadata key holding llama.cpp's file type (see FileTypeName).
const KeyFileType = "general.file_type"

// fileTypeNames are llama.cpp's llama_ftype names, less the LLAMA_FTYPE_ prefix.
var fileTypeNames = map[uint64]string{
	0: "ALL_F32", 1: "MOSTLY_F16", 2: "MOSTLY_Q4_0", 3: "MOSTLY_Q4_1", 4: "MOSTLY_Q4_1_SOME_F16",
	5: "MOSTLY_Q4_2", 6: "MOSTLY_Q4_3", 7: "MOSTLY_Q8_0", 8: "MOSTLY_Q5_0", 9: "MOSTLY_Q5_1",
	10: "MOSTLY_Q2_K", 11: "MOSTLY_Q3_K_S", 12: "MOSTLY_Q3_K_M", 13: "MOSTLY_Q3_K_L",
	14: "MOSTLY_Q4_K_S", 15: "MOSTLY_Q4_K_M", 16: "MOSTLY_Q5_K_S", 17: "MOSTLY_Q5_K_M",
	18: "MOSTLY_Q6_K", 19: "MOSTLY_IQ2_XXS", 20: "MOSTLY_IQ2_XS", 21: "MOSTLY_Q2_K_S",
	22: "MOSTLY_IQ3_XS", 23: "MOSTLY_IQ3_XXS", 24: "MOSTLY_IQ1_S", 25: "MOSTLY_IQ4_NL",
	26: "MOSTLY_IQ3_S", 27: "MOSTLY_IQ3_M", 28: "MOSTLY_IQ2_S", 29: "MOSTLY_IQ2_M",
	30: "MOSTLY_IQ4_XS", 31: "MOSTLY_IQ1_M", 32: "MOSTLY_BF16", 33: "MOSTLY_Q4_0_4_4",
	34: "MOSTLY_Q4_0_4_8", 35: "MOSTLY_Q4_0_8_8", 36: "MOSTLY_TQ1_0", 37: "MOSTLY_TQ2_0",
	38: "MOSTLY_MXFP4_MOE", 1024: "GUESSED",
}

// FileTypeName names a general.file_type value as llama.cpp does ("MOSTLY_Q8_0" for 7), or
// "file_type(N)" for a number it does not know.
func FileTypeName(ft uint64) string {
	if s, ok := fileTypeNames[ft]; ok {
		return s
	}
	return fmt.Sprintf("file_type(%d)", ft)
}

// TypeCount is how many tensors of one element type a file holds.
type TypeCount struct {
	Type     quant.Type
	Tensors  int
	Elements uint64
	Bytes    int64
}

// Summary is an overview of a file for display.
type Summary struct {
	Version      uint32
	Architecture string // general.architecture, "" if absent
	Name         string // general.name, "" if absent
	FileType     int64  // general.file_type, -1 if absent
	FileTypeName string // FileTypeName(FileType), "" if absent
	Alignment    int
	Keys         []string    // metadata keys in file order
	Tensors      int         // number of tensors
	Types        []TypeCount // per element type, in ggml's type order
	Elements     uint64      // parameters: elements of all tensors
	TensorBytes  int64       // bytes of all tensors
	DataOffset   int64
	Size         int64
}

// Summary collects an overview of the file.
func (f *File) Summary() Summary {
	s := Summary{
		Version:      f.Version,
		Architecture: f.Architecture(),
		FileType:     -1,
		Alignment:    f.Alignment,
		Tensors:      len(f.Tensors),
		DataOffset:   f.DataOffset,
		Size:         f.Size,
	}
	s.Name, _ = f.String("general.name")
	if ft, ok := f.Uint(KeyFileType); ok && ft <= math.MaxInt64 {
		s.FileType, s.FileTypeName = int64(ft), FileTypeName(ft)
	}
	for _, kv := range f.KVs {
		s.Keys = append(s.Keys, kv.Key)
	}
	byType := map[quant.Type]*TypeCount{}
	for i := range f.Tensors {
		t := &f.Tensors[i]
		c := byType[t.Type]
		if c == nil {
			c = &TypeCount{Type: t.Type}
			byType[t.Type] = c
		}
		c.Tensors++
		c.Elements += t.Elements()
		c.Bytes += t.Size
		s.Elements += t.Elements()
		s.TensorBytes += t.Size
	}
	for _, c := range byType {
		s.Types = append(s.Types, *c)
	}
	slices.SortFunc(s.Types, func(a, b TypeCount) int { return int(a.Type) - int(b.Type) })
	return s
}

// String formats the summary as a few lines of text.
func (s Summary) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "GGUF v%d, %d bytes, alignment %d, data at byte %d\n", s.Version, s.Size, s.Alignment, s.DataOffset)
	if s.Architecture != "" || s.Name != "" {
		fmt.Fprintf(&b, "architecture %q, name %q\n", s.Architecture, s.Name)
	}
	if s.FileType >= 0 {
		fmt.Fprintf(&b, "file type %d (%s)\n", s.FileType, s.FileTypeName)
	}
	fmt.Fprintf(&b, "%d metadata keys, %d tensors, %d parameters in %d bytes\n", len(s.Keys), s.Tensors, s.Elements, s.TensorBytes)
	for _, c := range s.Types {
		fmt.Fprintf(&b, "  %-8s %5d tensors %12d parameters %12d bytes\n", c.Type, c.Tensors, c.Elements, c.Bytes)
	}
	return b.String()
}
