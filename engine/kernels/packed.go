package kernels

import (
	"fmt"
	"math"

	"github.com/attnscope/attnscope/engine/quant"
)

// A Q8_0 or Q4_0 matrix in ggml's encoding keeps each block's binary16 scale in front of its
// quants, rows one after the other. The vector products read eight rows side by side; in that
// encoding every load needs its own address arithmetic and bounds check, and every scale a
// half-precision conversion (the vector package has none), which together cost as much as the
// products. Packed holds the same matrix rearranged once, when the weights are loaded: for each
// group of eight rows and each block, the eight rows' quants one after the other, and the scales
// converted to float32 in a table of the same order. Nothing is rounded: the ggml encoding of
// every row can be written back (RowBytes; a signalling NaN scale comes back quieted).
//
// Within a group's block the quants lie as the platform's kernels read them (packInterleave):
// on amd64 row after row (the AVX2 kernels take a row's 32 bytes at once and gather the eight
// rows' sums), in WebAssembly in two halves of four rows interleaved four bytes at a time
// (byte 4k+i of a 16-byte piece is row i's quant 4·piece+k), so that the v128 products of a
// piece add up in lanes that are rows and no horizontal sums are needed.

// PackRows is the number of rows whose blocks lie side by side in a Packed matrix.
const PackRows = 8

// packPad is how many bytes follow the last block of a packed matrix, so that the vector
// kernels may load 16 bytes where they use the first eight.
const packPad = 8

// Packed is a Q8_0 or Q4_0 matrix rearranged for the vector products (see Pack).
type Packed struct {
	Type       quant.Type
	Rows, Cols int
	nb         int      // blocks per row
	bq         int      // quant bytes per block: 32 (Q8_0) or 16 (Q4_0)
	q          []byte   // quants of block b of rows 8g…8g+7 from (g·nb + b)·8·bq on (see qOffset), then packPad bytes
	d          []uint32 // scales as float32 bits: block b of row r at (r/8·nb + b)·8 + r%8
}

// Packs reports whether the integer products of type t (VecDotRows) in this build and on this
// CPU read packed matrices (Pack), so that a backend should keep its weights of type t that
// way.
func Packs(t quant.Type) bool {
	return (t == quant.Q8_0 || t == quant.Q4_0) && packedIntOn()
}

// PacksFloat is Packs for the float products (MatVecQLanes): true where they have packed
// vector kernels (AVX2), false in WebAssembly, whose float products read ggml's encoding.
func PacksFloat(t quant.Type) bool {
	return (t == quant.Q8_0 || t == quant.Q4_0) && packedFloatOn()
}

// Pack rearranges the rows × cols matrix w of type t (Q8_0 or Q4_0, ggml's encoding, cols a
// multiple of 32). The last group of eight rows is padded with zero blocks.
func Pack(t quant.Type, w []byte, rows, cols int) (*Packed, error) {
	nq, nd, err := PackedLen(t, rows, cols)
	if err != nil {
		return nil, err
	}
	return PackInto(t, w, rows, cols, make([]byte, nq), make([]uint32, nd))
}

// PackedLen is how long the quants (bytes) and scales (words) of Pack's result are, for
// PackInto.
func PackedLen(t quant.Type, rows, cols int) (quants, scales int, err error) {
	if t != quant.Q8_0 && t != quant.Q4_0 {
		return 0, 0, fmt.Errorf("kernels: Pack: type %s is not Q8_0 or Q4_0", t)
	}
	if rows <= 0 || cols <= 0 || cols%qk != 0 {
		return 0, 0, fmt.Errorf("kernels: Pack: %d rows of %d columns", rows, cols)
	}
	bq := qk
	if t == quant.Q4_0 {
		bq = qk / 2
	}
	groups := (rows + PackRows - 1) / PackRows
	return groups*(cols/qk)*PackRows*bq + packPad, groups * (cols / qk) * PackRows, nil
}

