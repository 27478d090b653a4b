//go:build goexperiment.simd && (wasm || arm64)

package kernels

import "simd/archsimd"

// One query's attention on 128-bit vectors (NEON, WebAssembly's SIMD128), each multiply-add
// as the platform's plain loops do it: laneMulAdd is fused on arm64 and a rounded product
// then a rounded sum in WebAssembly.

// attnValuesSIMD computes out[d] = dotLanesStrided(p, v, stride, off+d, true) for the d below
// len(out)&^3, four d a vector: accumulator l takes the keys j ≡ l (mod 16), p[j]·v_j[d…d+3]
// added as the plain loop does (laneMulAdd), and the sixteen are reduced in reduce16's order.
// It returns how many d it did.
func attnValuesSIMD(out, p, v []float32, stride, off int) int {
	hd := len(out) &^ 3
	n := len(p)
	full := n &^ 15
	for d := 0; d < hd; d += 4 {
		// add returns acc plus key j's term.
		add := func(acc archsimd.Float32x4, j int) archsimd.Float32x4 {
			b := j*stride + off + d
			return laneMulAdd(archsimd.BroadcastFloat32x4(p[j]), archsimd.LoadFloat32x4Array((*[4]float32)(v[b:b+4])), acc)
		}
		// The sixteen accumulators stay in locals through the main loop (in WebAssembly an
		// array of vectors lives in memory), then go to an array for the last keys and the
		// reduction.
		z := archsimd.BroadcastFloat32x4(0)
		a0, a1, a2, a3, a4, a5, a6, a7 := z, z, z, z, z, z, z, z
		a8, a9, a10, a11, a12, a13, a14, a15 := z, z, z, z, z, z, z, z
		for c := 0; c < full; c += 16 {
			a0, a1, a2, a3 = add(a0, c), add(a1, c+1), add(a2, c+2), add(a3, c+3)
			a4, a5, a6, a7 = add(a4, c+4), add(a5, c+5), add(a6, c+6), add(a7, c+7)
			a8, a9, a10, a11 = add(a8, c+8), add(a9, c+9), add(a10, c+10), add(a11, c+11)
			a12, a13, a14, a15 = add(a12, c+12), add(a13, c+13), add(a14, c+14), add(a15, c+15)
		}
		a := [16]archsimd.Float32x4{a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15}
		for j := full; j < n; j++ {
			a[j&15] = add(a[j&15], j)
		}
		var h [8]archsimd.Float32x4
		for l := range h {
			h[l] = a[l].Add(a[l+8])
		}
		q0, q1, q2, q3 := h[0].Add(h[4]), h[1].Add(h[5]), h[2].Add(h[6]), h[3].Add(h[7])
		q0.Add(q2).Add(q1.Add(q3)).StoreArray((*[4]float32)(out[d : d+4]))
	}
	return hd
}

// attnScoresSIMD sets p[j] = DotBlocked(q, k_j)·scale, k_j = k[j·stride+off:], for the keys j
// below len(p)&^3 when the head is shorter than 64 values, four keys a vector, and returns how
// many keys it did (0 for longer heads, whose DotBlocked is on vectors itself). Such a head is
// all tail in DotBlocked's order, one chain of multiply-adds in order (laneMulAdd); each lane
// runs one key's chain, its values gathered. Where k holds rows up to the next multiple of
// four keys (a cache's padding), the last keys run in a full group too (the extra rows
// computed and dropped) and all len(p) are done.
func attnScoresSIMD(p, q, k []float32, stride, off int, scale float32) int {
	hd := len(q)
	if hd >= 64 {
		return 0
	}
	n4 := len(p) &^ 3
	end := n4
	if n4 < len(p) && len(k) >= (n4+3)*stride+off+hd {
		end = n4 + 4
	}
	sc := archsimd.BroadcastFloat32x4(scale)
	z := archsimd.BroadcastFloat32x4(0)
	for j := 0; j < end; j += 4 {
		k0 := k[j*stride+off : j*stride+off+hd]
		k1 := k[(j+1)*stride+off : (j+1)*stride+off+hd]
		k2 := k[(j+2)*stride+off : (j+2)*stride+off+hd]
		k3 := k[(j+3)*stride+off : (j+3)*stride+off+hd]
		s := z
		for i, qi := range q {
			// From z, not s: built on s, the gather would wait for the previous step.
			kv := z.SetElem(0, k0[i]).SetElem(1, k1[i]).SetElem(2, k2[i]).SetElem(3, k3[i])
			s = laneMulAdd(archsimd.BroadcastFloat32x4(qi), kv, s)
		}
		if j < n4 {
			s.Mul(sc).StoreArray((*[4]float32)(p[j : j+4]))
			continue
		}
		var last [4]float32
		s.Mul(sc).StoreArray(&last)
		copy(p[n4:], last[:])
		return len(p)
	}
	return n4
}
