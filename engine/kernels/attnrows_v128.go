//go:build goexperiment.simd && (wasm || arm64)

package kernels

import "simd/archsimd"

// Four queries' attention on 128-bit vectors (AttentionRows, and Flash's tiles), each
// multiply-add as the platform's plain loops do it (laneMulAdd: fused on arm64, a rounded
// product then a rounded sum in WebAssembly), so that every query gets the bits of the
// one-query kernels in attention_v128.go.

// attnRowsOn says whether AttentionRows has vector kernels for heads of hd values.
func attnRowsOn(hd int) bool { return (wasmFloatSIMD || simdLevel == simdNEON) && hd%4 == 0 }

// attnScoresRowsSIMD is attnScoresSIMD for the four queries qs at once, into ps (their lengths
// the keys each sees; maxKeys the most): each key element gathered once for the four, every
// query's chains the same as attnScoresSIMD's. It returns how many keys it did for every query
// (0 for heads of 64 values or more), rows past a query's keys computed and dropped.
func attnScoresRowsSIMD(ps, qs *[AttentionRowsAtOnce][]float32, k []float32, stride, off int, scale float32, maxKeys int) int {
	hd := len(qs[0])
	if hd >= 64 {
		return 0
	}
	n4 := maxKeys &^ 3
	end := n4
	if n4 < maxKeys && len(k) >= (n4+3)*stride+off+hd {
		end = n4 + 4
	}
	sc := archsimd.BroadcastFloat32x4(scale)
	z := archsimd.BroadcastFloat32x4(0)
	q0, q1, q2, q3 := qs[0][:hd], qs[1][:hd], qs[2][:hd], qs[3][:hd]
	for j := 0; j < end; j += 4 {
		k0 := k[j*stride+off : j*stride+off+hd]
		k1 := k[(j+1)*stride+off : (j+1)*stride+off+hd]
		k2 := k[(j+2)*stride+off : (j+2)*stride+off+hd]
		k3 := k[(j+3)*stride+off : (j+3)*stride+off+hd]
		s0, s1, s2, s3 := z, z, z, z
		for i := range hd {
			kv := z.SetElem(0, k0[i]).SetElem(1, k1[i]).SetElem(2, k2[i]).SetElem(3, k3[i])
			s0 = laneMulAdd(archsimd.BroadcastFloat32x4(q0[i]), kv, s0)
			s1 = laneMulAdd(archsimd.BroadcastFloat32x4(q1[i]), kv, s1)
			s2 = laneMulAdd(archsimd.BroadcastFloat32x4(q2[i]), kv, s2)
			s3 = laneMulAdd(archsimd.BroadcastFloat32x4(q3[i]), kv, s3)
		}
		storeScores4(ps[0], j, s0.Mul(sc))
		storeScores4(ps[1], j, s1.Mul(sc))
		storeScores4(ps[2], j, s2.Mul(sc))
		storeScores4(ps[3], j, s3.Mul(sc))
	}
	return end
}

// storeScores4 writes the scores s of keys j…j+3 to p, those below len(p).
func storeScores4(p []float32, j int, s archsimd.Float32x4) {
	if j+4 <= len(p) {
		s.StoreArray((*[4]float32)(p[j : j+4]))
		return
	}
	if j < len(p) {
		var last [4]float32
		s.StoreArray(&last)
		copy(p[j:], last[:])
	}
}

// attnValuesRowsSIMD is attnValuesSIMD for the four queries' probabilities ps at once (their
// lengths the keys each sees) into outs: lanes two at a time, each query's two accumulators in
// locals, every value vector loaded once for the four while all of them see its key; each
// accumulator takes its keys in order, as in attnValuesSIMD, and the lanes are reduced the same.
func attnValuesRowsSIMD(outs, ps *[AttentionRowsAtOnce][]float32, v []float32, stride, off int) {
	hd := len(outs[0]) &^ 3
	p0, p1, p2, p3 := ps[0], ps[1], ps[2], ps[3]
	common := min(len(p0), len(p1), len(p2), len(p3))
	var lanes [AttentionRowsAtOnce][16]archsimd.Float32x4
	for d := 0; d < hd; d += 4 {
		base := off + d
		for l := 0; l < 16; l += 2 {
			z := archsimd.BroadcastFloat32x4(0)
			a0, b0, a1, b1, a2, b2, a3, b3 := z, z, z, z, z, z, z, z
			j := l
			for ; j+1 < common; j += 16 {
				va := archsimd.LoadFloat32x4Array((*[4]float32)(v[j*stride+base : j*stride+base+4]))
				vb := archsimd.LoadFloat32x4Array((*[4]float32)(v[(j+1)*stride+base : (j+1)*stride+base+4]))
				a0 = laneMulAdd(archsimd.BroadcastFloat32x4(p0[j]), va, a0)
				b0 = laneMulAdd(archsimd.BroadcastFloat32x4(p0[j+1]), vb, b0)
				a1 = laneMulAdd(archsimd.BroadcastFloat32x4(p1[j]), va, a1)
				b1 = laneMulAdd(archsimd.BroadcastFloat32x4(p1[j+1]), vb, b1)
				a2 = laneMulAdd(archsimd.BroadcastFloat32x4(p2[j]), va, a2)
				b2 = laneMulAdd(archsimd.BroadcastFloat32x4(p2[j+1]), vb, b2)
				a3 = laneMulAdd(archsimd.BroadcastFloat32x4(p3[j]), va, a3)
				b3 = laneMulAdd(archsimd.BroadcastFloat32x4(p3[j+1]), vb, b3)
			}
			// The keys of lanes l and l+1 past the shortest query's, query by query.
			lanes[0][l], lanes[0][l+1] = laneTail4(p0, v, stride, base, j, a0, b0)
			lanes[1][l], lanes[1][l+1] = laneTail4(p1, v, stride, base, j, a1, b1)
			lanes[2][l], lanes[2][l+1] = laneTail4(p2, v, stride, base, j, a2, b2)
			lanes[3][l], lanes[3][l+1] = laneTail4(p3, v, stride, base, j, a3, b3)
		}
		for r := range lanes {
			a := &lanes[r]
			var h [8]archsimd.Float32x4
			for i := range h {
				h[i] = a[i].Add(a[i+8])
			}
			q0, q1, q2, q3 := h[0].Add(h[4]), h[1].Add(h[5]), h[2].Add(h[6]), h[3].Add(h[7])
			q0.Add(q2).Add(q1.Add(q3)).StoreArray((*[4]float32)(outs[r][d : d+4]))
		}
	}
}

// laneTail4 adds to a (lane j mod 16) and b (the next lane) the terms of keys j, j+1, j+16,
// j+17, … below len(p), as attnValuesSIMD does.
func laneTail4(p, v []float32, stride, base, j int, a, b archsimd.Float32x4) (archsimd.Float32x4, archsimd.Float32x4) {
	for ; j < len(p); j += 16 {
		a = laneMulAdd(archsimd.BroadcastFloat32x4(p[j]), archsimd.LoadFloat32x4Array((*[4]float32)(v[j*stride+base:j*stride+base+4])), a)
		if j+1 < len(p) {
			b = laneMulAdd(archsimd.BroadcastFloat32x4(p[j+1]), archsimd.LoadFloat32x4Array((*[4]float32)(v[(j+1)*stride+base:(j+1)*stride+base+4])), b)
		}
	}
	return a, b
}