// PackInto is Pack into storage the caller provides: q and d of PackedLen's lengths, all
// zero (the padding rows are not written).
func PackInto(t quant.Type, w []byte, rows, cols int, q []byte, d []uint32) (*Packed, error) {
	nq, nd, err := PackedLen(t, rows, cols)
	if err != nil {
		return nil, err
	}
	if len(q) != nq || len(d) != nd {
		return nil, fmt.Errorf("kernels: PackInto: storage of %d and %d for %d and %d", len(q), len(d), nq, nd)
	}
	nb := cols / qk
	bs, bq := q8_0Bytes, qk
	if t == quant.Q4_0 {
		bs, bq = q4_0Bytes, qk/2
	}
	if len(w) != rows*nb*bs {
		return nil, fmt.Errorf("kernels: Pack: %d bytes for %d rows of %d %s values", len(w), rows, cols, t)
	}
	p := &Packed{Type: t, Rows: rows, Cols: cols, nb: nb, bq: bq, q: q, d: d}
	for r := 0; r < rows; r++ {
		row := w[r*nb*bs : (r+1)*nb*bs]
		for b := 0; b < nb; b++ {
			i := p.index(r, b)
			p.d[i] = f16Bits(uint32(row[b*bs]) | uint32(row[b*bs+1])<<8)
			src := row[b*bs+2 : (b+1)*bs]
			if !packInterleave {
				copy(p.q[i*bq:(i+1)*bq], src)
				continue
			}
			// Quant j to byte 4j of its row's interleaved run (qOffset).
			o := p.qOffset(r, b, 0)
			if bq == qk {
				interleave32((*[4*qk - 3]byte)(p.q[o:o+4*qk-3]), (*[qk]byte)(src))
			} else {
				interleave16((*[2*qk - 3]byte)(p.q[o:o+2*qk-3]), (*[qk / 2]byte)(src))
			}
		}
	}
	return p, nil
}

// interleave32 writes the 32 quants of s four bytes apart into d (constant indices: no bounds
// checks, unlike a loop over them, which made Pack a tenth of a model's load in the page).
func interleave32(d *[4*qk - 3]byte, s *[qk]byte) {
	d[0], d[4], d[8], d[12], d[16], d[20], d[24], d[28] = s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]
	d[32], d[36], d[40], d[44], d[48], d[52], d[56], d[60] = s[8], s[9], s[10], s[11], s[12], s[13], s[14], s[15]
	d[64], d[68], d[72], d[76], d[80], d[84], d[88], d[92] = s[16], s[17], s[18], s[19], s[20], s[21], s[22], s[23]
	d[96], d[100], d[104], d[108], d[112], d[116], d[120], d[124] = s[24], s[25], s[26], s[27], s[28], s[29], s[30], s[31]
}

// interleave16 is interleave32 for the 16 quant bytes of a Q4_0 block.
func interleave16(d *[2*qk - 3]byte, s *[qk / 2]byte) {
	d[0], d[4], d[8], d[12], d[16], d[20], d[24], d[28] = s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]
	d[32], d[36], d[40], d[44], d[48], d[52], d[56], d[60] = s[8], s[9], s[10], s[11], s[12], s[13], s[14], s[15]
}

// qOffset is where quant byte j (0 ≤ j < bq) of block b of row r lies in p.q.
func (p *Packed) qOffset(r, b, j int) int {
	base := (r/PackRows*p.nb + b) * PackRows * p.bq
	if !packInterleave {
		return base + r%PackRows*p.bq + j
	}
	h, k := r%PackRows/4, r%4
	return base + h*4*p.bq + j/4*16 + j%4*4 + k
}

// blockQuants returns the quants of block b of row r (bq bytes), copied to q where they are
// not contiguous.
func (p *Packed) blockQuants(q *[qk]byte, r, b int) []byte {
	if !packInterleave {
		i := p.index(r, b)
		return p.q[i*p.bq : (i+1)*p.bq]
	}
	for j := range p.bq {
		q[j] = p.q[p.qOffset(r, b, j)]
	}
	return q[:p.bq]
}

