//go:build goexperiment.simd && amd64

package kernels

import "simd/archsimd"

// attnValuesSIMD computes out[d] = dotLanesStrided(p, v, stride, off+d, true) for every d < len(out)&^7
// with the key axis in 16 lanes (lane j mod 16 takes key j), vectorized over d, and returns
// how many leading entries of out it filled. Every d sees the same operations in the same
// order as the plain version: each lane's fused multiply-adds in key order, then reduce16.
// For each 64 values of d the keys are walked once, key j adding p[j] times its values to the
// accumulators of lane j mod 16, which live in memory (16 lanes × 8 vectors are more than the
// registers; a lane's row comes back 16 keys later, from the first-level cache). Narrower
// heads (and a last group under 64) take the lanes eight at a time in registers over eight
// values (attnLaneGroup).
func attnValuesSIMD(out, p, v []float32, stride, off int) int {
	hd := len(out) &^ 7
	wide := hd &^ 63
	if wide > 0 {
		attnValuesWide(out[:wide], p, v, stride, off)
	}
	var lo, hi [8][8]float32 // lanes 0…7 and 8…15, each over eight d
	for d := wide; d < hd; d += 8 {
		attnLaneGroup(&lo, p, v, stride, off+d, 0)
		attnLaneGroup(&hi, p, v, stride, off+d, 8)
		// reduce16 for each d: halves, quarters, then pairs.
		var h [8]archsimd.Float32x8
		for l := range h {
			h[l] = archsimd.LoadFloat32x8Array(&lo[l]).Add(archsimd.LoadFloat32x8Array(&hi[l]))
		}
		q0, q1, q2, q3 := h[0].Add(h[4]), h[1].Add(h[5]), h[2].Add(h[6]), h[3].Add(h[7])
		q0.Add(q2).Add(q1.Add(q3)).Store(out[d : d+8])
	}
	archsimd.ClearAVXUpperBits() // before the caller's scalar code (see reduce8)
	return hd
}

// attnValuesWide is attnValuesSIMD for len(out) a multiple of 64: one walk over the keys for
// every 64 values of d, lane l's accumulators for them in acc[l].
func attnValuesWide(out, p, v []float32, stride, off int) {
	var acc [16][64]float32
	zero := archsimd.BroadcastFloat32x8(0)
	for d := 0; d < len(out); d += 64 {
		for l := range acc {
			a := &acc[l]
			for i := 0; i < 64; i += 8 {
				zero.StoreArray((*[8]float32)(a[i : i+8]))
			}
		}
		at := off + d
		for j, pj := range p {
			r := (*[64]float32)(v[at : at+64])
			at += stride
			a := &acc[j&15]
			x := archsimd.BroadcastFloat32x8(pj)
			x.MulAdd(archsimd.LoadFloat32x8Array((*[8]float32)(r[0:8])), archsimd.LoadFloat32x8Array((*[8]float32)(a[0:8]))).StoreArray((*[8]float32)(a[0:8]))
			x.MulAdd(archsimd.LoadFloat32x8Array((*[8]float32)(r[8:16])), archsimd.LoadFloat32x8Array((*[8]float32)(a[8:16]))).StoreArray((*[8]float32)(a[8:16]))
			x.MulAdd(archsimd.LoadFloat32x8Array((*[8]float32)(r[16:24])), archsimd.LoadFloat32x8Array((*[8]float32)(a[16:24]))).StoreArray((*[8]float32)(a[16:24]))
			x.MulAdd(archsimd.LoadFloat32x8Array((*[8]float32)(r[24:32])), archsimd.LoadFloat32x8Array((*[8]float32)(a[24:32]))).StoreArray((*[8]float32)(a[24:32]))
			x.MulAdd(archsimd.LoadFloat32x8Array((*[8]float32)(r[32:40])), archsimd.LoadFloat32x8Array((*[8]float32)(a[32:40]))).StoreArray((*[8]float32)(a[32:40]))
			x.MulAdd(archsimd.LoadFloat32x8Array((*[8]float32)(r[40:48])), archsimd.LoadFloat32x8Array((*[8]float32)(a[40:48]))).StoreArray((*[8]float32)(a[40:48]))
			x.MulAdd(archsimd.LoadFloat32x8Array((*[8]float32)(r[48:56])), archsimd.LoadFloat32x8Array((*[8]float32)(a[48:56]))).StoreArray((*[8]float32)(a[48:56]))
			x.MulAdd(archsimd.LoadFloat32x8Array((*[8]float32)(r[56:64])), archsimd.LoadFloat32x8Array((*[8]float32)(a[56:64]))).StoreArray((*[8]float32)(a[56:64]))
		}
		// reduce16 for each d: lane l + lane l+8, then (q0+q2) + (q1+q3) of the four sums
		// h[l] + h[l+4].
		o := (*[64]float32)(out[d : d+64])
		for i := 0; i < 64; i += 8 {
			var h [8]archsimd.Float32x8
			for l := range h {
				h[l] = archsimd.LoadFloat32x8Array((*[8]float32)(acc[l][i : i+8])).Add(archsimd.LoadFloat32x8Array((*[8]float32)(acc[l+8][i : i+8])))
			}
			q0, q1, q2, q3 := h[0].Add(h[4]), h[1].Add(h[5]), h[2].Add(h[6]), h[3].Add(h[7])
			q0.Add(q2).Add(q1.Add(q3)).StoreArray((*[8]float32)(o[i : i+8]))
		}
	}
}

