//go:build goexperiment.simd && amd64

package kernels

import "simd/archsimd"

// attnValuesSIMD computes out[d] = dotLanesStrided(p, v, stride, off+d, true) for every d < len(out)&^7
// with the key axis in 16 lanes (lane j mod 16 takes key j), vectorized over d: for a block of
// eight consecutive d the accumulator of lane l is one vector, each key one fused multiply-add
// into its lane's vector, and the reduction of the 16 lanes is done for the eight d at once.
// Every d therefore sees the same operations in the same order as the plain version. It returns
// how many leading entries of out it filled.
func attnValuesSIMD(out, p, v []float32, stride, off int) int {
	hd := len(out) &^ 7
	var lo, hi [8][8]float32 // lanes 0…7 and 8…15, each over eight d
	for d := 0; d < hd; d += 8 {
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
