// Paged attention, split-K (flash-decoding), and the reduction of the splits.
//
// paged_attention_*: grid (numTokens, numKvHeads, numSplits), block 128 (4 warps).
// Block (t, kvHead, z) handles the positions [z * splitSize, min((z + 1) * splitSize, positions[t] + 1)) for
// the G = numHeads / numKvHeads query heads of kvHead, AT_GC heads per pass (one pass when G <= 8), so every
// K and V row is loaded once per pass and used by all the pass's heads. Per tile of AT_TP = 32 positions:
//   1. the 32 rows' cache offsets (through the block table) are in shared memory (read during the previous
//      tile); this tile's V rows are loaded into registers;
//   2. scores: lane l takes position l, warp w a quarter of headDim (16-byte loads of its K row, issued
//      during the previous tile), dots
//      against the pre-scaled q of each head (shared memory, broadcast), partial sums to shared memory;
//   3. online softmax: warp w owns heads w and w + 4; running max / sum in registers, the tile's
//      probabilities and the rescale factor to shared memory;
//   4. values: thread = (position group, 4 consecutive dims); acc[head][4] in registers, rescaled, then
//      accumulated over the group's positions (8/16-byte loads of V rows, coalesced along the row).
// At the end the position groups' accumulators are summed through shared memory and written out.
#include "kvs_common.cuh"