// attnLaneGroup accumulates lanes g…g+7 (keys j ≡ g…g+7 mod 16) of the value product for the
// eight d starting at column base into acc[l], lane g+l.
func attnLaneGroup(acc *[8][8]float32, p, v []float32, stride, base, g int) {
	z := archsimd.BroadcastFloat32x8(0)
	a0, a1, a2, a3, a4, a5, a6, a7 := z, z, z, z, z, z, z, z
	n := len(p)
	full := n &^ 15
	for c := 0; c < full; c += 16 {
		j := c + g
		r := v[j*stride+base : (j+7)*stride+base+8]
		a0 = archsimd.BroadcastFloat32x8(p[j]).MulAdd(archsimd.LoadFloat32x8(r[0:8]), a0)
		a1 = archsimd.BroadcastFloat32x8(p[j+1]).MulAdd(archsimd.LoadFloat32x8(r[stride:stride+8]), a1)
		a2 = archsimd.BroadcastFloat32x8(p[j+2]).MulAdd(archsimd.LoadFloat32x8(r[2*stride:2*stride+8]), a2)
		a3 = archsimd.BroadcastFloat32x8(p[j+3]).MulAdd(archsimd.LoadFloat32x8(r[3*stride:3*stride+8]), a3)
		a4 = archsimd.BroadcastFloat32x8(p[j+4]).MulAdd(archsimd.LoadFloat32x8(r[4*stride:4*stride+8]), a4)
		a5 = archsimd.BroadcastFloat32x8(p[j+5]).MulAdd(archsimd.LoadFloat32x8(r[5*stride:5*stride+8]), a5)
		a6 = archsimd.BroadcastFloat32x8(p[j+6]).MulAdd(archsimd.LoadFloat32x8(r[6*stride:6*stride+8]), a6)
		a7 = archsimd.BroadcastFloat32x8(p[j+7]).MulAdd(archsimd.LoadFloat32x8(r[7*stride:7*stride+8]), a7)
	}
	// The last, partial chunk of 16 keys: lane g+l takes key full+g+l if there is one.
	j := full + g
	if j < n {
		a0 = archsimd.BroadcastFloat32x8(p[j]).MulAdd(archsimd.LoadFloat32x8(v[j*stride+base:j*stride+base+8]), a0)
	}
	if j++; j < n {
		a1 = archsimd.BroadcastFloat32x8(p[j]).MulAdd(archsimd.LoadFloat32x8(v[j*stride+base:j*stride+base+8]), a1)
	}
	if j++; j < n {
		a2 = archsimd.BroadcastFloat32x8(p[j]).MulAdd(archsimd.LoadFloat32x8(v[j*stride+base:j*stride+base+8]), a2)
	}
	if j++; j < n {
		a3 = archsimd.BroadcastFloat32x8(p[j]).MulAdd(archsimd.LoadFloat32x8(v[j*stride+base:j*stride+base+8]), a3)
	}
	if j++; j < n {
		a4 = archsimd.BroadcastFloat32x8(p[j]).MulAdd(archsimd.LoadFloat32x8(v[j*stride+base:j*stride+base+8]), a4)
	}
	if j++; j < n {
		a5 = archsimd.BroadcastFloat32x8(p[j]).MulAdd(archsimd.LoadFloat32x8(v[j*stride+base:j*stride+base+8]), a5)
	}
	if j++; j < n {
		a6 = archsimd.BroadcastFloat32x8(p[j]).MulAdd(archsimd.LoadFloat32x8(v[j*stride+base:j*stride+base+8]), a6)
	}
	if j++; j < n {
		a7 = archsimd.BroadcastFloat32x8(p[j]).MulAdd(archsimd.LoadFloat32x8(v[j*stride+base:j*stride+base+8]), a7)
	}
	a0.StoreArray(&acc[0])
	a1.StoreArray(&acc[1])
	a2.StoreArray(&acc[2])
	a3.StoreArray(&acc[3])
	a4.StoreArray(&acc[4])
	a5.StoreArray(&acc[5])
	a6.StoreArray(&acc[6])
	a7.StoreArray(&acc[7])
	archsimd.ClearAVXUpperBits() // before returning (see vecdot_simd.go)
}

