// common.cuh: what the kernels need from CUDA, defined here so that clang compiles them to PTX with
// no NVIDIA headers or libraries (-nocudainc -nocudalib).
#pragma once

#define __global__ __attribute__((global))
#define __device__ __attribute__((device))
#define __shared__ __attribute__((shared))
#define __forceinline__ __attribute__((always_inline))
#define KERNEL extern "C" __global__
#define DEV static __device__ __forceinline__

#include "__clang_cuda_builtin_vars.h"

typedef unsigned char u8;
typedef signed char i8;
typedef unsigned short u16;

// Vectors for 16- and 8-byte loads and stores.
struct __attribute__((aligned(16))) f4 { float x, y, z, w; };
struct __attribute__((aligned(8))) f2 { float x, y; };

DEV int imin(int a, int b) { return a < b ? a : b; }

#define FULL_MASK 0xffffffffu
#define NEG_INF (-__builtin_huge_valf())

DEV void sync_threads() { __syncthreads(); }

// f16 → f32 with the hardware conversion.
DEV float half_to_float(u16 h) {
	float f;
	asm("{ .reg .b16 t; mov.b16 t, %1; cvt.f32.f16 %0, t; }" : "=f"(f) : "h"(h));
	return f;
}

// 2^x and e^x through the special-function unit (relative error about 2 ulp).
DEV float exp2_fast(float x) { return __nvvm_ex2_approx_ftz_f(x); }
DEV float exp_fast(float x) { return __nvvm_ex2_approx_ftz_f(x * 1.4426950408889634f); }

DEV float warp_sum(float v) {
	for (int o = 16; o > 0; o >>= 1) v += __nvvm_shfl_sync_bfly_f32(FULL_MASK, v, o, 0x1f);
	return v;
}

DEV float warp_max(float v) {
	for (int o = 16; o > 0; o >>= 1) v = __builtin_fmaxf(v, __nvvm_shfl_sync_bfly_f32(FULL_MASK, v, o, 0x1f));
	return v;
}

DEV float shfl(float v, int lane) { return __nvvm_shfl_sync_idx_f32(FULL_MASK, v, lane, 0x1f); }

// block_sum reduces v over the whole block (blockDim.x a multiple of 32, at most 1024); red holds
// 32 floats of shared memory. Every thread gets the result.
DEV float block_sum(float v, float *red) {
	int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = blockDim.x >> 5;
	v = warp_sum(v);
	sync_threads();
	if (lane == 0) red[w] = v;
	sync_threads();
	v = lane < nw ? red[lane] : 0.f;
	return warp_sum(v);
}

DEV float block_max(float v, float *red) {
	int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = blockDim.x >> 5;
	v = warp_max(v);
	sync_threads();
	if (lane == 0) red[w] = v;
	sync_threads();
	v = lane < nw ? red[lane] : NEG_INF;
	return warp_max(v);
}

// Weight types, numbered as ggml numbers them.
#define T_F32 0
#define T_F16 1
#define T_Q4_0 2
#define T_Q8_0 8

// Quantized blocks of 32 values: a little-endian f16 scale, then the values.
#define QK 32
#define Q8_BYTES 34
#define Q4_BYTES 18

DEV float load_half(const u8 *p) { return half_to_float((u16)p[0] | ((u16)p[1] << 8)); }

// weight_at returns element k of a row that starts at row (in bytes) for weight type T.
template <int T> DEV float weight_at(const u8 *row, int k);
template <> __device__ __forceinline__ float weight_at<T_F32>(const u8 *row, int k) { return ((const float *)row)[k]; }
template <> __device__ __forceinline__ float weight_at<T_F16>(const u8 *row, int k) { return load_half(row + 2 * k); }
template <> __device__ __forceinline__ float weight_at<T_Q8_0>(const u8 *row, int k) {
	const u8 *b = row + (k / QK) * Q8_BYTES;
	return load_half(b) * (float)(i8)b[2 + k % QK];
}
template <> __device__ __forceinline__ float weight_at<T_Q4_0>(const u8 *row, int k) {
	const u8 *b = row + (k / QK) * Q4_BYTES;
	int j = k % QK;
	int q = j < 16 ? (b[2 + j] & 15) : (b[2 + j - 16] >> 4);
	return load_half(b) * (float)(q - 8);
}

// row_bytes is the length of a row of n elements.
DEV long row_bytes(int T, int n) {
	switch (T) {
	case T_F32: return 4L * n;
	case T_F16: return 2L * n;
	case T_Q8_0: return (long)(n / QK) * Q8_BYTES;
	default: return (long)(n / QK) * Q4_BYTES;
	}
}
