package quant

import (
	"encoding/binary"
	"math"
)

// The block layouts, field for field and byte for byte as ggml-common.h defines them. Scales
// named D, M, S and Dmin are binary16 bits (F16ToF32 reads them) except BlockQ8K.D, a float32.
// Multi-byte fields are little-endian. Load and Store copy one block from and to its stored
// bytes; they panic if the slice is shorter than the block.

// BlockQ4_0 holds 32 weights w = D·(q−8), q a 4-bit value: Qs[j] holds element j in its low
// nibble and element j+16 in its high nibble. 18 bytes.
type BlockQ4_0 struct {
	D  uint16
	Qs [QK / 2]uint8
}

// BlockQ4_1 holds 32 weights w = D·q + M, q a 4-bit value packed as in BlockQ4_0. 20 bytes.
type BlockQ4_1 struct {
	D, M uint16
	Qs   [QK / 2]uint8
}

// BlockQ5_0 holds 32 weights w = D·(q−16), q a 5-bit value: the low four bits packed as in
// BlockQ4_0, the fifth bit of element j in bit j of Qh read as a little-endian uint32. 22 bytes.
type BlockQ5_0 struct {
	D  uint16
	Qh [4]uint8
	Qs [QK / 2]uint8
}

// BlockQ5_1 holds 32 weights w = D·q + M, q a 5-bit value packed as in BlockQ5_0. 24 bytes.
type BlockQ5_1 struct {
	D, M uint16
	Qh   [4]uint8
	Qs   [QK / 2]uint8
}

// BlockQ8_0 holds 32 weights w = D·q, q a signed byte. 34 bytes.
type BlockQ8_0 struct {
	D  uint16
	Qs [QK]int8
}

// BlockQ8_1 holds 32 values w = D·q like BlockQ8_0 plus S = D·Σq, the block sum that the
// Q4_1/Q5_1 dot products use. 36 bytes.
type BlockQ8_1 struct {
	D, S uint16
	Qs   [QK]int8
}

// BlockQ2K is a super-block of 256 weights in 16 groups of 16: w = D·(sc&15)·q − Dmin·(sc>>4),
// sc = Scales[group], q a 2-bit value. In each half of 128 weights, byte l of the half's 32 Qs
// bytes holds elements l, l+32, l+64, l+96 in bit pairs 0, 2, 4, 6. 84 bytes.
type BlockQ2K struct {
	Scales  [QKK / 16]uint8
	Qs      [QKK / 4]uint8
	D, Dmin uint16
}

// BlockQ3K is a super-block of 256 weights in 16 groups of 16: w = D·(s−32)·(q−4), s a 6-bit
// group scale packed into Scales (low nibbles in bytes 0–7, top two bits in bytes 8–11), q a
// 3-bit value: its low two bits packed as in BlockQ2K, its high bit for element e in bit e/32
// of Hmask[e%32]. 110 bytes.
type BlockQ3K struct {
	Hmask  [QKK / 8]uint8
	Qs     [QKK / 4]uint8
	Scales [12]uint8
	D      uint16
}

// BlockQ4K is a super-block of 256 weights in 8 groups of 32: w = D·sc·q − Dmin·m, sc and m
// 6-bit values packed into Scales (see ScaleMinK4), q a 4-bit value; each 32 Qs bytes hold two
// groups, the first in the low nibbles. 144 bytes.
type BlockQ4K struct {
	D, Dmin uint16
	Scales  [12]uint8
	Qs      [QKK / 2]uint8
}

// BlockQ5K is BlockQ4K with 5-bit q: the fifth bit of element l of group 2k is bit 2k of Qh[l],
// of group 2k+1 bit 2k+1. 176 bytes.
type BlockQ5K struct {
	D, Dmin uint16
	Scales  [12]uint8
	Qh      [QKK / 8]uint8
	Qs      [QKK / 2]uint8
}