// attnScoresSIMD sets p[j] = DotBlocked(q, k_j)·scale for the keys j < len(p)&^7 when
// len(q) < 64 and len(q) is a multiple of 8, or len(q) a multiple of 64 (attnScoresBlocked),
// and returns how many it set (0 for other heads). For vectors under 64 DotBlocked is a chain
// of fused multiply-adds over the elements in order; here eight keys run their chains side by
// side, one per lane: blocks of eight keys × eight elements are transposed in registers so that
// element i of the eight keys is one vector. Where k holds
// rows for keys up to the next multiple of eight (a cache's padding), the last few keys run
// in a full group too (the rows past len(p) computed and dropped), and all len(p) are set.
func attnScoresSIMD(p, q, k []float32, stride, off int, scale float32) int {
	hd := len(q)
	if hd%8 != 0 || hd > 64 && hd%64 != 0 {
		return 0
	}
	n8 := len(p) &^ 7
	end := n8
	if n8 < len(p) && len(k) >= (n8+7)*stride+off+hd {
		end = n8 + 8
	}
	if hd >= 64 {
		attnScoresBlocked(p, q, k, stride, off, scale, end)
		return min(end, len(p))
	}
	var last [8]float32
	// q's elements broadcast once, kept in memory: as scalars in the loop they would be
	// spilled and reloaded with legacy SSE moves, which stall between 256-bit instructions.
	var qb [56][8]float32
	for i, v := range q {
		archsimd.BroadcastFloat32x8(v).StoreArray(&qb[i])
	}
	sc := archsimd.BroadcastFloat32x8(scale)
	zero := archsimd.BroadcastFloat32x8(0) // hoisted: it is made by a legacy SSE instruction
	for j := 0; j < end; j += 8 {
		s := zero
		for d := 0; d < hd; d += 8 {
			b := j*stride + off + d
			c0, c1, c2, c3, e0, e1, e2, e3 := keyColumns(k[b:b+7*stride+8], stride)
			qd := qb[d : d+8]
			s = archsimd.LoadFloat32x8Array(&qd[0]).MulAdd(c0.ConcatPermute128Scalars(0, 2, e0), s)
			s = archsimd.LoadFloat32x8Array(&qd[1]).MulAdd(c1.ConcatPermute128Scalars(0, 2, e1), s)
			s = archsimd.LoadFloat32x8Array(&qd[2]).MulAdd(c2.ConcatPermute128Scalars(0, 2, e2), s)
			s = archsimd.LoadFloat32x8Array(&qd[3]).MulAdd(c3.ConcatPermute128Scalars(0, 2, e3), s)
			s = archsimd.LoadFloat32x8Array(&qd[4]).MulAdd(c0.ConcatPermute128Scalars(1, 3, e0), s)
			s = archsimd.LoadFloat32x8Array(&qd[5]).MulAdd(c1.ConcatPermute128Scalars(1, 3, e1), s)
			s = archsimd.LoadFloat32x8Array(&qd[6]).MulAdd(c2.ConcatPermute128Scalars(1, 3, e2), s)
			s = archsimd.LoadFloat32x8Array(&qd[7]).MulAdd(c3.ConcatPermute128Scalars(1, 3, e3), s)
		}
		if j < n8 {
			s.Mul(sc).Store(p[j : j+8])
		} else {
			s.Mul(sc).StoreArray(&last)
		}
	}
	archsimd.ClearAVXUpperBits()
	if end > n8 {
		copy(p[n8:], last[:])
		return len(p)
	}
	return n8
}

// attnScoresBlocked is attnScoresSIMD for heads of a multiple of 64 values, keys below end (a
// multiple of 8): each score is dotBlockedSIMD's (eight accumulators of eight over steps of 64
// values, combined 0+4, 2+6, 1+5, 3+7, then halves), and the combined vectors of eight keys are
// transposed so that reduce8's last additions and the scaling run on the eight at once (one
// horizontal sum a key before). Scores past len(p) are computed and dropped.
func attnScoresBlocked(p, q, k []float32, stride, off int, scale float32, end int) {
	hd := len(q)
	sc := archsimd.BroadcastFloat32x8(scale)
	zero := archsimd.BroadcastFloat32x8(0)
	var t [8][8]uint32 // key j+jj's combined lanes in row jj
	for j := 0; j < end; j += 8 {
		for jj := 0; jj < 8; jj++ {
			b := (j+jj)*stride + off
			kj := k[b : b+hd]
			if hd == 64 {
				blockedLanes64((*[64]float32)(q), (*[64]float32)(kj), zero).AsUint32x8().StoreArray(&t[jj])
			} else {
				blockedLanes(q, kj, zero).AsUint32x8().StoreArray(&t[jj])
			}
		}
		storeScores(p, j, reduced8(&t).Mul(sc))
	}
	archsimd.ClearAVXUpperBits()
}

