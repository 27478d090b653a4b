// attention.cu: scaled dot-product attention over a KV cache.
//
// Q and O are (n, nh, hd): query i is at position pos0+i. K and V are the cache, one row of kvstride
// floats per position, KV head g at offset g·hd; query head h reads KV head h / (nh / nkv).
// Causal queries see positions 0 … pos0+i, others all total positions.
#include "common.cuh"

#define FA_WARPS 4
#define FA_QPW 4                      // queries per warp
#define FA_Q (FA_WARPS * FA_QPW)      // queries per block
#define FA_KT 32                      // keys per tile: one per lane

// flash: the tiled attention with an online softmax. Each block takes FA_Q queries of one head
// and walks the keys in tiles through shared memory, keeping per query the running maximum, the
// running sum and the output row; the probabilities never leave registers and shared memory.
// Lane j scores key j of the tile for the warp's queries; output dimension d is held by lane
// d mod 32 (DPL dimensions per lane, hd ≤ 32·DPL).
// Dynamic shared memory: (FA_KT·(hd+1) + FA_KT·hd + FA_Q·hd + FA_Q·FA_KT) floats.
template <int DPL>
DEV void flash(const float *Q, const float *K, const float *V, float *O, int n, int pos0, int total,
               int nh, int nkv, int hd, int kvstride, float scale, int causal) {
	extern __shared__ float sm[];
	int hdp = hd + 1;
	float *Ks = sm;
	float *Vs = Ks + FA_KT * hdp;
	float *Qs = Vs + FA_KT * hd;
	float *Ps = Qs + FA_Q * hd;
	int h = blockIdx.y, g = h / (nh / nkv);
	int q0 = blockIdx.x * FA_Q;
	int tid = threadIdx.x, lane = tid & 31, w = tid >> 5;
	for (int e = tid; e < FA_Q * hd; e += FA_WARPS * 32) {
		int i = q0 + e / hd, d = e % hd;
		Qs[e] = i < n ? Q[((long)i * nh + h) * hd + d] * scale : 0.f;
	}
	float m[FA_QPW], l[FA_QPW], acc[FA_QPW][DPL];
	for (int a = 0; a < FA_QPW; a++) {
		m[a] = NEG_INF;
		l[a] = 0.f;
		for (int t = 0; t < DPL; t++) acc[a][t] = 0.f;
	}
	int qlast = q0 + FA_Q - 1 < n - 1 ? q0 + FA_Q - 1 : n - 1;
	int kend = causal ? pos0 + qlast + 1 : total;
	for (int k0 = 0; k0 < kend; k0 += FA_KT) {
		sync_threads();
		for (int e = tid; e < FA_KT * hd; e += FA_WARPS * 32) {
			int j = e / hd, d = e % hd, kp = k0 + j;
			float kv = 0.f, vv = 0.f;
			if (kp < kend) {
				long off = (long)kp * kvstride + (long)g * hd + d;
				kv = K[off];
				vv = V[off];
			}
			Ks[j * hdp + d] = kv;
			Vs[j * hd + d] = vv;
		}
		sync_threads();
		float s[FA_QPW];
		for (int a = 0; a < FA_QPW; a++) s[a] = 0.f;
		const float *kr = Ks + lane * hdp;
		const float *qw = Qs + w * FA_QPW * hd;
		for (int d = 0; d < hd; d++) {
			float kd = kr[d];
			for (int a = 0; a < FA_QPW; a++) s[a] += qw[a * hd + d] * kd;
		}
		int kp = k0 + lane;
		float *pw = Ps + w * FA_QPW * FA_KT;
		for (int a = 0; a < FA_QPW; a++) {
			int i = q0 + w * FA_QPW + a;
			bool vis = i < n && kp < kend && (!causal || kp <= pos0 + i);
			float sv = vis ? s[a] : NEG_INF;
			float mn = __builtin_fmaxf(m[a], warp_max(sv));
			float p = 0.f;
			if (mn != NEG_INF) {
				p = vis ? exp_fast(sv - mn) : 0.f;
				float corr = exp_fast(m[a] - mn);
				l[a] = l[a] * corr + warp_sum(p);
				for (int t = 0; t < DPL; t++) acc[a][t] *= corr;
				m[a] = mn;
			}
			pw[a * FA_KT + lane] = p;
		}
		__nvvm_bar_warp_sync(FULL_MASK);
		for (int j = 0; j < FA_KT; j++) {
			float v[DPL];
			for (int t = 0; t < DPL; t++) {
				int d = lane + 32 * t;
				v[t] = d < hd ? Vs[j * hd + d] : 0.f;
			}
			for (int a = 0; a < FA_QPW; a++) {
				float p = pw[a * FA_KT + j];
				for (int t = 0; t < DPL; t++) acc[a][t] += p * v[t];
			}
		}
	}
	for (int a = 0; a < FA_QPW; a++) {
		int i = q0 + w * FA_QPW + a;
		if (i >= n) continue;
		float inv = l[a] > 0.f ? 1.f / l[a] : 0.f;
		for (int t = 0; t < DPL; t++) {
			int d = lane + 32 * t;
			if (d < hd) O[((long)i * nh + h) * hd + d] = acc[a][t] * inv;
		}
	}
}