namespace kvs {

constexpr int AT_THREADS = 128;
constexpr int AT_WARPS = AT_THREADS / 32;
constexpr int AT_TP = 32;        // positions per tile (one per lane)
constexpr int AT_GC = 8;         // query heads per pass
constexpr int AT_MAXD = 256;     // largest headDim

// K/V row loads: K in 16-byte vectors of QK_VEC dims, V in vectors of 4 dims (8 bytes f16, 16 bytes f32);
// KN K vectors and VN V vectors per thread are loaded before they are used (registers), so a tile's K and V
// loads are all in flight together.
constexpr int KN = 8;
template <class T> struct KvLoad;
template <> struct KvLoad<__half> {
    using KV = uint4;
    using VV = uint2;
    static constexpr int QK_VEC = 8;
    static constexpr int VN = 16;        // >= 32 / (min groups = 2): one V chunk for every headDim
    static __device__ __forceinline__ KV ldk(const __half* p) { return __ldg(reinterpret_cast<const uint4*>(p)); }
    static __device__ __forceinline__ VV ldv(const __half* p) { return __ldg(reinterpret_cast<const uint2*>(p)); }
    static __device__ __forceinline__ KV zk() { return make_uint4(0, 0, 0, 0); }
    static __device__ __forceinline__ VV zv() { return make_uint2(0, 0); }
    static __device__ __forceinline__ void cvtk(const KV& u, float* f) { halves8_to_floats(u, f); }
    static __device__ __forceinline__ void cvtv(const VV& u, float* f) {
        half2_bits_to_floats(u.x, f);
        half2_bits_to_floats(u.y, f + 2);
    }
};
template <> struct KvLoad<float> {
    using KV = float4;
    using VV = float4;
    static constexpr int QK_VEC = 4;
    static constexpr int VN = 8;         // headDim > 128 (2 position groups) takes two V chunks
    static __device__ __forceinline__ KV ldk(const float* p) { return __ldg(reinterpret_cast<const float4*>(p)); }
    static __device__ __forceinline__ VV ldv(const float* p) { return __ldg(reinterpret_cast<const float4*>(p)); }
    static __device__ __forceinline__ KV zk() { return make_float4(0.f, 0.f, 0.f, 0.f); }
    static __device__ __forceinline__ VV zv() { return make_float4(0.f, 0.f, 0.f, 0.f); }
    static __device__ __forceinline__ void cvtk(const KV& v, float* f) { f[0] = v.x; f[1] = v.y; f[2] = v.z; f[3] = v.w; }
    static __device__ __forceinline__ void cvtv(const VV& v, float* f) { f[0] = v.x; f[1] = v.y; f[2] = v.z; f[3] = v.w; }
};

template <class T>
__device__ __forceinline__ void paged_attention(const float* qkv, int qkvStride, int qOffset, const T* kCache,
                                                const T* vCache, const int* blockTables, int blockTableStride,
                                                const int* tokenSeqs, const int* positions, int numHeads,
                                                int numKvHeads, int headDim, int blockSize, float scale,
                                                int splitSize, float* partialAcc, float* partialMaxSum,
                                                int numTokens) {
    using L = KvLoad<T>;
    __shared__ __align__(16) float qs[AT_GC][AT_MAXD];          // scaled q of the pass's heads
    __shared__ float part[AT_WARPS][AT_GC][AT_TP];               // per-warp partial scores
    __shared__ float ps[AT_GC][AT_TP];                           // tile probabilities exp(s - max)
    __shared__ float corr[AT_GC];                                // rescale of acc for this tile
    __shared__ long long rowOff[2][AT_TP];                       // element offset of each position's row
    __shared__ __align__(16) float red[AT_GC * 4 * AT_THREADS];  // cross-group sum: groups * headDim <= 512

    const int t = blockIdx.x, kvh = blockIdx.y, z = blockIdx.z, numSplits = gridDim.z;
    if (t >= numTokens) return;
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int G = numHeads / numKvHeads;
    const int hd = headDim;
    const int pos = positions[t];
    const int start = z * splitSize;
    const int end = pos < 0 ? start : min(start + splitSize, pos + 1);
    const size_t outBase = (size_t) t * numHeads + (size_t) kvh * G;   // (t * numHeads + h) for h = kvh * G

    if (start >= end) {                          // empty split (or padding token): {-inf, 0} and zeros
        for (int idx = tid; idx < G * hd; idx += AT_THREADS) {
            const int g = idx / hd, i = idx - g * hd;
            partialAcc[((outBase + g) * numSplits + z) * hd + i] = 0.0f;
        }
        for (int g = tid; g < G; g += AT_THREADS) {
            partialMaxSum[((outBase + g) * numSplits + z) * 2] = -INFINITY;
            partialMaxSum[((outBase + g) * numSplits + z) * 2 + 1] = 0.0f;
        }
        return;
    }

    const int* table = blockTables + (size_t) tokenSeqs[t] * blockTableStride;
    // element offset of the K (and V) row of position p for this kv head
    auto rowOffset = [&](int p) -> long long {
        const long long blk = table[p / blockSize];
        return ((blk * numKvHeads + kvh) * blockSize + p % blockSize) * (long long) hd;
    };
    const float* qrow = qkv + (size_t) t * qkvStride + qOffset + (size_t) kvh * G * hd;
    const int dq = hd / AT_WARPS;                // score dims per warp (a multiple of 8)
    const int d0 = warp * dq;
    const int rowThreads = hd / 4;               // value phase: threads per row (4 dims each)
    const int groups = AT_THREADS / rowThreads;  // position groups (>= 2)
    const int grp = tid / rowThreads;
    const int j4 = (tid - grp * rowThreads) * 4;
    constexpr int VEC = L::QK_VEC, VN = L::VN;

    for (int g0 = 0; g0 < G; g0 += AT_GC) {
        const int gc = min(AT_GC, G - g0);
        for (int idx = tid; idx < gc * hd; idx += AT_THREADS) {
            const int g = idx / hd, i = idx - g * hd;
            qs[g][i] = scale * qrow[(size_t) (g0 + g) * hd + i];
        }
        if (tid < AT_TP && start + tid < end) rowOff[0][tid] = rowOffset(start + tid);
        float mrun[2] = {-INFINITY, -INFINITY}, srun[2] = {0.0f, 0.0f};   // heads warp, warp + 4
        float acc[AT_GC][4];
#pragma unroll
        for (int g = 0; g < AT_GC; g++)
#pragma unroll
            for (int k = 0; k < 4; k++) acc[g][k] = 0.0f;
        __syncthreads();                         // qs, rowOff[0] ready

        // K vectors of the first dq chunk (KN * VEC dims) of a tile are loaded one tile ahead: for the
        // first tile here, for tile k + 1 right after tile k's scores (their latency hides behind tile k's
        // softmax and values). Further chunks (f32 rows with headDim > 128) load in the score loop.
        typename L::KV kv[KN];
#pragma unroll
        for (int i = 0; i < KN; i++)
            kv[i] = lane < min(AT_TP, end - start) && i * VEC < dq ? L::ldk(kCache + rowOff[0][lane] + d0 + i * VEC)
                                                                   : L::zk();

        for (int p0 = start, it = 0; p0 < end; p0 += AT_TP, it++) {
            const int cur = it & 1;
            const int n = min(AT_TP, end - p0);
            const long long* off = rowOff[cur];
            // the next tile's row offsets (block table reads) while this tile computes; rowOff[cur ^ 1] was
            // last read in the previous tile, which ended with a barrier
            if (tid < AT_TP && p0 + AT_TP + tid < end) rowOff[cur ^ 1][tid] = rowOffset(p0 + AT_TP + tid);

            // 1. V rows of this tile into registers (first chunk of VN rows per thread)
            typename L::VV vv[VN];
#pragma unroll
            for (int i = 0; i < VN; i++) {
                const int l = grp + i * groups;
                vv[i] = (grp < groups && l < n) ? L::ldv(vCache + off[l] + j4) : L::zv();
            }

            // 2. scores: position lane, dims [d0, d0 + dq), K loaded KN vectors at a time
            float sc[AT_GC];
#pragma unroll
            for (int g = 0; g < AT_GC; g++) sc[g] = 0.0f;
            if (lane < n) {
                const T* krow = kCache + off[lane] + d0;
                for (int d = 0; d < dq; d += KN * VEC) {
                    if (d > 0) {
#pragma unroll
                        for (int i = 0; i < KN; i++) kv[i] = d + i * VEC < dq ? L::ldk(krow + d + i * VEC) : L::zk();
                    }
#pragma unroll
                    for (int i = 0; i < KN; i++) {
                        if (d + i * VEC < dq) {
                            float k[VEC];
                            L::cvtk(kv[i], k);
#pragma unroll
                            for (int g = 0; g < AT_GC; g++) {
                                if (g < gc) {
                                    const float4* q4 = reinterpret_cast<const float4*>(&qs[g][d0 + d + i * VEC]);
                                    float s = sc[g];
#pragma unroll
                                    for (int v = 0; v < VEC / 4; v++) {
                                        const float4 q = q4[v];
                                        s = fmaf(q.x, k[4 * v], s);
                                        s = fmaf(q.y, k[4 * v + 1], s);
                                        s = fmaf(q.z, k[4 * v + 2], s);
                                        s = fmaf(q.w, k[4 * v + 3], s);
                                    }
                                    sc[g] = s;
                                }
                            }
                        }
                    }
                }
            }
#pragma unroll
            for (int g = 0; g < AT_GC; g++)
                if (g < gc) part[warp][g][lane] = sc[g];
            __syncthreads();                     // also publishes rowOff[cur ^ 1]

            // the next tile's first K chunk (its rows' offsets were written at the top of this tile)
            {
                const int nn = min(AT_TP, end - (p0 + AT_TP));
                const long long* offn = rowOff[cur ^ 1];
#pragma unroll
                for (int i = 0; i < KN; i++)
                    kv[i] = lane < nn && i * VEC < dq ? L::ldk(kCache + offn[lane] + d0 + i * VEC) : L::zk();
            }

            // 3. online softmax for heads warp and warp + 4
#pragma unroll
            for (int j = 0; j < 2; j++) {
                const int g = warp + AT_WARPS * j;
                if (g < gc) {
                    float s = -INFINITY;
                    if (lane < n) s = part[0][g][lane] + part[1][g][lane] + part[2][g][lane] + part[3][g][lane];
                    const float mnew = fmaxf(mrun[j], warp_max(s));
                    const float e = lane < n ? expf(s - mnew) : 0.0f;
                    const float sum = warp_sum(e);
                    const float c = expf(mrun[j] - mnew);          // 0 on the first tile (mrun = -inf)
                    mrun[j] = mnew;
                    srun[j] = srun[j] * c + sum;
                    ps[g][lane] = e;
                    if (lane == 0) corr[g] = c;
                }
            }
            __syncthreads();

            // 4. values: rows grp, grp + groups, ... of the tile; chunk b holds rows grp + (b + i) * groups
            if (grp < groups) {
#pragma unroll
                for (int g = 0; g < AT_GC; g++) {
                    if (g < gc) {
                        const float c = corr[g];
#pragma unroll
                        for (int k = 0; k < 4; k++) acc[g][k] *= c;
                    }
                }
                for (int b = 0; grp + b * groups < n; b += VN) {
                    if (b > 0) {
#pragma unroll
                        for (int i = 0; i < VN; i++) {
                            const int l = grp + (b + i) * groups;
                            vv[i] = l < n ? L::ldv(vCache + off[l] + j4) : L::zv();
                        }
                    }
#pragma unroll
                    for (int i = 0; i < VN; i++) {
                        const int l = grp + (b + i) * groups;
                        if (l < n) {
                            float v[4];
                            L::cvtv(vv[i], v);
#pragma unroll
                            for (int g = 0; g < AT_GC; g++) {
                                if (g < gc) {
                                    const float p = ps[g][l];
#pragma unroll
                                    for (int k = 0; k < 4; k++) acc[g][k] = fmaf(p, v[k], acc[g][k]);
                                }
                            }
                        }
                    }
                }
            }
            __syncthreads();                     // part, ps, corr, rowOff[cur] free for the next tile
        }

        // sum the position groups' accumulators, write the pass's heads
        if (grp < groups) {
#pragma unroll
            for (int g = 0; g < AT_GC; g++)
                if (g < gc)
#pragma unroll
                    for (int k = 0; k < 4; k++) red[(grp * AT_GC + g) * hd + j4 + k] = acc[g][k];
        }
        __syncthreads();
        for (int idx = tid; idx < gc * hd; idx += AT_THREADS) {
            const int g = idx / hd, i = idx - g * hd;
            float s = 0.0f;
            for (int q = 0; q < groups; q++) s += red[(q * AT_GC + g) * hd + i];
            partialAcc[((outBase + g0 + g) * numSplits + z) * hd + i] = s;
        }
        if (lane == 0) {
#pragma unroll
            for (int j = 0; j < 2; j++) {
                const int g = warp + AT_WARPS * j;
                if (g < gc) {
                    partialMaxSum[((outBase + g0 + g) * numSplits + z) * 2] = mrun[j];
                    partialMaxSum[((outBase + g0 + g) * numSplits + z) * 2 + 1] = srun[j];
                }
            }
        }
        __syncthreads();                         // qs, red, rowOff free for the next pass
    }
}

} // namespace kvs

