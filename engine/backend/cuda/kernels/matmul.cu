// matmul.cu: products with weight matrices in ggml's layout (row-major, each row rowBytes long),
// dequantized in registers. Y (n, rows) = X (n, cols) · Wᵀ.
#include "common.cuh"

// mv: one warp per weight row, the lanes over the row's elements (lane i takes element i of each
// 32-value block, so a warp reads a block's bytes together); gridDim.y walks the input rows.
// Blocks of 256 threads: 8 weight rows each.
template <int T>
DEV void mv(const u8 *W, const float *X, float *Y, int rows, int cols) {
	int r = blockIdx.x * 8 + (threadIdx.x >> 5), lane = threadIdx.x & 31;
	if (r >= rows) return;
	const u8 *row = W + (long)r * row_bytes(T, cols);
	const float *x = X + (long)blockIdx.y * cols;
	float acc = 0.f;
	if (T == T_Q8_0) {
		int nb = cols / QK;
		for (int b = 0; b < nb; b++) {
			const u8 *blk = row + b * Q8_BYTES;
			acc += load_half(blk) * ((float)(i8)blk[2 + lane] * x[b * QK + lane]);
		}
	} else if (T == T_Q4_0) {
		int nb = cols / QK, j = lane & 15, sh = lane < 16 ? 0 : 4;
		for (int b = 0; b < nb; b++) {
			const u8 *blk = row + b * Q4_BYTES;
			int q = (blk[2 + j] >> sh) & 15;
			acc += load_half(blk) * ((float)(q - 8) * x[b * QK + lane]);
		}
	} else {
		for (int k = lane; k < cols; k += 32) acc += weight_at<T>(row, k) * x[k];
	}
	acc = warp_sum(acc);
	if (lane == 0) Y[(long)blockIdx.y * rows + r] = acc;
}

KERNEL void mv_f32(const u8 *W, const float *X, float *Y, int rows, int cols) { mv<T_F32>(W, X, Y, rows, cols); }
KERNEL void mv_f16(const u8 *W, const float *X, float *Y, int rows, int cols) { mv<T_F16>(W, X, Y, rows, cols); }
KERNEL void mv_q8_0(const u8 *W, const float *X, float *Y, int rows, int cols) { mv<T_Q8_0>(W, X, Y, rows, cols); }
KERNEL void mv_q4_0(const u8 *W, const float *X, float *Y, int rows, int cols) { mv<T_Q4_0>(W, X, Y, rows, cols); }

// mm: a tile of 64 weight rows × 64 input rows per block of 256 threads, 4×4 outputs per thread,
// walking the columns 32 at a time (one quantized block) through shared memory.
#define MM_T 64
#define MM_K 32

template <int T>
DEV void mm(const u8 *W, const float *X, float *Y, int rows, int cols, int n) {
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
			if (r < rows) Y[(long)t * rows + r] = acc[i][j];
		}
	}
}

KERNEL void mm_f32(const u8 *W, const float *X, float *Y, int rows, int cols, int n) { mm<T_F32>(W, X, Y, rows, cols, n); }
KERNEL void mm_f16(const u8 *W, const float *X, float *Y, int rows, int cols, int n) { mm<T_F16>(W, X, Y, rows, cols, n); }
KERNEL void mm_q8_0(const u8 *W, const float *X, float *Y, int rows, int cols, int n) { mm<T_Q8_0>(W, X, Y, rows, cols, n); }
KERNEL void mm_q4_0(const u8 *W, const float *X, float *Y, int rows, int cols, int n) { mm<T_Q4_0>(W, X, Y, rows, cols, n); }

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

// mv4: the row-by-row product for the quantized types with wider loads: the warp takes 4 blocks
// at a time, 8 lanes per block, each lane 4 values (two 16-bit loads of the weights and one
// 16-byte load of the input for Q8_0; one 16-bit load and two 8-byte loads for Q4_0).
struct __attribute__((aligned(16))) f4 { float x, y, z, w; };
struct __attribute__((aligned(8))) f2 { float x, y; };

KERNEL void mv4_q8_0(const u8 *W, const float *X, float *Y, int rows, int cols) {
	int r = blockIdx.x * 8 + (threadIdx.x >> 5), lane = threadIdx.x & 31;
	if (r >= rows) return;
	int nb = cols / QK, sub = lane & 7;
	const u8 *row = W + (long)r * nb * Q8_BYTES;
	const float *x = X + (long)blockIdx.y * cols;
	float acc = 0.f;
	for (int b = lane >> 3; b < nb; b += 4) {
		const u8 *blk = row + b * Q8_BYTES;
		const u16 *q = (const u16 *)(blk + 2 + sub * 4);
		u16 a = q[0], c = q[1];
		f4 v = *(const f4 *)(x + b * QK + sub * 4);
		float s = (float)(i8)(a & 0xff) * v.x + (float)(i8)(a >> 8) * v.y + (float)(i8)(c & 0xff) * v.z +
		          (float)(i8)(c >> 8) * v.w;
		acc += load_half(blk) * s;
	}
	acc = warp_sum(acc);
	if (lane == 0) Y[(long)blockIdx.y * rows + r] = acc;
}

KERNEL void mv4_q4_0(const u8 *W, const float *X, float *Y, int rows, int cols) {
	int r = blockIdx.x * 8 + (threadIdx.x >> 5), lane = threadIdx.x & 31;
	if (r >= rows) return;
	int nb = cols / QK, sub = lane & 7;
	const u8 *row = W + (long)r * nb * Q4_BYTES;
	const float *x = X + (long)blockIdx.y * cols;
	float acc = 0.f;
	for (int b = lane >> 3; b < nb; b += 4) {
		const u8 *blk = row + b * Q4_BYTES;
		u16 q = *(const u16 *)(blk + 2 + sub * 2);
		int q0 = q & 0xff, q1 = q >> 8;
		f2 lo = *(const f2 *)(x + b * QK + sub * 2);
		f2 hi = *(const f2 *)(x + b * QK + 16 + sub * 2);
		float s = (float)((q0 & 15) - 8) * lo.x + (float)((q1 & 15) - 8) * lo.y + (float)((q0 >> 4) - 8) * hi.x +
		          (float)((q1 >> 4) - 8) * hi.y;
		acc += load_half(blk) * s;
	}
	acc = warp_sum(acc);
	if (lane == 0) Y[(long)blockIdx.y * rows + r] = acc;
}
