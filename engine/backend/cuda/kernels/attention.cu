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