#define KVS_ATTN(name, T)                                                                                          \
    KVS_API void __launch_bounds__(kvs::AT_THREADS) name(                                                          \
        const float* qkv, int qkvStride, int qOffset, const T* kCache, const T* vCache, const int* blockTables,   \
        int blockTableStride, const int* tokenSeqs, const int* positions, int numHeads, int numKvHeads,           \
        int headDim, int blockSize, float scale, int splitSize, float* partialAcc, float* partialMaxSum,          \
        int numTokens) {                                                                                           \
        kvs::paged_attention<T>(qkv, qkvStride, qOffset, kCache, vCache, blockTables, blockTableStride, tokenSeqs, \
                                positions, numHeads, numKvHeads, headDim, blockSize, scale, splitSize, partialAcc, \
                                partialMaxSum, numTokens);                                                         \
    }
KVS_ATTN(paged_attention_kvf16, __half)
KVS_ATTN(paged_attention_kvf32, float)
#undef KVS_ATTN

// out[t][h * headDim + i] = sum_z e^(m_z - M) acc_z[i] / sum_z e^(m_z - M) s_z, M = max_z m_z; all splits
// empty: zeros.  grid (numTokens, numHeads), block headDim.
KVS_API void __launch_bounds__(256) paged_attention_reduce(float* out, const float* partialAcc,
                                                           const float* partialMaxSum, int numHeads, int headDim,
                                                           int numSplits, int numTokens) {
    const int t = blockIdx.x, h = blockIdx.y, i = threadIdx.x;
    if (t >= numTokens || i >= headDim) return;
    const size_t base = ((size_t) t * numHeads + h) * numSplits;
    float M = -INFINITY;
    for (int z = 0; z < numSplits; z++) M = fmaxf(M, partialMaxSum[(base + z) * 2]);
    float* o = out + ((size_t) t * numHeads + h) * headDim + i;
    if (M == -INFINITY) { *o = 0.0f; return; }
    float num = 0.0f, den = 0.0f;
    for (int z = 0; z < numSplits; z++) {
        const float m = partialMaxSum[(base + z) * 2];
        if (m == -INFINITY) continue;            // empty split: contributes nothing
        const float w = expf(m - M);
        num = fmaf(w, partialAcc[(base + z) * headDim + i], num);
        den = fmaf(w, partialMaxSum[(base + z) * 2 + 1], den);
    }
    *o = num / den;
}
