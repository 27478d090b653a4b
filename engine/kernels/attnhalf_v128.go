//go:build goexperiment.simd && (wasm || arm64)

package kernels

import "simd/archsimd"

// halfX4 widens four binary16 values (finite ones exactly), sign-extended to x: halfScaled4
// times 2¹¹² (exact).
func halfX4(x archsimd.Int32x4, mask archsimd.Int32x4, pow archsimd.Float32x4) archsimd.Float32x4 {
	return halfScaled4(x, mask).Mul(pow)
}

// halfScaled4 is four binary16 values, sign-extended to x, widened to their values times
// 2⁻¹¹² as halfScaled8 on amd64 widens them: shifted by 13 and masked.
func halfScaled4(x archsimd.Int32x4, mask archsimd.Int32x4) archsimd.Float32x4 {
	return x.ShiftAllLeft(13).And(mask).ToBits().BitsToFloat32()
}

// halfMask and halfPow are halfX4's constants: the bits a widened half keeps, and 2¹¹².
const (
	halfMask = 0x8fffffff - 1<<32
	halfPow  = float32(1 << 112)
)

// halfScoresSIMD sets p[j] = dotHalf(q, k_j)·scale for every key (len(q) a multiple of 8) and
// reports true, or false where q is not scaledQuery's: the sixteen lanes in four vectors, each
// multiply-add as the plain loop does it (laneMulAdd; the product of the scaled query and the
// scaled key is exact, as on amd64), then dotHalf's additions.
func halfScoresSIMD(p, q []float32, k []uint16, stride, off int, scale float32) bool {
	var qs [maxScaledQuery]float32
	if !scaledQuery(qs[:], q) {
		return false
	}
	hd := len(q)
	q = qs[:hd]
	mask := archsimd.BroadcastInt32x4(halfMask)
	z := archsimd.BroadcastFloat32x4(0)
	for j := range p {
		b := j*stride + off
		kj := k[b : b+hd]
		a0, a1, a2, a3 := z, z, z, z // lanes 0…3, 4…7, 8…11, 12…15
		for i := 0; i < hd; i += 8 {
			h := archsimd.LoadUint16x8Array((*[8]uint16)(kj[i : i+8])).BitsToInt16()
			lo, hi := halfScaled4(h.ExtendLo4ToInt32(), mask), halfScaled4(extendHi4(h), mask)
			qlo, qhi := archsimd.LoadFloat32x4Array((*[4]float32)(q[i:i+4])), archsimd.LoadFloat32x4Array((*[4]float32)(q[i+4:i+8]))
			if i&8 == 0 {
				a0, a1 = laneMulAdd(qlo, lo, a0), laneMulAdd(qhi, hi, a1)
			} else {
				a2, a3 = laneMulAdd(qlo, lo, a2), laneMulAdd(qhi, hi, a3)
			}
		}
		// s[l] = lane l + lane l+8.
		var lo, hi [4]float32
		a0.Add(a2).StoreArray(&lo)
		a1.Add(a3).StoreArray(&hi)
		p[j] = (((lo[0] + lo[1]) + (lo[2] + lo[3])) + ((hi[0] + hi[1]) + (hi[2] + hi[3]))) * scale
	}
	return true
}

// halfValuesSIMD sets out[d] = Σ_j p[j]·v_j[d], one chain of multiply-adds (laneMulAdd) over the
// keys in order for each d (len(out) a multiple of 8): 32 values of d at a time in eight
// vectors, then eight at a time.
func halfValuesSIMD(out, p []float32, v []uint16, stride, off int) {
	hd := len(out)
	mask, pow := archsimd.BroadcastInt32x4(halfMask), archsimd.BroadcastFloat32x4(halfPow)
	z := archsimd.BroadcastFloat32x4(0)
	d := 0
	for ; d+32 <= hd; d += 32 {
		a0, a1, a2, a3, a4, a5, a6, a7 := z, z, z, z, z, z, z, z
		at := off + d
		for _, pj := range p {
			r := (*[32]uint16)(v[at : at+32])
			at += stride
			x := archsimd.BroadcastFloat32x4(pj).Mul(pow)
			h0 := archsimd.LoadUint16x8Array((*[8]uint16)(r[0:8])).BitsToInt16()
			h1 := archsimd.LoadUint16x8Array((*[8]uint16)(r[8:16])).BitsToInt16()
			h2 := archsimd.LoadUint16x8Array((*[8]uint16)(r[16:24])).BitsToInt16()
			h3 := archsimd.LoadUint16x8Array((*[8]uint16)(r[24:32])).BitsToInt16()
			a0 = laneMulAdd(x, halfScaled4(h0.ExtendLo4ToInt32(), mask), a0)
			a1 = laneMulAdd(x, halfScaled4(extendHi4(h0), mask), a1)
			a2 = laneMulAdd(x, halfScaled4(h1.ExtendLo4ToInt32(), mask), a2)
			a3 = laneMulAdd(x, halfScaled4(extendHi4(h1), mask), a3)
			a4 = laneMulAdd(x, halfScaled4(h2.ExtendLo4ToInt32(), mask), a4)
			a5 = laneMulAdd(x, halfScaled4(extendHi4(h2), mask), a5)
			a6 = laneMulAdd(x, halfScaled4(h3.ExtendLo4ToInt32(), mask), a6)
			a7 = laneMulAdd(x, halfScaled4(extendHi4(h3), mask), a7)
		}
		o := (*[32]float32)(out[d : d+32])
		a0.StoreArray((*[4]float32)(o[0:4]))
		a1.StoreArray((*[4]float32)(o[4:8]))
		a2.StoreArray((*[4]float32)(o[8:12]))
		a3.StoreArray((*[4]float32)(o[12:16]))
		a4.StoreArray((*[4]float32)(o[16:20]))
		a5.StoreArray((*[4]float32)(o[20:24]))
		a6.StoreArray((*[4]float32)(o[24:28]))
		a7.StoreArray((*[4]float32)(o[28:32]))
	}
	for ; d < hd; d += 8 {
		a0, a1 := z, z
		at := off + d
		for _, pj := range p {
			x := archsimd.BroadcastFloat32x4(pj).Mul(pow)
			h := archsimd.LoadUint16x8Array((*[8]uint16)(v[at : at+8])).BitsToInt16()
			a0 = laneMulAdd(x, halfScaled4(h.ExtendLo4ToInt32(), mask), a0)
			a1 = laneMulAdd(x, halfScaled4(extendHi4(h), mask), a1)
			at += stride
		}
		a0.StoreArray((*[4]float32)(out[d : d+4]))
		a1.StoreArray((*[4]float32)(out[d+4 : d+8]))
	}
}

// widenHalvesSIMD decodes the leading multiple of eight of src (finite values exactly) and
// returns how many.
func widenHalvesSIMD(dst []float32, src []uint16) int {
	mask, pow := archsimd.BroadcastInt32x4(halfMask), archsimd.BroadcastFloat32x4(halfPow)
	n := len(src) &^ 7
	for i := 0; i < n; i += 8 {
		h := archsimd.LoadUint16x8Array((*[8]uint16)(src[i : i+8])).BitsToInt16()
		halfX4(h.ExtendLo4ToInt32(), mask, pow).StoreArray((*[4]float32)(dst[i : i+4]))
		halfX4(extendHi4(h), mask, pow).StoreArray((*[4]float32)(dst[i+4 : i+8]))
	}
	return n
}
