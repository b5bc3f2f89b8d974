// RoPE on q and k of the fused qkv rows, and the KV-cache write of rotated k and v.  grid (numTokens), block 128.
// The angle of pair i is (double) positions[t] * invFreq[i]; cos and sin are taken in double (sincos), once
// per pair index into shared memory, then rounded to float; the rotation itself is float arithmetic.
#include "kvs_common.cuh"

namespace kvs {

constexpr int ROPE_MAX_HALF = 128;   // headDim <= 256

template <class T> __device__ __forceinline__ T to_cache(float v);
template <> __device__ __forceinline__ __half to_cache<__half>(float v) { return __float2half_rn(v); }
template <> __device__ __forceinline__ float to_cache<float>(float v) { return v; }

template <class T>
__device__ __forceinline__ void rope_store_kv(float* qkv, int qkvStride, int qOffset, int kOffset, int vOffset,
                                              const int* positions, const int* slots, const float* invFreq,
                                              int numHeads, int numKvHeads, int headDim, int neox, T* kCache,
                                              T* vCache, int blockSize, int numTokens) {
    __shared__ float cosTab[ROPE_MAX_HALF];
    __shared__ float sinTab[ROPE_MAX_HALF];
    const int t = blockIdx.x;
    if (t >= numTokens) return;
    const int half = headDim / 2;
    const double pos = (double) positions[t];
    for (int i = threadIdx.x; i < half; i += blockDim.x) {
        double s, c;
        sincos(pos * (double) invFreq[i], &s, &c);
        cosTab[i] = (float) c;
        sinTab[i] = (float) s;
    }
    __syncthreads();

    float* row = qkv + (size_t) t * qkvStride;
    const int slot = slots[t];
    // cache offset of (slot, kv head 0, element 0); kv head h adds h * blockSize * headDim
    const size_t cacheBase = slot >= 0
        ? ((size_t) (slot / blockSize) * numKvHeads * blockSize + (size_t) (slot % blockSize)) * headDim : 0;
    const size_t headStride = (size_t) blockSize * headDim;

    // pairs of q heads then of k heads: index p = head * half + i, head < numHeads is q, else k
    const int numPairs = (numHeads + numKvHeads) * half;
    for (int p = threadIdx.x; p < numPairs; p += blockDim.x) {
        const int head = p / half, i = p - head * half;
        const bool isK = head >= numHeads;
        const int kh = head - numHeads;
        float* h = row + (isK ? kOffset + kh * headDim : qOffset + head * headDim);
        const int ia = neox ? i : 2 * i;
        const int ib = neox ? i + half : 2 * i + 1;
        const float a = h[ia], b = h[ib];
        const float c = cosTab[i], s = sinTab[i];
        const float ra = a * c - b * s;
        const float rb = a * s + b * c;
        h[ia] = ra;
        h[ib] = rb;
        if (isK && slot >= 0) {
            T* k = kCache + cacheBase + kh * headStride;
            k[ia] = to_cache<T>(ra);
            k[ib] = to_cache<T>(rb);
        }
    }
    if (slot >= 0) {
        const int kvDim = numKvHeads * headDim;
        const float* v = row + vOffset;
        for (int e = threadIdx.x; e < kvDim; e += blockDim.x) {
            const int vh = e / headDim, i = e - vh * headDim;
            vCache[cacheBase + vh * headStride + i] = to_cache<T>(v[e]);
        }
    }
}

} // namespace kvs

#define KVS_ROPE(name, T)                                                                                        \
    KVS_API void __launch_bounds__(128) name(float* qkv, int qkvStride, int qOffset, int kOffset, int vOffset,   \
                                             const int* positions, const int* slots, const float* invFreq,       \
                                             int numHeads, int numKvHeads, int headDim, int neox, T* kCache,     \
                                             T* vCache, int blockSize, int numTokens) {                          \
        kvs::rope_store_kv<T>(qkv, qkvStride, qOffset, kOffset, vOffset, positions, slots, invFreq, numHeads,   \
                              numKvHeads, headDim, neox, kCache, vCache, blockSize, numTokens);                 \
    }
KVS_ROPE(rope_store_kv_kvf16, __half)
KVS_ROPE(rope_store_kv_kvf32, float)
#undef KVS_ROPE
