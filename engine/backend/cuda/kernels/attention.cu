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

// attn_decode: attention for a few queries (decoding), spread over the keys instead of the
// queries: one block of 8 warps per (query, head); warp w takes keys w·32 + lane, then 256 on,
// each lane scoring one key against the query (a whole key row, 16 bytes a load), the warp
// keeping its own running maximum, sum and output (lane d mod 32 holds dimension d), and the 8
// warps' results are merged at the end. hd ≤ 32·DPL, hd and kvstride multiples of 4.
#define DEC_WARPS 8

template <int DPL>
DEV void attn_dec(const float *Q, const float *K, const float *V, float *O, int n, int pos0, int total, int nh,
                  int nkv, int hd, int kvstride, float scale, int causal) {
	__shared__ __attribute__((aligned(16))) float qs[32 * DPL];
	__shared__ float wm[DEC_WARPS], wl[DEC_WARPS];
	__shared__ float wo[DEC_WARPS][32 * DPL];
	int i = blockIdx.x, h = blockIdx.y, g = h / (nh / nkv);
	int tid = threadIdx.x, lane = tid & 31, w = tid >> 5;
	int nk = causal ? pos0 + i + 1 : total;
	const float sl2 = scale * 1.4426950408889634f;
	for (int d = tid; d < hd; d += DEC_WARPS * 32) qs[d] = Q[((long)i * nh + h) * hd + d] * sl2;
	sync_threads();
	float m = NEG_INF, l = 0.f, acc[DPL];
#pragma unroll
	for (int t = 0; t < DPL; t++) acc[t] = 0.f;
	const float *kb = K + (long)g * hd, *vb = V + (long)g * hd;
	for (int j0 = w * 32; j0 < nk; j0 += DEC_WARPS * 32) {
		int j = j0 + lane;
		float sc = NEG_INF;
		if (j < nk) {
			const f4 *kr = (const f4 *)(kb + (long)j * kvstride);
			const f4 *q4 = (const f4 *)qs;
			float a = 0.f;
			for (int d = 0; d < hd / 4; d++) {
				f4 k = kr[d], q = q4[d];
				a += q.x * k.x + q.y * k.y + q.z * k.z + q.w * k.w;
			}
			sc = a;
		}
		float mn = __builtin_fmaxf(m, warp_max(sc)); // finite: key j0 < nk is this warp's
		float p = j < nk ? exp2_fast(sc - mn) : 0.f;
		float c = exp2_fast(m - mn);
		l = l * c + warp_sum(p);
		m = mn;
#pragma unroll
		for (int t = 0; t < DPL; t++) acc[t] *= c;
		int cnt = imin(32, nk - j0);
		for (int kk = 0; kk < cnt; kk++) {
			float pk = shfl(p, kk);
			const float *vr = vb + (long)(j0 + kk) * kvstride;
#pragma unroll
			for (int t = 0; t < DPL; t++) {
				int d = lane + 32 * t;
				if (d < hd) acc[t] += pk * vr[d];
			}
		}
	}
	if (lane == 0) wm[w] = m, wl[w] = l;
#pragma unroll
	for (int t = 0; t < DPL; t++) wo[w][lane + 32 * t] = acc[t];
	sync_threads();
	float M = NEG_INF;
	for (int k = 0; k < DEC_WARPS; k++) M = __builtin_fmaxf(M, wm[k]);
	float L = 0.f;
	for (int k = 0; k < DEC_WARPS; k++) L += wl[k] * exp2_fast(wm[k] - M);
	float inv = 1.f / L;
	for (int d = tid; d < hd; d += DEC_WARPS * 32) {
		float a = 0.f;
		for (int k = 0; k < DEC_WARPS; k++) a += wo[k][d] * exp2_fast(wm[k] - M);
		O[((long)i * nh + h) * hd + d] = a * inv;
	}
}

#define ATTN_DEC(name, dpl)                                                                             \
	KERNEL void name(const float *Q, const float *K, const float *V, float *O, int n, int pos0, int total, \
	                 int nh, int nkv, int hd, int kvstride, float scale, int causal) {                    \
		attn_dec<dpl>(Q, K, V, O, n, pos0, total, nh, nkv, hd, kvstride, scale, causal);                 \
	}