// index is where block b of row r is in p.d (and, times bq, in p.q).
func (p *Packed) index(r, b int) int {
	return (r/PackRows*p.nb+b)*PackRows + r%PackRows
}

// Bytes is the memory the packed matrix holds.
func (p *Packed) Bytes() int64 { return int64(len(p.q)) + 4*int64(len(p.d)) }

// RowBytes writes row r in ggml's encoding to dst (the row's size in bytes).
func (p *Packed) RowBytes(dst []byte, r int) {
	bs := p.bq + 2
	if r < 0 || r >= p.Rows || len(dst) != p.nb*bs {
		panic("kernels: Packed.RowBytes: bad row or destination length")
	}
	var q [qk]byte
	for b := 0; b < p.nb; b++ {
		h := quant.F32ToF16(math.Float32frombits(p.d[p.index(r, b)]))
		dst[b*bs], dst[b*bs+1] = byte(h), byte(h>>8)
		copy(dst[b*bs+2:(b+1)*bs], p.blockQuants(&q, r, b))
	}
}

// Dequantize writes rows r0 … r0+len(dst)/Cols−1 as float32 to dst, the values Dequantize
// gives for their ggml encoding.
func (p *Packed) Dequantize(dst []float32, r0 int) {
	n := len(dst) / p.Cols
	if len(dst)%p.Cols != 0 || r0 < 0 || r0+n > p.Rows {
		panic("kernels: Packed.Dequantize: bad rows or destination length")
	}
	vec := packedFloatOn()
	var buf [qk]byte
	for r := r0; r < r0+n; r++ {
		y := dst[(r-r0)*p.Cols : (r-r0+1)*p.Cols]
		for b := 0; b < p.nb; b++ {
			i := p.index(r, b)
			q := p.blockQuants(&buf, r, b)
			if !vec || !dequantPackedBlock(p.Type, y[b*qk:(b+1)*qk], q, p.d[i]) {
				dequantBlockPlain(p.Type, y[b*qk:(b+1)*qk], q, p.d[i])
			}
		}
	}
}

// dequantBlockPlain decodes one block's quants q with scale d (as Dequantize does).
func dequantBlockPlain(t quant.Type, y []float32, q []byte, bits uint32) {
	d := math.Float32frombits(bits)
	if t == quant.Q8_0 {
		for j, v := range q[:qk] {
			y[j] = float32(int8(v)) * d
		}
		return
	}
	for j, v := range q[:qk/2] {
		y[j] = float32(int(v&0x0f)-8) * d
		y[j+qk/2] = float32(int(v>>4)-8) * d
	}
}

// checkProduct panics unless rows r0 … r0+rows−1 of p exist, r0 is a multiple of PackRows and
// the input has Cols values.
func (p *Packed) checkProduct(name string, r0, rows, n int) {
	if r0 < 0 || r0%PackRows != 0 || rows < 0 || r0+rows > p.Rows || n != p.Cols {
		panic(fmt.Sprintf("kernels: %s: rows %d…%d of %d (first a multiple of %d), %d columns for %d", name, r0, r0+rows-1, p.Rows, PackRows, n, p.Cols))
	}
}

// VecDotRowsPacked sets dst[i] = VecDot(p.Type, row r0+i, act, Cols) for the len(dst) rows
// from r0 (a multiple of PackRows), act holding Q8_0 activations and as their block scales
// (ActScales): the bits of VecDotRows. The vector kernels read a long range faster than
// several short ones (on AVX2 they read it as two streams, one from each half).
func VecDotRowsPacked(dst []float32, p *Packed, r0 int, act []byte, as []uint32) {
	p.checkProduct("VecDotRowsPacked", r0, len(dst), len(as)*qk)
	if len(act) != p.nb*q8_0Bytes {
		panic("kernels: VecDotRowsPacked: activations are not one Q8_0 row")
	}
	if len(dst) == 0 {
		return
	}
	g0, g1 := r0/PackRows, (r0+len(dst)+PackRows-1)/PackRows
	full := len(dst) / PackRows * PackRows
	if packedIntOn() {
		if full > 0 {
			vecDotRowsPackedSIMD(p, dst[:full], g0, g0+full/PackRows, act, as)
		}
		if full < len(dst) {
			var last [PackRows]float32
			vecDotRowsPackedSIMD(p, last[:], g1-1, g1, act, as)
			copy(dst[full:], last[:])
		}
		return
	}
	row := make([]byte, p.nb*(p.bq+2))
	for i := range dst {
		p.RowBytes(row, r0+i)
		dst[i] = VecDot(p.Type, row, act, p.Cols)
	}
}

