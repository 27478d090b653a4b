//go:build goexperiment.simd && amd64

package kernels

import "simd/archsimd"

// halfX8 widens eight binary16 values (finite ones exactly): halfScaled8 times 2¹¹² (exact).
func halfX8(h *[8]uint16, mask archsimd.Int32x8, pow archsimd.Float32x8) archsimd.Float32x8 {
	return halfScaled8(h, mask).Mul(pow)
}

// halfScaled8 widens eight binary16 values to their values times 2⁻¹¹² (exactly for finite
// ones, subnormals included): sign-extended to 32 bits and shifted by 13, a half's sign,
// exponent and significand land on a float32's with the sign repeated in bits 28…30, which the
// mask clears. An infinity or NaN comes out finite, hence AttentionRowHalf's rule on them.
// Multiplied by a factor scaled by 2¹¹² in a fused multiply-add, it gives the bits the widened
// value gives with the factor itself: the product is exact either way.
func halfScaled8(h *[8]uint16, mask archsimd.Int32x8) archsimd.Float32x8 {
	return archsimd.LoadUint16x8Array(h).AsInt16x8().ExtendToInt32().ShiftAllLeft(13).And(mask).AsFloat32x8()
}

// halfMask and halfPow are halfX8's constants: the bits a widened half keeps, and 2¹¹².
const (
	halfMask = 0x8fffffff - 1<<32
	halfPow  = float32(1 << 112)
)

// halfScoresSIMD sets p[j] = dotHalf(q, k_j)·scale for every key (len(q) a multiple of 8)
// and reports true, or false where q is not scaledQuery's: each key's sixteen lanes in two
// vectors (even and odd steps of eight values), added, and the last additions of eight keys at
// once by pairwise horizontal additions (halfSums8: dotHalf's order).
func halfScoresSIMD(p, q []float32, k []uint16, stride, off int, scale float32) bool {
	var qs [maxScaledQuery]float32
	if !scaledQuery(qs[:], q) {
		return false
	}
	q = qs[:len(q)]
	mask := archsimd.BroadcastInt32x8(halfMask)
	sc := archsimd.BroadcastFloat32x8(scale)
	zero := archsimd.BroadcastFloat32x8(0)
	last := len(p) - 1
	for j := 0; j < len(p); j += 8 {
		// A last group of fewer than eight keys takes the last key in the missing ones' places
		// (computed and dropped).
		at := func(jj int) int { return min(j+jj, last)*stride + off }
		v0, v1 := halfKey(q, k, at(0), mask, zero), halfKey(q, k, at(1), mask, zero)
		v2, v3 := halfKey(q, k, at(2), mask, zero), halfKey(q, k, at(3), mask, zero)
		u0 := v0.ConcatAddPairsGrouped(v1).ConcatAddPairsGrouped(v2.ConcatAddPairsGrouped(v3))
		v4, v5 := halfKey(q, k, at(4), mask, zero), halfKey(q, k, at(5), mask, zero)
		v6, v7 := halfKey(q, k, at(6), mask, zero), halfKey(q, k, at(7), mask, zero)
		u1 := v4.ConcatAddPairsGrouped(v5).ConcatAddPairsGrouped(v6.ConcatAddPairsGrouped(v7))
		s := halfSums8(u0, u1).Mul(sc)
		if j+8 <= len(p) {
			s.StoreArray((*[8]float32)(p[j : j+8]))
			continue
		}
		var out [8]float32
		s.StoreArray(&out)
		copy(p[j:], out[:])
	}
	archsimd.ClearAVXUpperBits()
	return true
}

// halfSums8 finishes eight keys' sums: u0 holds keys 0…3's (s0+s1)+(s2+s3) in its low half and
// (s4+s5)+(s6+s7) in its high half, u1 keys 4…7's; the halves are added.
func halfSums8(u0, u1 archsimd.Float32x8) archsimd.Float32x8 {
	return u0.ConcatPermute128Scalars(0, 2, u1).Add(u0.ConcatPermute128Scalars(1, 3, u1))
}