#define FLASH(name, dpl)                                                                                \
	KERNEL void name(const float *Q, const float *K, const float *V, float *O, int n, int pos0, int total, \
	                 int nh, int nkv, int hd, int kvstride, float scale, int causal) {                       \
		flash<dpl>(Q, K, V, O, n, pos0, total, nh, nkv, hd, kvstride, scale, causal);                    \
	}
FLASH(attn_flash_32, 1)
FLASH(attn_flash_64, 2)
FLASH(attn_flash_128, 4)
FLASH(attn_flash_256, 8)

// attn_probs writes the attention probabilities of every (head, query) row to P (nh, n, ldp): the
// first nk values of a row are its softmax over the keys it sees, the rest zero. One block per row
// (gridDim.x = n, gridDim.y = nh); hd ≤ 1024.
KERNEL void attn_probs(const float *Q, const float *K, float *P, int n, int pos0, int total, int nh, int nkv,
                       int hd, int kvstride, float scale, int causal, int ldp) {
	__shared__ float red[32];
	__shared__ float q[1024];
	int i = blockIdx.x, h = blockIdx.y, g = h / (nh / nkv);
	int nk = causal ? pos0 + i + 1 : total;
	for (int d = threadIdx.x; d < hd; d += blockDim.x) q[d] = Q[((long)i * nh + h) * hd + d];
	sync_threads();
	float *p = P + ((long)h * n + i) * ldp;
	float mx = NEG_INF;
	for (int k = threadIdx.x; k < nk; k += blockDim.x) {
		const float *kr = K + (long)k * kvstride + (long)g * hd;
		float s = 0.f;
		for (int d = 0; d < hd; d++) s += q[d] * kr[d];
		s *= scale;
		p[k] = s;
		mx = __builtin_fmaxf(mx, s);
	}
	mx = block_max(mx, red);
	float sum = 0.f;
	for (int k = threadIdx.x; k < nk; k += blockDim.x) {
		float e = exp_fast(p[k] - mx);
		p[k] = e;
		sum += e;
	}
	float inv = 1.f / block_sum(sum, red);
	for (int k = threadIdx.x; k < ldp; k += blockDim.x) p[k] = k < nk ? p[k] * inv : 0.f;
}

// ---------------------------------------------------------------------------------------------
// attn_mma: the tiled attention on the tensor cores, for AttnShape.Half. Queries, keys and values
// are rounded to f16 as they enter shared memory, scores and outputs are summed in f32 by
// mma.sync.m16n8k16, and the probabilities pass from the score accumulators to the second
// product in registers (rounded to f16). A block of 4 warps takes 64 queries of one head, each
// warp 16 of them, and walks the keys 64 at a time: keys row-major (a key's values side by
// side), values transposed (a dimension's keys side by side), so that every operand of the
// products is one 32-bit shared-memory load. Rows are padded by 8 values (16 bytes): the loads
// of a warp's fragments then fall in 32 different banks.