// reduced8 transposes t (row jj: key jj's combined lanes, blockedLanes) and returns the eight
// keys' products: reduce8's last additions, h[l] + h[l+4], then (q0+q2) + (q1+q3), on the eight
// keys at once.
func reduced8(t *[8][8]uint32) archsimd.Float32x8 {
	transpose8(t)
	q0 := archsimd.LoadUint32x8Array(&t[0]).AsFloat32x8().Add(archsimd.LoadUint32x8Array(&t[4]).AsFloat32x8())
	q1 := archsimd.LoadUint32x8Array(&t[1]).AsFloat32x8().Add(archsimd.LoadUint32x8Array(&t[5]).AsFloat32x8())
	q2 := archsimd.LoadUint32x8Array(&t[2]).AsFloat32x8().Add(archsimd.LoadUint32x8Array(&t[6]).AsFloat32x8())
	q3 := archsimd.LoadUint32x8Array(&t[3]).AsFloat32x8().Add(archsimd.LoadUint32x8Array(&t[7]).AsFloat32x8())
	return q0.Add(q2).Add(q1.Add(q3))
}

// blockedLanes is dotBlockedSIMD's product of q and kj (a multiple of 64 values) before its
// last additions: eight accumulators of eight over steps of 64 values, combined 0+4, 2+6, 1+5,
// 3+7, then halves; zero is a zero vector (made once by the caller: its instruction is legacy
// SSE).
func blockedLanes(q, kj []float32, zero archsimd.Float32x8) archsimd.Float32x8 {
	hd := len(q)
	a0, a1, a2, a3, a4, a5, a6, a7 := zero, zero, zero, zero, zero, zero, zero, zero
	for i := 0; i < hd; i += 64 {
		x, y := (*[64]float32)(q[i:i+64]), (*[64]float32)(kj[i:i+64])
		a0 = archsimd.LoadFloat32x8Array((*[8]float32)(x[0:8])).MulAdd(archsimd.LoadFloat32x8Array((*[8]float32)(y[0:8])), a0)
		a1 = archsimd.LoadFloat32x8Array((*[8]float32)(x[8:16])).MulAdd(archsimd.LoadFloat32x8Array((*[8]float32)(y[8:16])), a1)
		a2 = archsimd.LoadFloat32x8Array((*[8]float32)(x[16:24])).MulAdd(archsimd.LoadFloat32x8Array((*[8]float32)(y[16:24])), a2)
		a3 = archsimd.LoadFloat32x8Array((*[8]float32)(x[24:32])).MulAdd(archsimd.LoadFloat32x8Array((*[8]float32)(y[24:32])), a3)
		a4 = archsimd.LoadFloat32x8Array((*[8]float32)(x[32:40])).MulAdd(archsimd.LoadFloat32x8Array((*[8]float32)(y[32:40])), a4)
		a5 = archsimd.LoadFloat32x8Array((*[8]float32)(x[40:48])).MulAdd(archsimd.LoadFloat32x8Array((*[8]float32)(y[40:48])), a5)
		a6 = archsimd.LoadFloat32x8Array((*[8]float32)(x[48:56])).MulAdd(archsimd.LoadFloat32x8Array((*[8]float32)(y[48:56])), a6)
		a7 = archsimd.LoadFloat32x8Array((*[8]float32)(x[56:64])).MulAdd(archsimd.LoadFloat32x8Array((*[8]float32)(y[56:64])), a7)
	}
	lo := a0.Add(a4).Add(a2.Add(a6))
	hi := a1.Add(a5).Add(a3.Add(a7))
	return lo.Add(hi)
}

// blockedLanes64 is blockedLanes for 64 values, the same operations without the loop, whose
// accumulators the compiler copies and spills (a third fewer instructions a key, measured).
func blockedLanes64(x, y *[64]float32, zero archsimd.Float32x8) archsimd.Float32x8 {
	return blockedLanes64K(x,
		archsimd.LoadFloat32x8Array((*[8]float32)(y[0:8])), archsimd.LoadFloat32x8Array((*[8]float32)(y[8:16])),
		archsimd.LoadFloat32x8Array((*[8]float32)(y[16:24])), archsimd.LoadFloat32x8Array((*[8]float32)(y[24:32])),
		archsimd.LoadFloat32x8Array((*[8]float32)(y[32:40])), archsimd.LoadFloat32x8Array((*[8]float32)(y[40:48])),
		archsimd.LoadFloat32x8Array((*[8]float32)(y[48:56])), archsimd.LoadFloat32x8Array((*[8]float32)(y[56:64])), zero)
}