// halfKey is the key at k[b:]'s sixteen lanes of products with q (scaledQuery's), lanes l and
// l+8 added.
func halfKey(q []float32, k []uint16, b int, mask archsimd.Int32x8, zero archsimd.Float32x8) archsimd.Float32x8 {
	hd := len(q)
	switch hd {
	case 64:
		return halfDot64((*[64]float32)(q), (*[64]uint16)(k[b:b+64]), mask, zero)
	case 48:
		return halfDot48((*[48]float32)(q), (*[48]uint16)(k[b:b+48]), mask, zero)
	}
	kj := k[b : b+hd]
	a0, a1 := zero, zero
	i := 0
	for ; i+16 <= hd; i += 16 {
		a0 = archsimd.LoadFloat32x8Array((*[8]float32)(q[i:i+8])).MulAdd(halfScaled8((*[8]uint16)(kj[i:i+8]), mask), a0)
		a1 = archsimd.LoadFloat32x8Array((*[8]float32)(q[i+8:i+16])).MulAdd(halfScaled8((*[8]uint16)(kj[i+8:i+16]), mask), a1)
	}
	if i < hd {
		a0 = archsimd.LoadFloat32x8Array((*[8]float32)(q[i:i+8])).MulAdd(halfScaled8((*[8]uint16)(kj[i:i+8]), mask), a0)
	}
	return a0.Add(a1)
}

// halfDot64 is halfKey for a head of 64 values: the loop written out, as for blockedLanes64.
func halfDot64(q *[64]float32, k *[64]uint16, mask archsimd.Int32x8, zero archsimd.Float32x8) archsimd.Float32x8 {
	a0 := archsimd.LoadFloat32x8Array((*[8]float32)(q[0:8])).MulAdd(halfScaled8((*[8]uint16)(k[0:8]), mask), zero)
	a1 := archsimd.LoadFloat32x8Array((*[8]float32)(q[8:16])).MulAdd(halfScaled8((*[8]uint16)(k[8:16]), mask), zero)
	a0 = archsimd.LoadFloat32x8Array((*[8]float32)(q[16:24])).MulAdd(halfScaled8((*[8]uint16)(k[16:24]), mask), a0)
	a1 = archsimd.LoadFloat32x8Array((*[8]float32)(q[24:32])).MulAdd(halfScaled8((*[8]uint16)(k[24:32]), mask), a1)
	a0 = archsimd.LoadFloat32x8Array((*[8]float32)(q[32:40])).MulAdd(halfScaled8((*[8]uint16)(k[32:40]), mask), a0)
	a1 = archsimd.LoadFloat32x8Array((*[8]float32)(q[40:48])).MulAdd(halfScaled8((*[8]uint16)(k[40:48]), mask), a1)
	a0 = archsimd.LoadFloat32x8Array((*[8]float32)(q[48:56])).MulAdd(halfScaled8((*[8]uint16)(k[48:56]), mask), a0)
	a1 = archsimd.LoadFloat32x8Array((*[8]float32)(q[56:64])).MulAdd(halfScaled8((*[8]uint16)(k[56:64]), mask), a1)
	return a0.Add(a1)
}

// halfDot48 is halfDot64 for a head of 48 values (s15m's: 4.9 instead of 5.3 µs a head over
// 272 keys).
func halfDot48(q *[48]float32, k *[48]uint16, mask archsimd.Int32x8, zero archsimd.Float32x8) archsimd.Float32x8 {
	a0 := archsimd.LoadFloat32x8Array((*[8]float32)(q[0:8])).MulAdd(halfScaled8((*[8]uint16)(k[0:8]), mask), zero)
	a1 := archsimd.LoadFloat32x8Array((*[8]float32)(q[8:16])).MulAdd(halfScaled8((*[8]uint16)(k[8:16]), mask), zero)
	a0 = archsimd.LoadFloat32x8Array((*[8]float32)(q[16:24])).MulAdd(halfScaled8((*[8]uint16)(k[16:24]), mask), a0)
	a1 = archsimd.LoadFloat32x8Array((*[8]float32)(q[24:32])).MulAdd(halfScaled8((*[8]uint16)(k[24:32]), mask), a1)
	a0 = archsimd.LoadFloat32x8Array((*[8]float32)(q[32:40])).MulAdd(halfScaled8((*[8]uint16)(k[32:40]), mask), a0)
	a1 = archsimd.LoadFloat32x8Array((*[8]float32)(q[40:48])).MulAdd(halfScaled8((*[8]uint16)(k[40:48]), mask), a1)
	return a0.Add(a1)
}