typedef unsigned int u32;
struct __attribute__((aligned(16))) u4 { u32 x, y, z, w; };

#define MA_WARPS 4
#define MA_BQ (MA_WARPS * 16) // queries per block
#define MA_BK 64              // keys per tile
#define MA_VS (MA_BK + 8)     // row stride of the transposed values, in halves

// pack2 rounds lo and hi to f16 and packs them, lo in the low half.
DEV u32 pack2(float lo, float hi) {
	u32 r;
	asm("cvt.rn.f16x2.f32 %0, %1, %2;" : "=r"(r) : "f"(hi), "f"(lo));
	return r;
}

// load8 reads 8 consecutive values as 4 packed f16 pairs.
DEV void load8(const float *p, u32 o[4]) {
	f4 a = *(const f4 *)p, b = *(const f4 *)(p + 4);
	o[0] = pack2(a.x, a.y), o[1] = pack2(a.z, a.w), o[2] = pack2(b.x, b.y), o[3] = pack2(b.z, b.w);
}
DEV void load8(const u16 *p, u32 o[4]) {
	u4 a = *(const u4 *)p;
	o[0] = a.x, o[1] = a.y, o[2] = a.z, o[3] = a.w;
}

// mma16816 adds A (16×16, row-major fragments a) · B (16×8, column fragments b) to c.
DEV void mma16816(float c[4], u32 a0, u32 a1, u32 a2, u32 a3, u32 b0, u32 b1) {
	asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
	             : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
	             : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
}