// BlockQ6K is a super-block of 256 weights in 16 groups of 16: w = D·Scales[group]·(q−32),
// q a 6-bit value, low four bits in Ql, top two in Qh. 210 bytes.
type BlockQ6K struct {
	Ql     [QKK / 2]uint8
	Qh     [QKK / 4]uint8
	Scales [QKK / 16]int8
	D      uint16
}

// BlockQ8K is a super-block of 256 values w = D·q (D a float32) plus BSums, the sums of each
// 16 consecutive q, used by the K-quant dot products. 292 bytes.
type BlockQ8K struct {
	D     float32
	Qs    [QKK]int8
	BSums [QKK / 16]int16
}

var le = binary.LittleEndian

func loadI8(dst []int8, src []byte) {
	for i := range dst {
		dst[i] = int8(src[i])
	}
}

func storeI8(dst []byte, src []int8) {
	for i, v := range src {
		dst[i] = byte(v)
	}
}

// Load reads the block from src[:18].
func (b *BlockQ4_0) Load(src []byte) { _ = src[17]; b.D = le.Uint16(src); copy(b.Qs[:], src[2:]) }

// Store writes the block to dst[:18].
func (b *BlockQ4_0) Store(dst []byte) { _ = dst[17]; le.PutUint16(dst, b.D); copy(dst[2:], b.Qs[:]) }

// Load reads the block from src[:20].
func (b *BlockQ4_1) Load(src []byte) {
	_ = src[19]
	b.D, b.M = le.Uint16(src), le.Uint16(src[2:])
	copy(b.Qs[:], src[4:])
}

// Store writes the block to dst[:20].
func (b *BlockQ4_1) Store(dst []byte) {
	_ = dst[19]
	le.PutUint16(dst, b.D)
	le.PutUint16(dst[2:], b.M)
	copy(dst[4:], b.Qs[:])
}

// Load reads the block from src[:22].
func (b *BlockQ5_0) Load(src []byte) {
	_ = src[21]
	b.D = le.Uint16(src)
	copy(b.Qh[:], src[2:6])
	copy(b.Qs[:], src[6:])
}

// Store writes the block to dst[:22].
func (b *BlockQ5_0) Store(dst []byte) {
	_ = dst[21]
	le.PutUint16(dst, b.D)
	copy(dst[2:6], b.Qh[:])
	copy(dst[6:], b.Qs[:])
}

// Load reads the block from src[:24].
func (b *BlockQ5_1) Load(src []byte) {
	_ = src[23]
	b.D, b.M = le.Uint16(src), le.Uint16(src[2:])
	copy(b.Qh[:], src[4:8])
	copy(b.Qs[:], src[8:])
}

// Store writes the block to dst[:24].
func (b *BlockQ5_1) Store(dst []byte) {
	_ = dst[23]
	le.PutUint16(dst, b.D)
	le.PutUint16(dst[2:], b.M)
	copy(dst[4:8], b.Qh[:])
	copy(dst[8:], b.Qs[:])
}

// Load reads the block from src[:34].
func (b *BlockQ8_0) Load(src []byte) { _ = src[33]; b.D = le.Uint16(src); loadI8(b.Qs[:], src[2:]) }

// Store writes the block to dst[:34].
func (b *BlockQ8_0) Store(dst []byte) { _ = dst[33]; le.PutUint16(dst, b.D); storeI8(dst[2:], b.Qs[:]) }

// Load reads the block from src[:36].
func (b *BlockQ8_1) Load(src []byte) {
	_ = src[35]
	b.D, b.S = le.Uint16(src), le.Uint16(src[2:])
	loadI8(b.Qs[:], src[4:])
}

// Store writes the block to dst[:36].
func (b *BlockQ8_1) Store(dst []byte) {
	_ = dst[35]
	le.PutUint16(dst, b.D)
	le.PutUint16(dst[2:], b.S)
	storeI8(dst[4:], b.Qs[:])
}