ATTN_DEC(attn_decode_32, 1)
ATTN_DEC(attn_decode_64, 2)
ATTN_DEC(attn_decode_128, 4)
ATTN_DEC(attn_decode_256, 8)

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
// attn_mma: the first tensor-core attention, kept as the reference the pipelined attn_fa is
// checked against bit for bit (TestAttentionHalfKernels). f16 queries, keys and values pass
// through registers into shared memory, scores and outputs are summed in f32 by
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
ATTN_MMA(attn_mma_f16_64, u16, 64)
ATTN_MMA(attn_mma_f16_128, u16, 128)

// to_half rounds n float32 values to f16 (the inputs of the tensor-core attention).
KERNEL void to_half(const float *X, u16 *Y, long n) {
	long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
	if (i < n) {
		u32 p = pack2(X[i], 0.f);
		Y[i] = (u16)(p & 0xffff);
	}
}

// ---------------------------------------------------------------------------------------------
// attn_fa: the tensor-core attention on f16 inputs, pipelined: the next tile of keys and values
// is copied (cp.async, 16 bytes a thread) while the tensor cores work on the current one, and
// the operands of both products come from shared memory by ldmatrix (four 8×8 matrices a load;
// the values transposed on the way, so they are stored as they arrive). A block of 4 warps
// takes 16·MT queries a warp (MT row tiles: every key or value fragment read feeds MT products)
// and walks the keys BK at a time. With QREG the queries' fragments stay in registers (they
// pass through stage 1 before the first tile); otherwise the queries stay in shared memory and
// their fragments are read per tile. Sums run in the order of attn_mma, so with BK = 64 the
// results are its bits.

DEV u32 smem_addr(const void *p) {
	u32 a;
	asm("{ .reg .u64 t; cvta.to.shared.u64 t, %1; cvt.u32.u64 %0, t; }" : "=r"(a) : "l"(p));
	return a;
}

// cp_async16 copies 16 bytes from global to shared memory, or zeros where !ok.
DEV void cp_async16(u32 dst, const void *src, bool ok) {
	asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;" ::"r"(dst), "l"(src), "r"(ok ? 16 : 0));
}
DEV void cp_commit() { asm volatile("cp.async.commit_group;"); }
template <int N> DEV void cp_wait() { asm volatile("cp.async.wait_group %0;" ::"n"(N)); }

DEV void ldsm4(u32 r[4], u32 addr) {
	asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];"
	             : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
	             : "r"(addr));
}
DEV void ldsm4t(u32 r[4], u32 addr) {
	asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];"
	             : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
	             : "r"(addr));
}

template <int D, int MT, int BK, bool QREG> struct fa {
	static const int S = D + 8;           // row stride in shared memory, in halves
	static const int TILE = BK * S;       // one tile of keys or values
	static const int BQ = MA_WARPS * 16 * MT;
	// halves of shared memory: two stages of keys and values, and the queries unless in registers
	// (then they borrow stage 1, which must hold them)
	static const int HALVES = 4 * TILE + (QREG ? (BQ * S > 2 * TILE ? BQ * S - 2 * TILE : 0) : BQ * S);
};