// attnRowsOn says whether AttentionRows has vector kernels for heads of hd values.
func attnRowsOn(hd int) bool {
	return (simdLevel == simdAVX2 || simdLevel == simdAVX512) && hd%8 == 0
}

// attnScoresRowsSIMD is attnScoresSIMD for the four queries qs at once, into ps (their
// lengths the keys each sees; maxKeys the most): each block of eight keys × eight elements is
// transposed once for the four, every query's chains the same as attnScoresSIMD's. It returns
// how many keys it did for every query (0 for heads of 64 values or more), rows past a query's
// keys computed and dropped; a query's keys beyond that are left to the caller.
func attnScoresRowsSIMD(ps, qs *[AttentionRowsAtOnce][]float32, k []float32, stride, off int, scale float32, maxKeys int) int {
	hd := len(qs[0])
	n8 := maxKeys &^ 7
	end := n8
	if n8 < maxKeys && len(k) >= (n8+7)*stride+off+hd {
		end = n8 + 8
	}
	if hd >= 64 && hd%64 == 0 {
		attnScoresRowsBlocked(ps, qs, k, stride, off, scale, end)
		return end
	}
	if hd >= 64 || hd%8 != 0 {
		return 0
	}
	// Each query's elements broadcast once (see attnScoresSIMD).
	var qb [AttentionRowsAtOnce][56][8]float32
	for r := range qs {
		for i, v := range qs[r] {
			archsimd.BroadcastFloat32x8(v).StoreArray(&qb[r][i])
		}
	}
	sc := archsimd.BroadcastFloat32x8(scale)
	zero := archsimd.BroadcastFloat32x8(0)
	for j := 0; j < end; j += 8 {
		s0, s1, s2, s3 := zero, zero, zero, zero
		for d := 0; d < hd; d += 8 {
			b := j*stride + off + d
			c0, c1, c2, c3, e0, e1, e2, e3 := keyColumns(k[b:b+7*stride+8], stride)
			q0, q1 := (*[8][8]float32)(qb[0][d:d+8]), (*[8][8]float32)(qb[1][d:d+8])
			q2, q3 := (*[8][8]float32)(qb[2][d:d+8]), (*[8][8]float32)(qb[3][d:d+8])
			var x archsimd.Float32x8
			x = c0.ConcatPermute128Scalars(0, 2, e0)
			s0, s1 = archsimd.LoadFloat32x8Array(&q0[0]).MulAdd(x, s0), archsimd.LoadFloat32x8Array(&q1[0]).MulAdd(x, s1)
			s2, s3 = archsimd.LoadFloat32x8Array(&q2[0]).MulAdd(x, s2), archsimd.LoadFloat32x8Array(&q3[0]).MulAdd(x, s3)
			x = c1.ConcatPermute128Scalars(0, 2, e1)
			s0, s1 = archsimd.LoadFloat32x8Array(&q0[1]).MulAdd(x, s0), archsimd.LoadFloat32x8Array(&q1[1]).MulAdd(x, s1)
			s2, s3 = archsimd.LoadFloat32x8Array(&q2[1]).MulAdd(x, s2), archsimd.LoadFloat32x8Array(&q3[1]).MulAdd(x, s3)
			x = c2.ConcatPermute128Scalars(0, 2, e2)
			s0, s1 = archsimd.LoadFloat32x8Array(&q0[2]).MulAdd(x, s0), archsimd.LoadFloat32x8Array(&q1[2]).MulAdd(x, s1)
			s2, s3 = archsimd.LoadFloat32x8Array(&q2[2]).MulAdd(x, s2), archsimd.LoadFloat32x8Array(&q3[2]).MulAdd(x, s3)
			x = c3.ConcatPermute128Scalars(0, 2, e3)
			s0, s1 = archsimd.LoadFloat32x8Array(&q0[3]).MulAdd(x, s0), archsimd.LoadFloat32x8Array(&q1[3]).MulAdd(x, s1)
			s2, s3 = archsimd.LoadFloat32x8Array(&q2[3]).MulAdd(x, s2), archsimd.LoadFloat32x8Array(&q3[3]).MulAdd(x, s3)
			x = c0.ConcatPermute128Scalars(1, 3, e0)
			s0, s1 = archsimd.LoadFloat32x8Array(&q0[4]).MulAdd(x, s0), archsimd.LoadFloat32x8Array(&q1[4]).MulAdd(x, s1)
			s2, s3 = archsimd.LoadFloat32x8Array(&q2[4]).MulAdd(x, s2), archsimd.LoadFloat32x8Array(&q3[4]).MulAdd(x, s3)
			x = c1.ConcatPermute128Scalars(1, 3, e1)
			s0, s1 = archsimd.LoadFloat32x8Array(&q0[5]).MulAdd(x, s0), archsimd.LoadFloat32x8Array(&q1[5]).MulAdd(x, s1)
			s2, s3 = archsimd.LoadFloat32x8Array(&q2[5]).MulAdd(x, s2), archsimd.LoadFloat32x8Array(&q3[5]).MulAdd(x, s3)
			x = c2.ConcatPermute128Scalars(1, 3, e2)
			s0, s1 = archsimd.LoadFloat32x8Array(&q0[6]).MulAdd(x, s0), archsimd.LoadFloat32x8Array(&q1[6]).MulAdd(x, s1)
			s2, s3 = archsimd.LoadFloat32x8Array(&q2[6]).MulAdd(x, s2), archsimd.LoadFloat32x8Array(&q3[6]).MulAdd(x, s3)
			x = c3.ConcatPermute128Scalars(1, 3, e3)
			s0, s1 = archsimd.LoadFloat32x8Array(&q0[7]).MulAdd(x, s0), archsimd.LoadFloat32x8Array(&q1[7]).MulAdd(x, s1)
			s2, s3 = archsimd.LoadFloat32x8Array(&q2[7]).MulAdd(x, s2), archsimd.LoadFloat32x8Array(&q3[7]).MulAdd(x, s3)
		}
		storeScores(ps[0], j, s0.Mul(sc))
		storeScores(ps[1], j, s1.Mul(sc))
		storeScores(ps[2], j, s2.Mul(sc))
		storeScores(ps[3], j, s3.Mul(sc))
	}
	archsimd.ClearAVXUpperBits()
	return end
}