// Load reads the block from src[:84].
func (b *BlockQ2K) Load(src []byte) {
	_ = src[83]
	copy(b.Scales[:], src[0:16])
	copy(b.Qs[:], src[16:80])
	b.D, b.Dmin = le.Uint16(src[80:]), le.Uint16(src[82:])
}

// Store writes the block to dst[:84].
func (b *BlockQ2K) Store(dst []byte) {
	_ = dst[83]
	copy(dst[0:16], b.Scales[:])
	copy(dst[16:80], b.Qs[:])
	le.PutUint16(dst[80:], b.D)
	le.PutUint16(dst[82:], b.Dmin)
}

// Load reads the block from src[:110].
func (b *BlockQ3K) Load(src []byte) {
	_ = src[109]
	copy(b.Hmask[:], src[0:32])
	copy(b.Qs[:], src[32:96])
	copy(b.Scales[:], src[96:108])
	b.D = le.Uint16(src[108:])
}

// Store writes the block to dst[:110].
func (b *BlockQ3K) Store(dst []byte) {
	_ = dst[109]
	copy(dst[0:32], b.Hmask[:])
	copy(dst[32:96], b.Qs[:])
	copy(dst[96:108], b.Scales[:])
	le.PutUint16(dst[108:], b.D)
}

// Load reads the block from src[:144].
func (b *BlockQ4K) Load(src []byte) {
	_ = src[143]
	b.D, b.Dmin = le.Uint16(src), le.Uint16(src[2:])
	copy(b.Scales[:], src[4:16])
	copy(b.Qs[:], src[16:144])
}

// Store writes the block to dst[:144].
func (b *BlockQ4K) Store(dst []byte) {
	_ = dst[143]
	le.PutUint16(dst, b.D)
	le.PutUint16(dst[2:], b.Dmin)
	copy(dst[4:16], b.Scales[:])
	copy(dst[16:144], b.Qs[:])
}

// Load reads the block from src[:176].
func (b *BlockQ5K) Load(src []byte) {
	_ = src[175]
	b.D, b.Dmin = le.Uint16(src), le.Uint16(src[2:])
	copy(b.Scales[:], src[4:16])
	copy(b.Qh[:], src[16:48])
	copy(b.Qs[:], src[48:176])
}

// Store writes the block to dst[:176].
func (b *BlockQ5K) Store(dst []byte) {
	_ = dst[175]
	le.PutUint16(dst, b.D)
	le.PutUint16(dst[2:], b.Dmin)
	copy(dst[4:16], b.Scales[:])
	copy(dst[16:48], b.Qh[:])
	copy(dst[48:176], b.Qs[:])
}

// Load reads the block from src[:210].
func (b *BlockQ6K) Load(src []byte) {
	_ = src[209]
	copy(b.Ql[:], src[0:128])
	copy(b.Qh[:], src[128:192])
	loadI8(b.Scales[:], src[192:208])
	b.D = le.Uint16(src[208:])
}

// Store writes the block to dst[:210].
func (b *BlockQ6K) Store(dst []byte) {
	_ = dst[209]
	copy(dst[0:128], b.Ql[:])
	copy(dst[128:192], b.Qh[:])
	storeI8(dst[192:208], b.Scales[:])
	le.PutUint16(dst[208:], b.D)
}

// Load reads the block from src[:292].
func (b *BlockQ8K) Load(src []byte) {
	_ = src[291]
	b.D = math.Float32frombits(le.Uint32(src))
	loadI8(b.Qs[:], src[4:260])
	for i := range b.BSums {
		b.BSums[i] = int16(le.Uint16(src[260+2*i:]))
	}
}

// Store writes the block to dst[:292].
func (b *BlockQ8K) Store(dst []byte) {
	_ = dst[291]
	le.PutUint32(dst, math.Float32bits(b.D))
	storeI8(dst[4:260], b.Qs[:])
	for i, s := range b.BSums {
		le.PutUint16(dst[260+2*i:], uint16(s))
	}
}