template <typename TIn, int D>
DEV void attn_mma(const TIn *Q, const TIn *K, const TIn *V, float *O, int n, int pos0, int total, int nh, int nkv,
                  int kvstride, float scale, int causal) {
	const int KS = D + 8; // row stride of queries and keys in shared memory, in halves
	__shared__ __attribute__((aligned(16))) u16 Ks[MA_BK * KS];
	__shared__ __attribute__((aligned(16))) u16 Vt[D * MA_VS];
	u16 *Qs = Ks; // the queries pass through the keys' space before the first tile
	int h = blockIdx.y, g = h / (nh / nkv);
	int q0 = (gridDim.x - 1 - blockIdx.x) * MA_BQ; // the longest rows of a causal head first
	int tid = threadIdx.x, lane = tid & 31, w = tid >> 5;
	int gr = lane >> 2, tg = lane & 3; // the fragments' row group and thread in group
	const int C8 = D / 8;              // 8-value chunks per row

	for (int c = tid; c < MA_BQ * C8; c += MA_WARPS * 32) {
		int r = c / C8, d8 = c % C8;
		u32 v[4] = {0, 0, 0, 0};
		if (q0 + r < n) load8(Q + ((long)(q0 + r) * nh + h) * D + d8 * 8, v);
		*(u4 *)(Qs + r * KS + d8 * 8) = u4{v[0], v[1], v[2], v[3]};
	}
	sync_threads();
	u32 qf[D / 16][4];
	#pragma unroll
	for (int ks = 0; ks < D / 16; ks++) {
		const u16 *p = Qs + (w * 16 + gr) * KS + ks * 16 + tg * 2;
		qf[ks][0] = *(const u32 *)p;
		qf[ks][1] = *(const u32 *)(p + 8 * KS);
		qf[ks][2] = *(const u32 *)(p + 8);
		qf[ks][3] = *(const u32 *)(p + 8 * KS + 8);
	}
	float o[D / 8][4];
	#pragma unroll
	for (int dt = 0; dt < D / 8; dt++) o[dt][0] = o[dt][1] = o[dt][2] = o[dt][3] = 0.f;
	float m0 = NEG_INF, m1 = NEG_INF, l0 = 0.f, l1 = 0.f;
	const float sl2 = scale * 1.4426950408889634f; // scores in base 2
	int i0 = q0 + w * 16 + gr, i1 = i0 + 8;       // this thread's two query rows
	int qlast = imin(q0 + MA_BQ, n) - 1;
	int kend = causal ? imin(total, pos0 + qlast + 1) : total;

	for (int k0 = 0; k0 < kend; k0 += MA_BK) {
		sync_threads();
		for (int c = tid; c < MA_BK * C8; c += MA_WARPS * 32) {
			int r = c / C8, d8 = c % C8;
			u32 v[4] = {0, 0, 0, 0};
			if (k0 + r < kend) load8(K + (long)(k0 + r) * kvstride + (long)g * D + d8 * 8, v);
			*(u4 *)(Ks + r * KS + d8 * 8) = u4{v[0], v[1], v[2], v[3]};
		}
		// Values: two threads per key read 16 neighbouring values; each stores them down a column.
		for (int c = tid; c < MA_BK * C8; c += MA_WARPS * 32) {
			int r = (c >> 1) % MA_BK, d8 = ((c >> 1) / MA_BK) * 2 + (c & 1);
			u32 v[4] = {0, 0, 0, 0};
			if (k0 + r < kend) load8(V + (long)(k0 + r) * kvstride + (long)g * D + d8 * 8, v);
			u16 *col = Vt + d8 * 8 * MA_VS + r;
			#pragma unroll
			for (int j = 0; j < 4; j++) {
				col[(2 * j) * MA_VS] = (u16)(v[j] & 0xffff);
				col[(2 * j + 1) * MA_VS] = (u16)(v[j] >> 16);
			}
		}
		sync_threads();

		float s[MA_BK / 8][4];
		#pragma unroll
		for (int nt = 0; nt < MA_BK / 8; nt++) {
			s[nt][0] = s[nt][1] = s[nt][2] = s[nt][3] = 0.f;
			const u16 *kr = Ks + (nt * 8 + gr) * KS + tg * 2;
			#pragma unroll
			for (int ks = 0; ks < D / 16; ks++) {
				u32 b0 = *(const u32 *)(kr + ks * 16), b1 = *(const u32 *)(kr + ks * 16 + 8);
				mma16816(s[nt], qf[ks][0], qf[ks][1], qf[ks][2], qf[ks][3], b0, b1);
			}
		}
		bool mask = k0 + MA_BK > kend || (causal && k0 + MA_BK - 1 > pos0 + q0);
		float x0 = NEG_INF, x1 = NEG_INF;
		#pragma unroll
		for (int nt = 0; nt < MA_BK / 8; nt++) {
			#pragma unroll
			for (int e = 0; e < 4; e++) {
				float v = s[nt][e] * sl2;
				if (mask) {
					int kp = k0 + nt * 8 + tg * 2 + (e & 1);
					int i = e < 2 ? i0 : i1;
					if (kp >= kend || (causal && kp > pos0 + i)) v = NEG_INF;
				}
				s[nt][e] = v;
			}
			x0 = __builtin_fmaxf(x0, __builtin_fmaxf(s[nt][0], s[nt][1]));
			x1 = __builtin_fmaxf(x1, __builtin_fmaxf(s[nt][2], s[nt][3]));
		}
		#pragma unroll
		for (int off = 1; off < 4; off <<= 1) {
			x0 = __builtin_fmaxf(x0, __nvvm_shfl_sync_bfly_f32(FULL_MASK, x0, off, 0x1f));
			x1 = __builtin_fmaxf(x1, __nvvm_shfl_sync_bfly_f32(FULL_MASK, x1, off, 0x1f));
		}
		float n0 = __builtin_fmaxf(m0, x0), n1 = __builtin_fmaxf(m1, x1);
		float b0 = n0 == NEG_INF ? 0.f : n0, b1 = n1 == NEG_INF ? 0.f : n1; // rows with no key yet
		float c0 = exp2_fast(m0 - b0), c1 = exp2_fast(m1 - b1);
		m0 = n0, m1 = n1;
		float r0 = 0.f, r1 = 0.f;
		#pragma unroll
		for (int nt = 0; nt < MA_BK / 8; nt++) {
			s[nt][0] = exp2_fast(s[nt][0] - b0), s[nt][1] = exp2_fast(s[nt][1] - b0);
			s[nt][2] = exp2_fast(s[nt][2] - b1), s[nt][3] = exp2_fast(s[nt][3] - b1);
			r0 += s[nt][0] + s[nt][1];
			r1 += s[nt][2] + s[nt][3];
		}
		l0 = l0 * c0 + r0, l1 = l1 * c1 + r1; // this thread's share of the row sums
		#pragma unroll
		for (int dt = 0; dt < D / 8; dt++) o[dt][0] *= c0, o[dt][1] *= c0, o[dt][2] *= c1, o[dt][3] *= c1;

		#pragma unroll
		for (int kk = 0; kk < MA_BK / 16; kk++) {
			u32 a0 = pack2(s[2 * kk][0], s[2 * kk][1]), a1 = pack2(s[2 * kk][2], s[2 * kk][3]);
			u32 a2 = pack2(s[2 * kk + 1][0], s[2 * kk + 1][1]), a3 = pack2(s[2 * kk + 1][2], s[2 * kk + 1][3]);
			const u16 *vr = Vt + gr * MA_VS + kk * 16 + tg * 2;
			#pragma unroll
			for (int dt = 0; dt < D / 8; dt++) {
				u32 v0 = *(const u32 *)(vr + dt * 8 * MA_VS), v1 = *(const u32 *)(vr + dt * 8 * MA_VS + 8);
				mma16816(o[dt], a0, a1, a2, a3, v0, v1);
			}
		}
	}
	#pragma unroll
	for (int off = 1; off < 4; off <<= 1) {
		l0 += __nvvm_shfl_sync_bfly_f32(FULL_MASK, l0, off, 0x1f);
		l1 += __nvvm_shfl_sync_bfly_f32(FULL_MASK, l1, off, 0x1f);
	}
	float inv0 = l0 > 0.f ? 1.f / l0 : 0.f, inv1 = l1 > 0.f ? 1.f / l1 : 0.f;
	#pragma unroll
	for (int dt = 0; dt < D / 8; dt++) {
		int d = dt * 8 + tg * 2;
		if (i0 < n) *(f2 *)(O + ((long)i0 * nh + h) * D + d) = f2{o[dt][0] * inv0, o[dt][1] * inv0};
		if (i1 < n) *(f2 *)(O + ((long)i1 * nh + h) * D + d) = f2{o[dt][2] * inv1, o[dt][3] * inv1};
	}
}

#define ATTN_MMA(name, T, d)                                                                               \
	extern "C" __global__ __attribute__((launch_bounds(MA_WARPS * 32))) void name(                            \
	    const T *Q, const T *K, const T *V, float *O, int n, int pos0, int total, int nh, int nkv, int kvstride, \
	    float scale, int causal) {                                                                         \
		attn_mma<T, d>(Q, K, V, O, n, pos0, total, nh, nkv, kvstride, scale, causal);                        \
	}
ATTN_MMA(attn_mma_f32_64, float, 64)
ATTN_MMA(attn_mma_f32_128, float, 128)
ATTN_MMA(attn_mma_f16_64, u16, 64)
ATTN_MMA(attn_mma_f16_128, u16, 128)

// to_half rounds n float32 values to f16 (the inputs of the f16 attention benchmark).
KERNEL void to_half(const float *X, u16 *Y, long n) {
	long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
	if (i < n) {
		u32 p = pack2(X[i], 0.f);
		Y[i] = (u16)(p & 0xffff);
	}
}