// attnScoresRowsBlocked is attnScoresRowsSIMD for heads of a multiple of 64 values, keys below
// end (a multiple of 8): attnScoresBlocked for each query (its key rows come from the cache the
// previous query brought them to), except for heads of exactly 64 values, where each key's
// eight vectors are loaded once for the four queries (blockedLanes64K).
func attnScoresRowsBlocked(ps, qs *[AttentionRowsAtOnce][]float32, k []float32, stride, off int, scale float32, end int) {
	if len(qs[0]) != 64 {
		for r := range qs {
			attnScoresBlocked(ps[r], qs[r], k, stride, off, scale, end)
		}
		return
	}
	q0, q1 := (*[64]float32)(qs[0]), (*[64]float32)(qs[1])
	q2, q3 := (*[64]float32)(qs[2]), (*[64]float32)(qs[3])
	sc := archsimd.BroadcastFloat32x8(scale)
	zero := archsimd.BroadcastFloat32x8(0)
	var t [AttentionRowsAtOnce][8][8]uint32 // query r, key j+jj's combined lanes: t[r][jj]
	for j := 0; j < end; j += 8 {
		for jj := 0; jj < 8; jj++ {
			b := (j+jj)*stride + off
			y := (*[64]float32)(k[b : b+64])
			k0 := archsimd.LoadFloat32x8Array((*[8]float32)(y[0:8]))
			k1 := archsimd.LoadFloat32x8Array((*[8]float32)(y[8:16]))
			k2 := archsimd.LoadFloat32x8Array((*[8]float32)(y[16:24]))
			k3 := archsimd.LoadFloat32x8Array((*[8]float32)(y[24:32]))
			k4 := archsimd.LoadFloat32x8Array((*[8]float32)(y[32:40]))
			k5 := archsimd.LoadFloat32x8Array((*[8]float32)(y[40:48]))
			k6 := archsimd.LoadFloat32x8Array((*[8]float32)(y[48:56]))
			k7 := archsimd.LoadFloat32x8Array((*[8]float32)(y[56:64]))
			blockedLanes64K(q0, k0, k1, k2, k3, k4, k5, k6, k7, zero).AsUint32x8().StoreArray(&t[0][jj])
			blockedLanes64K(q1, k0, k1, k2, k3, k4, k5, k6, k7, zero).AsUint32x8().StoreArray(&t[1][jj])
			blockedLanes64K(q2, k0, k1, k2, k3, k4, k5, k6, k7, zero).AsUint32x8().StoreArray(&t[2][jj])
			blockedLanes64K(q3, k0, k1, k2, k3, k4, k5, k6, k7, zero).AsUint32x8().StoreArray(&t[3][jj])
		}
		for r := range ps {
			storeScores(ps[r], j, reduced8(&t[r]).Mul(sc))
		}
	}
	archsimd.ClearAVXUpperBits()
}

