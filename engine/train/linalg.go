package train

import "github.com/attnscope/attnscope/engine/kernels"

// dot is Σ a[i]·b[i] with four partial sums.
func dot[T Float](a, b []T) T {
	b = b[:len(a)]
	var s0, s1, s2, s3 T
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// axpy is y += a·x.
func axpy[T Float](y []T, a T, x []T) {
	x = x[:len(y)]
	for i := range y {
		y[i] += a * x[i]
	}
}

// linear computes y (n, out) = x (n, in) · wᵀ + b, w being (out, in); b may be nil.
func linear[T Float](y, x, w, b []T, n, in, out int) {
	if y32, ok := any(y).([]float32); ok {
		x32, w32 := any(x).([]float32), any(w).([]float32)
		b32, _ := any(b).([]float32)
		for i := 0; i < n; i++ {
			yi := y32[i*out : (i+1)*out]
			kernels.MatVecLanes(yi, w32[:out*in], x32[i*in:(i+1)*in])
			if b32 != nil {
				kernels.Add(yi, b32[:out])
			}
		}
		return
	}
	for i := 0; i < n; i++ {
		xi := x[i*in : (i+1)*in]
		yi := y[i*out : (i+1)*out]
		for o := range yi {
			s := dot(xi, w[o*in:(o+1)*in])
			if b != nil {
				s += b[o]
			}
			yi[o] = s
		}
	}
}

// linearBack accumulates the gradients of linear: dx (n, in) += dy · w, dw (out, in) += dyᵀ · x
// and db += Σ dy. dx and db may be nil.
func linearBack[T Float](dx, dw, db, dy, x, w []T, n, in, out int) {
	if dy32, ok := any(dy).([]float32); ok && n >= 4 {
		linearBack32(any(dx).([]float32), any(dw).([]float32), any(db).([]float32), dy32, any(x).([]float32), any(w).([]float32), n, in, out)
		return
	}
	for i := 0; i < n; i++ {
		xi := x[i*in : (i+1)*in]
		dyi := dy[i*out : (i+1)*out]
		var dxi []T
		if dx != nil {
			dxi = dx[i*in : (i+1)*in]
		}
		for o, g := range dyi {
			if g == 0 {
				continue
			}
			axpy(dw[o*in:(o+1)*in], g, xi)
			if dxi != nil {
				axpy(dxi, g, w[o*in:(o+1)*in])
			}
			if db != nil {
				db[o] += g
			}
		}
	}
}

// linearBack32 is linearBack for float32 through the vector kernel: dx through the transposed
// matrix, dw from the transposed inputs and output gradients, their position axis padded with
// zeros to a multiple of 16.
func linearBack32(dx, dw, db, dy, x, w []float32, n, in, out int) {
	if dx != nil {
		wt := make([]float32, in*out) // (in, out)
		for o := 0; o < out; o++ {
			for j, v := range w[o*in : (o+1)*in] {
				wt[j*out+o] = v
			}
		}
		tmp := make([]float32, in)
		for i := 0; i < n; i++ {
			kernels.MatVecLanes(tmp, wt, dy[i*out:(i+1)*out])
			kernels.Add(dx[i*in:(i+1)*in], tmp)
		}
	}
	m := (n + 15) &^ 15
	xt := make([]float32, in*m)   // (in, m)
	dyt := make([]float32, out*m) // (out, m)
	for i := 0; i < n; i++ {
		for j, v := range x[i*in : (i+1)*in] {
			xt[j*m+i] = v
		}
		for o, v := range dy[i*out : (i+1)*out] {
			dyt[o*m+i] = v
		}
	}
	tmp := make([]float32, in)
	for o := 0; o < out; o++ {
		g := dyt[o*m : (o+1)*m]
		var sum float32
		for _, v := range g {
			sum += v
		}
		if sum == 0 && allZero(g) {
			continue
		}
		kernels.MatVecLanes(tmp, xt, g)
		kernels.Add(dw[o*in:(o+1)*in], tmp)
		if db != nil {
			db[o] += sum
		}
	}
}

func allZero(x []float32) bool {
	for _, v := range x {
		if v != 0 {
			return false
		}
	}
	return true
}