// halfValuesSIMD sets out[d] = Σ_j p[j]·v_j[d], one chain of fused multiply-adds over the keys
// in order for each d (len(out) a multiple of 8): 64 values of d at a time in eight vectors,
// then eight at a time.
func halfValuesSIMD(out, p []float32, v []uint16, stride, off int) {
	hd := len(out)
	mask, pow := archsimd.BroadcastInt32x8(halfMask), archsimd.BroadcastFloat32x8(halfPow)
	zero := archsimd.BroadcastFloat32x8(0)
	d := 0
	for ; d+64 <= hd; d += 64 {
		a0, a1, a2, a3, a4, a5, a6, a7 := zero, zero, zero, zero, zero, zero, zero, zero
		at := off + d
		for _, pj := range p {
			r := (*[64]uint16)(v[at : at+64])
			at += stride
			// pj·2¹¹² is exact (pj ≤ 1); on vectors, as scalar arithmetic between the vector
			// instructions would be legacy SSE, which stalls on the vectors' upper halves.
			x := archsimd.BroadcastFloat32x8(pj).Mul(pow)
			a0 = x.MulAdd(halfScaled8((*[8]uint16)(r[0:8]), mask), a0)
			a1 = x.MulAdd(halfScaled8((*[8]uint16)(r[8:16]), mask), a1)
			a2 = x.MulAdd(halfScaled8((*[8]uint16)(r[16:24]), mask), a2)
			a3 = x.MulAdd(halfScaled8((*[8]uint16)(r[24:32]), mask), a3)
			a4 = x.MulAdd(halfScaled8((*[8]uint16)(r[32:40]), mask), a4)
			a5 = x.MulAdd(halfScaled8((*[8]uint16)(r[40:48]), mask), a5)
			a6 = x.MulAdd(halfScaled8((*[8]uint16)(r[48:56]), mask), a6)
			a7 = x.MulAdd(halfScaled8((*[8]uint16)(r[56:64]), mask), a7)
		}
		o := (*[64]float32)(out[d : d+64])
		a0.StoreArray((*[8]float32)(o[0:8]))
		a1.StoreArray((*[8]float32)(o[8:16]))
		a2.StoreArray((*[8]float32)(o[16:24]))
		a3.StoreArray((*[8]float32)(o[24:32]))
		a4.StoreArray((*[8]float32)(o[32:40]))
		a5.StoreArray((*[8]float32)(o[40:48]))
		a6.StoreArray((*[8]float32)(o[48:56]))
		a7.StoreArray((*[8]float32)(o[56:64]))
	}
	for ; d < hd; d += 8 {
		a := zero
		at := off + d
		for _, pj := range p {
			a = archsimd.BroadcastFloat32x8(pj).Mul(pow).MulAdd(halfScaled8((*[8]uint16)(v[at:at+8]), mask), a)
			at += stride
		}
		a.StoreArray((*[8]float32)(out[d : d+8]))
	}
	archsimd.ClearAVXUpperBits()
}

// widenHalvesSIMD decodes the leading multiple of eight of src (finite values exactly) and
// returns how many.
func widenHalvesSIMD(dst []float32, src []uint16) int {
	mask, pow := archsimd.BroadcastInt32x8(halfMask), archsimd.BroadcastFloat32x8(halfPow)
	n := len(src) &^ 7
	for i := 0; i < n; i += 8 {
		halfX8((*[8]uint16)(src[i:i+8]), mask, pow).StoreArray((*[8]float32)(dst[i : i+8]))
	}
	archsimd.ClearAVXUpperBits()
	return n
}