// blockedLanes64K is blockedLanes64 with the key's eight vectors already loaded.
func blockedLanes64K(x *[64]float32, k0, k1, k2, k3, k4, k5, k6, k7, zero archsimd.Float32x8) archsimd.Float32x8 {
	a0 := archsimd.LoadFloat32x8Array((*[8]float32)(x[0:8])).MulAdd(k0, zero)
	a4 := archsimd.LoadFloat32x8Array((*[8]float32)(x[32:40])).MulAdd(k4, zero)
	a2 := archsimd.LoadFloat32x8Array((*[8]float32)(x[16:24])).MulAdd(k2, zero)
	a6 := archsimd.LoadFloat32x8Array((*[8]float32)(x[48:56])).MulAdd(k6, zero)
	lo := a0.Add(a4).Add(a2.Add(a6))
	a1 := archsimd.LoadFloat32x8Array((*[8]float32)(x[8:16])).MulAdd(k1, zero)
	a5 := archsimd.LoadFloat32x8Array((*[8]float32)(x[40:48])).MulAdd(k5, zero)
	a3 := archsimd.LoadFloat32x8Array((*[8]float32)(x[24:32])).MulAdd(k3, zero)
	a7 := archsimd.LoadFloat32x8Array((*[8]float32)(x[56:64])).MulAdd(k7, zero)
	hi := a1.Add(a5).Add(a3.Add(a7))
	return lo.Add(hi)
}

// storeScores writes the scores s of keys j…j+7 to p, those below len(p).
func storeScores(p []float32, j int, s archsimd.Float32x8) {
	if j+8 <= len(p) {
		s.Store(p[j : j+8])
		return
	}
	if j < len(p) {
		var last [8]float32
		s.StoreArray(&last)
		copy(p[j:], last[:])
	}
}

// attnValuesRowsSIMD is attnValuesSIMD for the four queries' probabilities ps at once (their
// lengths the keys each sees) into outs: lanes two at a time, each query's two accumulators in
// registers, every value vector loaded once for the four while all of them see its key; each
// accumulator takes its keys in order, as in attnValuesSIMD, and the lanes are reduced the same.
func attnValuesRowsSIMD(outs, ps *[AttentionRowsAtOnce][]float32, v []float32, stride, off int) {
	hd := len(outs[0]) &^ 7
	p0, p1, p2, p3 := ps[0], ps[1], ps[2], ps[3]
	common := min(len(p0), len(p1), len(p2), len(p3))
	var lanes [AttentionRowsAtOnce][16][8]float32
	zero := archsimd.BroadcastFloat32x8(0)
	for d := 0; d < hd; d += 8 {
		base := off + d
		for l := 0; l < 16; l += 2 {
			a0, b0, a1, b1, a2, b2, a3, b3 := zero, zero, zero, zero, zero, zero, zero, zero
			j := l
			for ; j+1 < common; j += 16 {
				r := v[j*stride+base : (j+1)*stride+base+8]
				va := archsimd.LoadFloat32x8(r[0:8])
				vb := archsimd.LoadFloat32x8(r[stride : stride+8])
				a0 = archsimd.BroadcastFloat32x8(p0[j]).MulAdd(va, a0)
				b0 = archsimd.BroadcastFloat32x8(p0[j+1]).MulAdd(vb, b0)
				a1 = archsimd.BroadcastFloat32x8(p1[j]).MulAdd(va, a1)
				b1 = archsimd.BroadcastFloat32x8(p1[j+1]).MulAdd(vb, b1)
				a2 = archsimd.BroadcastFloat32x8(p2[j]).MulAdd(va, a2)
				b2 = archsimd.BroadcastFloat32x8(p2[j+1]).MulAdd(vb, b2)
				a3 = archsimd.BroadcastFloat32x8(p3[j]).MulAdd(va, a3)
				b3 = archsimd.BroadcastFloat32x8(p3[j+1]).MulAdd(vb, b3)
			}
			// The keys of lanes l and l+1 past the shortest query's, query by query.
			a0, b0 = laneTail(p0, v, stride, base, j, a0, b0)
			a1, b1 = laneTail(p1, v, stride, base, j, a1, b1)
			a2, b2 = laneTail(p2, v, stride, base, j, a2, b2)
			a3, b3 = laneTail(p3, v, stride, base, j, a3, b3)
			a0.StoreArray(&lanes[0][l])
			b0.StoreArray(&lanes[0][l+1])
			a1.StoreArray(&lanes[1][l])
			b1.StoreArray(&lanes[1][l+1])
			a2.StoreArray(&lanes[2][l])
			b2.StoreArray(&lanes[2][l+1])
			a3.StoreArray(&lanes[3][l])
			b3.StoreArray(&lanes[3][l+1])
		}
		for r := range lanes {
			// reduce16 for each d, as attnValuesSIMD: halves, quarters, then pairs.
			var h [8]archsimd.Float32x8
			for i := range h {
				h[i] = archsimd.LoadFloat32x8Array(&lanes[r][i]).Add(archsimd.LoadFloat32x8Array(&lanes[r][i+8]))
			}
			q0, q1, q2, q3 := h[0].Add(h[4]), h[1].Add(h[5]), h[2].Add(h[6]), h[3].Add(h[7])
			q0.Add(q2).Add(q1.Add(q3)).Store(outs[r][d : d+8])
		}
	}
	archsimd.ClearAVXUpperBits()
}