template <int D, int MT, int BK, bool QREG>
DEV void attn_fa(const u16 *Q, const u16 *K, const u16 *V, float *O, int n, int pos0, int total, int nh, int nkv,
                 int kvstride, float scale, int causal) {
	typedef fa<D, MT, BK, QREG> P;
	const int S = P::S, TILE = P::TILE, BQ = P::BQ;
	extern __shared__ __attribute__((aligned(16))) u16 smf[];
	int h = blockIdx.y, g = h / (nh / nkv);
	int q0 = (gridDim.x - 1 - blockIdx.x) * BQ; // the longest rows of a causal head first
	int tid = threadIdx.x, lane = tid & 31, w = tid >> 5;
	int gr = lane >> 2, tg = lane & 3;
	const int C8 = D / 8;
	int qlast = imin(q0 + BQ, n) - 1;
	int kend = causal ? imin(total, pos0 + qlast + 1) : total;
	int ntiles = (kend + BK - 1) / BK;

	// Shared-memory addresses are 32-bit byte offsets from the array's start: the loops below
	// add compile-time constants to per-lane bases.
	const u32 sbase = smem_addr(smf);
	auto load_tile = [&](int t, int st) {
		int k0 = t * BK;
		u32 ks = sbase + 2 * st * TILE * 2, vs = ks + TILE * 2;
		for (int c = tid; c < BK * C8; c += MA_WARPS * 32) {
			int r = c / C8, d8 = c % C8;
			bool ok = k0 + r < kend;
			long off = ok ? (long)(k0 + r) * kvstride + (long)g * D + d8 * 8 : (long)g * D;
			u32 so = (r * S + d8 * 8) * 2;
			cp_async16(ks + so, K + off, ok);
			cp_async16(vs + so, V + off, ok);
		}
		cp_commit();
	};
	load_tile(0, 0);

	u16 *Qs = QREG ? smf + 2 * TILE : smf + 4 * TILE;
	for (int c = tid; c < BQ * C8; c += MA_WARPS * 32) {
		int r = c / C8, d8 = c % C8;
		u32 v[4] = {0, 0, 0, 0};
		if (q0 + r < n) load8(Q + ((long)(q0 + r) * nh + h) * D + d8 * 8, v);
		*(u4 *)(Qs + r * S + d8 * 8) = u4{v[0], v[1], v[2], v[3]};
	}
	sync_threads();
	// A fragments of row tile mt, dimensions ks·16 …: matrices rows 0-7 / 8-15, columns 0-7 / 8-15
	int qj = lane >> 3, qr = lane & 7;
	const u32 qbase = smem_addr(Qs) + ((w * 16 * MT + (qj & 1) * 8 + qr) * S + (qj >> 1) * 8) * 2;
	// this lane's row addresses for the key matrices (keys 0-7, 8 columns at lane/8·8) and the
	// transposed value matrices (keys (lane/8 mod 2)·8 + 0-7, 8 columns at lane/16·8)
	const u32 kofs = ((lane & 7) * S + (lane >> 3) * 8) * 2;
	const u32 vofs = ((((lane >> 3) & 1) * 8 + (lane & 7)) * S + (lane >> 4) * 8) * 2;
	u32 qf[QREG ? MT : 1][QREG ? D / 16 : 1][4];
	if (QREG) {
#pragma unroll
		for (int mt = 0; mt < MT; mt++)
#pragma unroll
			for (int ks = 0; ks < D / 16; ks++)
				ldsm4(qf[QREG ? mt : 0][QREG ? ks : 0], qbase + (mt * 16 * S + ks * 16) * 2);
		sync_threads(); // stage 1 is the queries' space until here
	}

	float o[MT][D / 8][4];
#pragma unroll
	for (int mt = 0; mt < MT; mt++)
#pragma unroll
		for (int dt = 0; dt < D / 8; dt++) o[mt][dt][0] = o[mt][dt][1] = o[mt][dt][2] = o[mt][dt][3] = 0.f;
	float m[MT][2], l[MT][2];
#pragma unroll
	for (int mt = 0; mt < MT; mt++) m[mt][0] = m[mt][1] = NEG_INF, l[mt][0] = l[mt][1] = 0.f;
	const float sl2 = scale * 1.4426950408889634f; // scores in base 2
	int ib = q0 + w * 16 * MT + gr;                // query row of (mt, half): ib + mt·16 + half·8

	for (int t = 0; t < ntiles; t++) {
		if (t + 1 < ntiles) {
			load_tile(t + 1, (t + 1) & 1);
			cp_wait<1>();
		} else {
			cp_wait<0>();
		}
		sync_threads();
		const u32 ks = sbase + 2 * (t & 1) * TILE * 2 + kofs, vs = sbase + (2 * (t & 1) + 1) * TILE * 2 + vofs;
		int k0 = t * BK;

		float s[MT][BK / 8][4];
#pragma unroll
		for (int mt = 0; mt < MT; mt++)
#pragma unroll
			for (int nt = 0; nt < BK / 8; nt++) s[mt][nt][0] = s[mt][nt][1] = s[mt][nt][2] = s[mt][nt][3] = 0.f;
#pragma unroll
		for (int kp = 0; kp < D / 32; kp++) {
			u32 qa[QREG ? 1 : MT][2][4]; // (mt, ks = 2·kp + j)
			if (!QREG) {
#pragma unroll
				for (int mt = 0; mt < MT; mt++)
#pragma unroll
					for (int j = 0; j < 2; j++)
						ldsm4(qa[QREG ? 0 : mt][j], qbase + (mt * 16 * S + (2 * kp + j) * 16) * 2);
			}
#pragma unroll
			for (int nt = 0; nt < BK / 8; nt++) {
				// matrices: keys nt·8 + 0-7, dimensions kp·32 + 0-7, 8-15, 16-23, 24-31
				u32 b[4];
				ldsm4(b, ks + (nt * 8 * S + kp * 32) * 2);
#pragma unroll
				for (int mt = 0; mt < MT; mt++) {
					const u32 *a0 = QREG ? qf[QREG ? mt : 0][QREG ? 2 * kp : 0] : qa[QREG ? 0 : mt][0];
					const u32 *a1 = QREG ? qf[QREG ? mt : 0][QREG ? 2 * kp + 1 : 0] : qa[QREG ? 0 : mt][1];
					mma16816(s[mt][nt], a0[0], a0[1], a0[2], a0[3], b[0], b[1]);
					mma16816(s[mt][nt], a1[0], a1[1], a1[2], a1[3], b[2], b[3]);
				}
			}
		}
		bool mask = k0 + BK > kend || (causal && k0 + BK - 1 > pos0 + q0);
#pragma unroll
		for (int mt = 0; mt < MT; mt++) {
			float x0 = NEG_INF, x1 = NEG_INF;
			int i0 = ib + mt * 16, i1 = i0 + 8;
#pragma unroll
			for (int nt = 0; nt < BK / 8; nt++) {
#pragma unroll
				for (int e = 0; e < 4; e++) {
					float v = s[mt][nt][e] * sl2;
					if (mask) {
						int kp = k0 + nt * 8 + tg * 2 + (e & 1);
						int i = e < 2 ? i0 : i1;
						if (kp >= kend || (causal && kp > pos0 + i)) v = NEG_INF;
					}
					s[mt][nt][e] = v;
				}
				x0 = __builtin_fmaxf(x0, __builtin_fmaxf(s[mt][nt][0], s[mt][nt][1]));
				x1 = __builtin_fmaxf(x1, __builtin_fmaxf(s[mt][nt][2], s[mt][nt][3]));
			}
#pragma unroll
			for (int off = 1; off < 4; off <<= 1) {
				x0 = __builtin_fmaxf(x0, __nvvm_shfl_sync_bfly_f32(FULL_MASK, x0, off, 0x1f));
				x1 = __builtin_fmaxf(x1, __nvvm_shfl_sync_bfly_f32(FULL_MASK, x1, off, 0x1f));
			}
			float n0 = __builtin_fmaxf(m[mt][0], x0), n1 = __builtin_fmaxf(m[mt][1], x1);
			float b0 = n0 == NEG_INF ? 0.f : n0, b1 = n1 == NEG_INF ? 0.f : n1; // rows with no key yet
			float c0 = exp2_fast(m[mt][0] - b0), c1 = exp2_fast(m[mt][1] - b1);
			m[mt][0] = n0, m[mt][1] = n1;
			float r0 = 0.f, r1 = 0.f;
#pragma unroll
			for (int nt = 0; nt < BK / 8; nt++) {
				s[mt][nt][0] = exp2_fast(s[mt][nt][0] - b0), s[mt][nt][1] = exp2_fast(s[mt][nt][1] - b0);
				s[mt][nt][2] = exp2_fast(s[mt][nt][2] - b1), s[mt][nt][3] = exp2_fast(s[mt][nt][3] - b1);
				r0 += s[mt][nt][0] + s[mt][nt][1];
				r1 += s[mt][nt][2] + s[mt][nt][3];
			}
			l[mt][0] = l[mt][0] * c0 + r0, l[mt][1] = l[mt][1] * c1 + r1; // this thread's share
			// Once the rows' maxima settle, most tiles leave them: scaling by 1 is skipped (the
			// same bits, D/8·4 multiplications fewer a tile and row tile).
			if (__nvvm_vote_any_sync(FULL_MASK, c0 != 1.f || c1 != 1.f)) {
#pragma unroll
				for (int dt = 0; dt < D / 8; dt++)
					o[mt][dt][0] *= c0, o[mt][dt][1] *= c0, o[mt][dt][2] *= c1, o[mt][dt][3] *= c1;
			}
		}

#pragma unroll
		for (int kk = 0; kk < BK / 16; kk++) {
			u32 a[MT][4];
#pragma unroll
			for (int mt = 0; mt < MT; mt++) {
				a[mt][0] = pack2(s[mt][2 * kk][0], s[mt][2 * kk][1]), a[mt][1] = pack2(s[mt][2 * kk][2], s[mt][2 * kk][3]);
				a[mt][2] = pack2(s[mt][2 * kk + 1][0], s[mt][2 * kk + 1][1]);
				a[mt][3] = pack2(s[mt][2 * kk + 1][2], s[mt][2 * kk + 1][3]);
			}
#pragma unroll
			for (int dp = 0; dp < D / 16; dp++) {
				// matrices (transposed): keys kk·16 + 0-7 / 8-15, dimensions dp·16 + 0-7 / 8-15
				u32 b[4];
				ldsm4t(b, vs + (kk * 16 * S + dp * 16) * 2);
#pragma unroll
				for (int mt = 0; mt < MT; mt++) {
					mma16816(o[mt][2 * dp], a[mt][0], a[mt][1], a[mt][2], a[mt][3], b[0], b[1]);
					mma16816(o[mt][2 * dp + 1], a[mt][0], a[mt][1], a[mt][2], a[mt][3], b[2], b[3]);
				}
			}
		}
		sync_threads(); // this stage is refilled two tiles on
	}
#pragma unroll
	for (int mt = 0; mt < MT; mt++) {
		float l0 = l[mt][0], l1 = l[mt][1];
#pragma unroll
		for (int off = 1; off < 4; off <<= 1) {
			l0 += __nvvm_shfl_sync_bfly_f32(FULL_MASK, l0, off, 0x1f);
			l1 += __nvvm_shfl_sync_bfly_f32(FULL_MASK, l1, off, 0x1f);
		}
		float inv0 = l0 > 0.f ? 1.f / l0 : 0.f, inv1 = l1 > 0.f ? 1.f / l1 : 0.f;
		int i0 = ib + mt * 16, i1 = i0 + 8;
#pragma unroll
		for (int dt = 0; dt < D / 8; dt++) {
			int d = dt * 8 + tg * 2;
			if (i0 < n) *(f2 *)(O + ((long)i0 * nh + h) * D + d) = f2{o[mt][dt][0] * inv0, o[mt][dt][1] * inv0};
			if (i1 < n) *(f2 *)(O + ((long)i1 * nh + h) * D + d) = f2{o[mt][dt][2] * inv1, o[mt][dt][3] * inv1};
		}
	}
}

// Kernels attn_fa_D_MT_BK[_q]: _q keeps the queries in registers. Their shared memory is
// fa<…>::HALVES·2 bytes (ops.go computes the same).
#define ATTN_FA(d, mt, bk, qreg, suffix)                                                                         \
	extern "C" __global__ __attribute__((launch_bounds(MA_WARPS * 32))) void attn_fa_##d##_##mt##_##bk##suffix( \
	    const u16 *Q, const u16 *K, const u16 *V, float *O, int n, int pos0, int total, int nh, int nkv, int kvstride, \
	    float scale, int causal) {                                                                               \
		attn_fa<d, mt, bk, qreg>(Q, K, V, O, n, pos0, total, nh, nkv, kvstride, scale, causal);                    \
	}
ATTN_FA(64, 1, 64, true, _q)
ATTN_FA(64, 2, 64, true, _q)
ATTN_FA(64, 2, 32, true, _q)
ATTN_FA(64, 1, 128, true, _q)
ATTN_FA(128, 1, 64, true, _q)
ATTN_FA(128, 2, 64, false, )
ATTN_FA(128, 2, 32, false, )
ATTN_FA(128, 1, 64, false, )
