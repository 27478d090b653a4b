// elementwise.cu: norms, rotary embeddings, activations and sums over float32 rows.
#include "common.cuh"

// rmsnorm: Y[r] = X[r] / sqrt(mean(X[r]²) + eps) · w; one block per row.
KERNEL void rmsnorm(const float *X, const float *w, float *Y, int dim, float eps) {
	__shared__ float red[32];
	const float *x = X + (long)blockIdx.x * dim;
	float *y = Y + (long)blockIdx.x * dim;
	float s = 0.f;
	for (int k = threadIdx.x; k < dim; k += blockDim.x) s += x[k] * x[k];
	s = block_sum(s, red);
	float scale = 1.f / __nvvm_sqrt_rn_f(s / (float)dim + eps);
	for (int k = threadIdx.x; k < dim; k += blockDim.x) y[k] = x[k] * scale * w[k];
}

// layernorm: Y[r] = (X[r] − mean) / sqrt(var + eps) · w + b (b may be null); one block per row.
KERNEL void layernorm(const float *X, const float *w, const float *b, float *Y, int dim, float eps) {
	__shared__ float red[32];
	const float *x = X + (long)blockIdx.x * dim;
	float *y = Y + (long)blockIdx.x * dim;
	float s = 0.f;
	for (int k = threadIdx.x; k < dim; k += blockDim.x) s += x[k];
	float mean = block_sum(s, red) / (float)dim;
	float v = 0.f;
	for (int k = threadIdx.x; k < dim; k += blockDim.x) {
		float d = x[k] - mean;
		v += d * d;
	}
	float scale = 1.f / __nvvm_sqrt_rn_f(block_sum(v, red) / (float)dim + eps);
	for (int k = threadIdx.x; k < dim; k += blockDim.x) {
		float o = (x[k] - mean) * scale * w[k];
		y[k] = b ? o + b[k] : o;
	}
}

// rope rotates the first rdims dimensions of every head of X (rows, heads, hd) in place; row i is
// at position pos0+i and cs holds (cos, sin) for each position and pair. neox pairs (j, j+rdims/2),
// else (2j, 2j+1). One thread per (row, head, pair).
KERNEL void rope(float *X, const float *cs, int rows, int heads, int hd, int rdims, int pos0, int neox) {
	int half = rdims / 2;
	long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
	if (i >= (long)rows * heads * half) return;
	int j = i % half;
	long rh = i / half;
	int row = rh / heads;
	float *x = X + rh * hd;
	const float *c = cs + ((long)(pos0 + row) * half + j) * 2;
	int a = neox ? j : 2 * j, b = neox ? j + half : 2 * j + 1;
	float x0 = x[a], x1 = x[b];
	x[a] = x0 * c[0] - x1 * c[1];
	x[b] = x0 * c[1] + x1 * c[0];
}

// rope_store: a layer's new queries and keys rotated and its keys and values stored, in one
// launch. Q (rows, heads, hd) and K (rows, kvh, hd) are rotated in place as rope does; K and V
// (rows, kvh, hd) are then copied to KC and VC from value kcoff (the cache) and, when S is not
// null, to S from soff (keys) and soff + rows·kvh·hd (values). One thread per pair of values:
// (rows, heads + 2·kvh, hd/2) threads.
KERNEL void rope_store(float *Q, float *K, const float *V, const float *cs, float *KC, float *VC, long kcoff,
                       float *S, long soff, int rows, int heads, int kvh, int hd, int rdims, int pos0, int neox) {
	int half = rdims / 2, hp = hd / 2, hh = heads + 2 * kvh;
	long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
	if (i >= (long)rows * hh * hp) return;
	int t = i % hp;
	int head = (i / hp) % hh;
	int row = i / ((long)hp * hh);
	int kvd = kvh * hd;
	// The pair this thread takes: rotated pairs first, then the values beyond rdims two at a time.
	int a, b;
	if (t < half) {
		a = neox ? t : 2 * t;
		b = neox ? t + half : 2 * t + 1;
	} else {
		a = rdims + 2 * (t - half);
		b = a + 1;
	}
	if (head < heads + kvh) {
		float *x = head < heads ? Q + ((long)row * heads + head) * hd : K + (long)row * kvd + (long)(head - heads) * hd;
		float x0 = x[a], x1 = x[b];
		if (t < half) {
			const float *c = cs + ((long)(pos0 + row) * half + t) * 2;
			float y0 = x0 * c[0] - x1 * c[1], y1 = x0 * c[1] + x1 * c[0];
			x0 = y0, x1 = y1;
			x[a] = x0, x[b] = x1;
		}
		if (head >= heads) {
			long o = (long)row * kvd + (long)(head - heads) * hd;
			KC[kcoff + o + a] = x0, KC[kcoff + o + b] = x1;
			if (S) S[soff + o + a] = x0, S[soff + o + b] = x1;
		}
		return;
	}
	long o = (long)row * kvd + (long)(head - heads - kvh) * hd;
	float v0 = V[o + a], v1 = V[o + b];
	VC[kcoff + o + a] = v0, VC[kcoff + o + b] = v1;
	if (S) {
		long so = soff + (long)rows * kvd + o;
		S[so + a] = v0, S[so + b] = v1;
	}
}

// swiglu: G = silu(G) · U over n values.
KERNEL void swiglu(float *G, const float *U, long n) {
	long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
	if (i >= n) return;
	float g = G[i];
	G[i] = g / (1.f + exp_fast(-g)) * U[i];
}

// gelu: the tanh approximation, in place over n values.
KERNEL void gelu(float *X, long n) {
	long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
	if (i >= n) return;
	float x = X[i];
	float u = 0.7978845608028654f * x * (1.f + 0.044715f * x * x);
	float t = 1.f - 2.f / (exp_fast(2.f * u) + 1.f);
	X[i] = 0.5f * x * (1.f + t);
}

// add: X += Y over n values.
KERNEL void add(float *X, const float *Y, long n) {
	long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
	if (i < n) X[i] += Y[i];
}

// add_rows: X[r] += b for each of the rows of dim values (a bias, or a position's embedding).
KERNEL void add_rows(float *X, const float *b, long n, int dim) {
	long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
	if (i < n) X[i] += b[i % dim];
}

// softmax_rows: each row of cols values becomes its softmax; one block per row.
KERNEL void softmax_rows(float *X, int cols) {
	__shared__ float red[32];
	float *x = X + (long)blockIdx.x * cols;
	float m = NEG_INF;
	for (int k = threadIdx.x; k < cols; k += blockDim.x) m = __builtin_fmaxf(m, x[k]);
	m = block_max(m, red);
	float s = 0.f;
	for (int k = threadIdx.x; k < cols; k += blockDim.x) {
		float e = exp_fast(x[k] - m);
		x[k] = e;
		s += e;
	}
	float inv = 1.f / block_sum(s, red);
	for (int k = threadIdx.x; k < cols; k += blockDim.x) x[k] *= inv;
}
