package gguf

import (
	"fmt"
	"io"
)

// Get returns the metadata value stored under key.
func (f *File) Get(key string) (Value, bool) {
	i, ok := f.kvIdx[key]
	if !ok {
		return Value{}, false
	}
	return f.KVs[i].Value, true
}

// String returns a string value.
func (f *File) String(key string) (string, bool) {
	v, ok := f.Get(key)
	s, isStr := v.V.(string)
	return s, ok && isStr
}

// Uint returns a non-negative integer value of any width.
func (f *File) Uint(key string) (uint64, bool) {
	v, ok := f.Get(key)
	if !ok {
		return 0, false
	}
	return v.Uint()
}

// Float returns a float (or integer) value.
func (f *File) Float(key string) (float64, bool) {
	v, ok := f.Get(key)
	if !ok {
		return 0, false
	}
	return v.Float()
}

// Bool returns a bool value.
func (f *File) Bool(key string) (bool, bool) {
	v, ok := f.Get(key)
	b, isBool := v.V.(bool)
	return b, ok && isBool
}

// Strings returns an array of strings.
func (f *File) Strings(key string) ([]string, bool) {
	v, ok := f.Get(key)
	s, isArr := v.V.([]string)
	return s, ok && isArr
}

// Float32s returns an array of float32.
func (f *File) Float32s(key string) ([]float32, bool) {
	v, ok := f.Get(key)
	s, isArr := v.V.([]float32)
	return s, ok && isArr
}

// Int32s returns an array of int32 (as GGUF stores token types).
func (f *File) Int32s(key string) ([]int32, bool) {
	v, ok := f.Get(key)
	s, isArr := v.V.([]int32)
	return s, ok && isArr
}

// Tensor returns the info of the named tensor.
func (f *File) Tensor(name string) (*TensorInfo, bool) {
	i, ok := f.tIdx[name]
	if !ok {
		return nil, false
	}
	return &f.Tensors[i], true
}

// ReadTensor reads the tensor's bytes into dst, which must be exactly t.Size long.
func (f *File) ReadTensor(t *TensorInfo, dst []byte) error {
	if int64(len(dst)) != t.Size {
		panic(fmt.Sprintf("gguf: ReadTensor %q: buffer of %d bytes for %d", t.Name, len(dst), t.Size))
	}
	at := f.DataOffset + int64(t.Offset)
	n, err := f.r.ReadAt(dst, at)
	if n == len(dst) {
		return nil // a ReaderAt may report io.EOF with the last byte
	}
	if err == io.EOF || err == nil {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("gguf: tensor %q: read %d of its %d bytes at byte %d: %w", t.Name, n, t.Size, at, err)
}

// TensorData returns a new buffer holding the tensor's bytes. The size was checked against the
// file's length when the header was parsed.
func (f *File) TensorData(t *TensorInfo) ([]byte, error) {
	b := make([]byte, t.Size)
	if err := f.ReadTensor(t, b); err != nil {
		return nil, err
	}
	return b, nil
}

// Architecture returns general.architecture ("" if absent).
func (f *File) Architecture() string {
	s, _ := f.String("general.architecture")
	return s
}