// VecDotRowsPacked2 is VecDotRowsPacked of the same rows with two inputs (dst0 with act0 and
// as0, dst1 with act1 and as1), the same bits; where a kernel takes both at once (Q8_0 with
// AVX2) the weights are read once for the two.
func VecDotRowsPacked2(dst0, dst1 []float32, p *Packed, r0 int, act0, act1 []byte, as0, as1 []uint32) {
	if len(dst1) != len(dst0) {
		panic("kernels: VecDotRowsPacked2: destinations of different lengths")
	}
	if !packedIntOn() || !pairKernel(p.Type) || len(dst0) < PackRows {
		VecDotRowsPacked(dst0, p, r0, act0, as0)
		VecDotRowsPacked(dst1, p, r0, act1, as1)
		return
	}
	p.checkProduct("VecDotRowsPacked2", r0, len(dst0), len(as0)*qk)
	if len(as1) != len(as0) || len(act0) != p.nb*q8_0Bytes || len(act1) != len(act0) {
		panic("kernels: VecDotRowsPacked2: activations are not one Q8_0 row each")
	}
	full := len(dst0) / PackRows * PackRows
	g0 := r0 / PackRows
	vecDotRowsPacked2SIMD(p, dst0[:full], dst1[:full], g0, g0+full/PackRows, act0, act1, as0, as1)
	if full < len(dst0) {
		VecDotRowsPacked(dst0[full:], p, r0+full, act0, as0)
		VecDotRowsPacked(dst1[full:], p, r0+full, act1, as1)
	}
}

// MatVecQLanesPacked sets dst[i] = DotLanes(dequantized row r0+i, x) for the len(dst) rows from
// r0 (a multiple of PackRows): the bits of MatVecQLanes.
func MatVecQLanesPacked(dst []float32, p *Packed, r0 int, x []float32) {
	p.checkProduct("MatVecQLanesPacked", r0, len(dst), len(x))
	if len(dst) == 0 {
		return
	}
	g0, g1 := r0/PackRows, (r0+len(dst)+PackRows-1)/PackRows
	full := len(dst) / PackRows * PackRows
	if packedFloatOn() {
		if full > 0 {
			matVecQLanesPackedSIMD(p, dst[:full], g0, g0+full/PackRows, x)
		}
		if full < len(dst) {
			var last [PackRows]float32
			matVecQLanesPackedSIMD(p, last[:], g1-1, g1, x)
			copy(dst[full:], last[:])
		}
		return
	}
	row := make([]byte, p.nb*(p.bq+2))
	for i := range dst {
		p.RowBytes(row, r0+i)
		if wasmFloatSIMD {
			dst[i] = dotQLanesF32x4(p.Type, row, x)
			continue
		}
		dst[i] = dotQLanesPlain(p.Type, row, x)
	}
}

// ActScales sets dst[b] to the float32 bits of the scale of block b of the Q8_0 activations
// act (len(dst) blocks). (The kernels keep scales as bits: a float32 load would be a scalar
// float instruction.)
func ActScales(dst []uint32, act []byte) {
	if len(act) != len(dst)*q8_0Bytes {
		panic("kernels: ActScales: activations are not len(dst) Q8_0 blocks")
	}
	for b := range dst {
		dst[b] = f16Bits(uint32(act[b*q8_0Bytes]) | uint32(act[b*q8_0Bytes+1])<<8)
	}
}
