// matmul.cu: products with weight matrices in ggml's layout (row-major, each row rowBytes long),
// dequantized in registers. Y (n, rows) = X (n, cols) · Wᵀ.
#include "common.cuh"

// dot_row returns to every lane of a warp the dot product of one weight row with x. F32 and F16:
// lane i takes elements i, i+32, …; Q8_0 and Q4_0 take 4 blocks at a time, 8 lanes per block and
// 4 values per lane (for Q8_0 two 16-bit loads of quants and one 16-byte load of the input; for
// Q4_0 one 16-bit load and two 8-byte loads), so the warp reads whole blocks together.
template <int T, bool NORM>
DEV float dot_row(const u8 *row, const float *x, const float *nw, int cols, int lane) {
	float acc = 0.f;
	if (T == T_Q8_0) {
		int nb = cols / QK, sub = lane & 7;
		for (int b = lane >> 3; b < nb; b += 4) {
			const u8 *blk = row + b * Q8_BYTES;
			const u16 *q = (const u16 *)(blk + 2 + sub * 4);
			u16 a = q[0], c = q[1];
			f4 v = *(const f4 *)(x + b * QK + sub * 4);
			if (NORM) {
				f4 u = *(const f4 *)(nw + b * QK + sub * 4);
				v.x *= u.x, v.y *= u.y, v.z *= u.z, v.w *= u.w;
			}
			float s = (float)(i8)(a & 0xff) * v.x + (float)(i8)(a >> 8) * v.y + (float)(i8)(c & 0xff) * v.z +
			          (float)(i8)(c >> 8) * v.w;
			acc += load_half(blk) * s;
		}
	} else if (T == T_Q4_0) {
		int nb = cols / QK, sub = lane & 7;
		for (int b = lane >> 3; b < nb; b += 4) {
			const u8 *blk = row + b * Q4_BYTES;
			u16 q = *(const u16 *)(blk + 2 + sub * 2);
			int q0 = q & 0xff, q1 = q >> 8;
			f2 lo = *(const f2 *)(x + b * QK + sub * 2);
			f2 hi = *(const f2 *)(x + b * QK + 16 + sub * 2);
			if (NORM) {
				f2 ul = *(const f2 *)(nw + b * QK + sub * 2), uh = *(const f2 *)(nw + b * QK + 16 + sub * 2);
				lo.x *= ul.x, lo.y *= ul.y, hi.x *= uh.x, hi.y *= uh.y;
			}
			float s = (float)((q0 & 15) - 8) * lo.x + (float)((q1 & 15) - 8) * lo.y + (float)((q0 >> 4) - 8) * hi.x +
			          (float)((q1 >> 4) - 8) * hi.y;
			acc += load_half(blk) * s;
		}
	} else {
		for (int k = lane; k < cols; k += 32) acc += weight_at<T>(row, k) * (NORM ? x[k] * nw[k] : x[k]);
	}
	return warp_sum(acc);
}

// rms_scale is 1/sqrt(mean(x²) + eps) over a row of cols values, as rmsnorm computes it, for
// every lane of a warp.
DEV float rms_scale(const float *x, int cols, float eps, int lane) {
	float s = 0.f;
	for (int k = lane; k < cols; k += 32) s += x[k] * x[k];
	return 1.f / __nvvm_sqrt_rn_f(warp_sum(s) / (float)cols + eps);
}

// dot_in is dot_row of the input row, RMS-normalized with weights nw first where nw is set.
template <int T>
DEV float dot_in(const u8 *row, const float *x, const float *nw, float rs, int cols, int lane) {
	return nw ? dot_row<T, true>(row, x, nw, cols, lane) * rs : dot_row<T, false>(row, x, nw, cols, lane);
}

// mv: Y (n, rows) = X · Wᵀ, plus Y's own values when acc is set (a product added to the residual
// stream). One warp per weight row, 8 rows per block of 256 threads; gridDim.y walks the inputs.
template <int T>
DEV void mv(const u8 *W, const float *X, float *Y, int rows, int cols, int acc) {
	int r = blockIdx.x * 8 + (threadIdx.x >> 5), lane = threadIdx.x & 31;
	if (r >= rows) return;
	float s = dot_row<T, false>(W + (long)r * row_bytes(T, cols), X + (long)blockIdx.y * cols, nullptr, cols, lane);
	if (lane == 0) {
		float *y = Y + (long)blockIdx.y * rows + r;
		*y = acc ? *y + s : s;
	}
}