// laneTail adds to a (lane j mod 16) and b (the next lane) the terms of keys j, j+1, j+16,
// j+17, … below len(p).
func laneTail(p, v []float32, stride, base, j int, a, b archsimd.Float32x8) (archsimd.Float32x8, archsimd.Float32x8) {
	for ; j < len(p); j += 16 {
		a = archsimd.BroadcastFloat32x8(p[j]).MulAdd(archsimd.LoadFloat32x8(v[j*stride+base:j*stride+base+8]), a)
		if j+1 < len(p) {
			b = archsimd.BroadcastFloat32x8(p[j+1]).MulAdd(archsimd.LoadFloat32x8(v[(j+1)*stride+base:(j+1)*stride+base+8]), b)
		}
	}
	return a, b
}

// keyColumns loads elements 0…7 of eight keys, r[0:8], r[stride:stride+8], … r[7·stride:],
// and transposes them within each 128-bit half (4×4 transposes): c_i holds element i (low half)
// and element 4+i (high half) of keys 0…3, e_i the same of keys 4…7, so that element i of the
// eight keys is c_i.ConcatPermute128Scalars(0, 2, e_i) and element 4+i is (1, 3).
func keyColumns(r []float32, stride int) (c0, c1, c2, c3, e0, e1, e2, e3 archsimd.Float32x8) {
	r = r[:7*stride+8]
	r0 := archsimd.LoadFloat32x8(r[0:8])
	r1 := archsimd.LoadFloat32x8(r[stride : stride+8])
	r2 := archsimd.LoadFloat32x8(r[2*stride : 2*stride+8])
	r3 := archsimd.LoadFloat32x8(r[3*stride : 3*stride+8])
	r4 := archsimd.LoadFloat32x8(r[4*stride : 4*stride+8])
	r5 := archsimd.LoadFloat32x8(r[5*stride : 5*stride+8])
	r6 := archsimd.LoadFloat32x8(r[6*stride : 6*stride+8])
	r7 := archsimd.LoadFloat32x8(r[7*stride : 7*stride+8])
	t0 := r0.ConcatPermuteScalarsGrouped(0, 1, 4, 5, r1)
	t1 := r0.ConcatPermuteScalarsGrouped(2, 3, 6, 7, r1)
	t2 := r2.ConcatPermuteScalarsGrouped(0, 1, 4, 5, r3)
	t3 := r2.ConcatPermuteScalarsGrouped(2, 3, 6, 7, r3)
	u0 := r4.ConcatPermuteScalarsGrouped(0, 1, 4, 5, r5)
	u1 := r4.ConcatPermuteScalarsGrouped(2, 3, 6, 7, r5)
	u2 := r6.ConcatPermuteScalarsGrouped(0, 1, 4, 5, r7)
	u3 := r6.ConcatPermuteScalarsGrouped(2, 3, 6, 7, r7)
	c0 = t0.ConcatPermuteScalarsGrouped(0, 2, 4, 6, t2)
	c1 = t0.ConcatPermuteScalarsGrouped(1, 3, 5, 7, t2)
	c2 = t1.ConcatPermuteScalarsGrouped(0, 2, 4, 6, t3)
	c3 = t1.ConcatPermuteScalarsGrouped(1, 3, 5, 7, t3)
	e0 = u0.ConcatPermuteScalarsGrouped(0, 2, 4, 6, u2)
	e1 = u0.ConcatPermuteScalarsGrouped(1, 3, 5, 7, u2)
	e2 = u1.ConcatPermuteScalarsGrouped(0, 2, 4, 6, u3)
	e3 = u1.ConcatPermuteScalarsGrouped(1, 3, 5, 7, u3)
	return
}