// mv3: three products of the same inputs in one launch (a layer's queries, keys and values): the
// grid's rows run through W0's rows, then W1's, then W2's; Yi is (n, ri). Where NW is set the
// inputs are RMS-normalized with weights NW first (eps added to the mean square).
template <int T>
DEV void mv3(const u8 *W0, float *Y0, int r0, const u8 *W1, float *Y1, int r1, const u8 *W2, float *Y2, int r2,
             const float *X, int cols, const float *NW, float eps) {
	int r = blockIdx.x * 8 + (threadIdx.x >> 5), lane = threadIdx.x & 31;
	const u8 *W = W0;
	float *Y = Y0;
	int rows = r0;
	if (r >= r0) {
		r -= r0, W = W1, Y = Y1, rows = r1;
		if (r >= r1) {
			r -= r1, W = W2, Y = Y2, rows = r2;
			if (r >= r2) return;
		}
	}
	const float *x = X + (long)blockIdx.y * cols;
	float rs = NW ? rms_scale(x, cols, eps, lane) : 1.f;
	float s = dot_in<T>(W + (long)r * row_bytes(T, cols), x, NW, rs, cols, lane);
	if (lane == 0) Y[(long)blockIdx.y * rows + r] = s;
}

// mv_swiglu: Y (n, rows) = silu(X · Gᵀ) · (X · Uᵀ), a feed-forward block's first half in one
// launch; NW as for mv3.
template <int T>
DEV void mv_swiglu(const u8 *G, const u8 *U, const float *X, float *Y, int rows, int cols, const float *NW, float eps) {
	int r = blockIdx.x * 8 + (threadIdx.x >> 5), lane = threadIdx.x & 31;
	if (r >= rows) return;
	const float *x = X + (long)blockIdx.y * cols;
	float rs = NW ? rms_scale(x, cols, eps, lane) : 1.f;
	long off = (long)r * row_bytes(T, cols);
	float g = dot_in<T>(G + off, x, NW, rs, cols, lane);
	float u = dot_in<T>(U + off, x, NW, rs, cols, lane);
	if (lane == 0) Y[(long)blockIdx.y * rows + r] = g / (1.f + exp_fast(-g)) * u;
}

#define MV_KERNELS(s, T)                                                                                        \
	KERNEL void mv_##s(const u8 *W, const float *X, float *Y, int rows, int cols, int acc) {                      \
		mv<T>(W, X, Y, rows, cols, acc);                                                                       \
	}                                                                                                          \
	KERNEL void mv3_##s(const u8 *W0, float *Y0, int r0, const u8 *W1, float *Y1, int r1, const u8 *W2, float *Y2, \
	                    int r2, const float *X, int cols, const float *NW, float eps) {                          \
		mv3<T>(W0, Y0, r0, W1, Y1, r1, W2, Y2, r2, X, cols, NW, eps);                                           \
	}                                                                                                          \
	KERNEL void mv_swiglu_##s(const u8 *G, const u8 *U, const float *X, float *Y, int rows, int cols,            \
	                          const float *NW, float eps) {                                                    \
		mv_swiglu<T>(G, U, X, Y, rows, cols, NW, eps);                                                         \
	}
MV_KERNELS(f32, T_F32)
MV_KERNELS(f16, T_F16)
MV_KERNELS(q8_0, T_Q8_0)
MV_KERNELS(q4_0, T_Q4_0)

// mm: a tile of 64 weight rows × 64 input rows per block of 256 threads, 4×4 outputs per thread,
// walking the columns 32 at a time (one quantized block) through shared memory. mode says what
// becomes of a product a: Y = a (MM_STORE), Y += a (MM_ADD), or Y = silu(Y)·a (MM_SWIGLU: Y held
// the gate's product, a is the up product's).
#define MM_STORE 0
#define MM_ADD 1
#define MM_SWIGLU 2
#define MM_T 64
#define MM_K 32

template <int T>
DEV void mm(const u8 *W, const float *X, float *Y, int rows, int cols, int n, int mode) {
	__shared__ float Ws[MM_K][MM_T + 4];
	__shared__ float Xs[MM_K][MM_T + 4];
	int tid = threadIdx.x, tx = tid & 15, ty = tid >> 4;
	int r0 = blockIdx.x * MM_T, n0 = blockIdx.y * MM_T;
	long rb = row_bytes(T, cols);
	// Loader roles: 4 threads per row, 8 consecutive columns each.
	int lr = tid >> 2, lk = (tid & 3) * 8;
	float acc[4][4];
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 4; j++) acc[i][j] = 0.f;
	for (int k0 = 0; k0 < cols; k0 += MM_K) {
		{
			int r = r0 + lr;
			const u8 *row = W + (long)r * rb;
			if (T == T_Q8_0 && r < rows) {
				const u8 *blk = row + (k0 / QK) * Q8_BYTES;
				float d = load_half(blk);
				for (int j = 0; j < 8; j++) Ws[lk + j][lr] = d * (float)(i8)blk[2 + lk + j];
			} else if (T == T_Q4_0 && r < rows) {
				const u8 *blk = row + (k0 / QK) * Q4_BYTES;
				float d = load_half(blk);
				for (int j = 0; j < 8; j++) {
					int e = lk + j;
					int q = e < 16 ? (blk[2 + e] & 15) : (blk[2 + e - 16] >> 4);
					Ws[e][lr] = d * (float)(q - 8);
				}
			} else {
				for (int j = 0; j < 8; j++) {
					int k = k0 + lk + j;
					Ws[lk + j][lr] = (r < rows && k < cols) ? weight_at<T>(row, k) : 0.f;
				}
			}
			int t = n0 + lr;
			const float *x = X + (long)t * cols;
			for (int j = 0; j < 8; j++) {
				int k = k0 + lk + j;
				Xs[lk + j][lr] = (t < n && k < cols) ? x[k] : 0.f;
			}
		}
		sync_threads();
#pragma unroll 8
		for (int k = 0; k < MM_K; k++) {
			float a[4], b[4];
			for (int i = 0; i < 4; i++) a[i] = Ws[k][ty * 4 + i];
			for (int j = 0; j < 4; j++) b[j] = Xs[k][tx * 4 + j];
			for (int i = 0; i < 4; i++)
				for (int j = 0; j < 4; j++) acc[i][j] += a[i] * b[j];
		}
		sync_threads();
	}
	for (int j = 0; j < 4; j++) {
		int t = n0 + tx * 4 + j;
		if (t >= n) continue;
		for (int i = 0; i < 4; i++) {
			int r = r0 + ty * 4 + i;
			if (r >= rows) continue;
			float *y = Y + (long)t * rows + r;
			float a = acc[i][j], g = *y;
			*y = mode == MM_STORE ? a : mode == MM_ADD ? g + a : g / (1.f + exp_fast(-g)) * a;
		}
	}
}

KERNEL void mm_f32(const u8 *W, const float *X, float *Y, int rows, int cols, int n, int mode) { mm<T_F32>(W, X, Y, rows, cols, n, mode); }
KERNEL void mm_f16(const u8 *W, const float *X, float *Y, int rows, int cols, int n, int mode) { mm<T_F16>(W, X, Y, rows, cols, n, mode); }
KERNEL void mm_q8_0(const u8 *W, const float *X, float *Y, int rows, int cols, int n, int mode) { mm<T_Q8_0>(W, X, Y, rows, cols, n, mode); }
KERNEL void mm_q4_0(const u8 *W, const float *X, float *Y, int rows, int cols, int n, int mode) { mm<T_Q4_0>(W, X, Y, rows, cols, n, mode); }

// rows: Y[i] = row ids[i] of W, dequantized (an embedding lookup); one block per id.
template <int T>
DEV void rows_of(const u8 *W, const int *ids, float *Y, int cols) {
	const u8 *row = W + (long)ids[blockIdx.x] * row_bytes(T, cols);
	float *y = Y + (long)blockIdx.x * cols;
	for (int k = threadIdx.x; k < cols; k += blockDim.x) y[k] = weight_at<T>(row, k);
}

KERNEL void rows_f32(const u8 *W, const int *ids, float *Y, int cols) { rows_of<T_F32>(W, ids, Y, cols); }
KERNEL void rows_f16(const u8 *W, const int *ids, float *Y, int cols) { rows_of<T_F16>(W, ids, Y, cols); }
KERNEL void rows_q8_0(const u8 *W, const int *ids, float *Y, int cols) { rows_of<T_Q8_0>(W, ids, Y, cols); }
KERNEL void rows_q4_0(const u8 *W, const int *ids, float *Y, int cols) { rows_of<T_Q4_0>(W, ids, Y, cols); }
