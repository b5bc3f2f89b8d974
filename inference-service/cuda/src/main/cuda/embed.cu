// Embedding lookup: x[t][:] = row tokenIds[t] of the (dequantized) table.  grid (numTokens), block 256.
#include "kvs_common.cuh"

namespace kvs {
template <class W>
__device__ __forceinline__ void embed(float* x, const void* w, const __half* wd, const int* tokenIds, int numTokens,
                                      int dim) {
    const int t = blockIdx.x;
    if (t >= numTokens) return;
    const size_t row = (size_t) tokenIds[t];
    float* dst = x + (size_t) t * dim;
    for (int c = threadIdx.x; c < dim; c += blockDim.x) dst[c] = W::at(w, wd, row, c, dim);
}
} // namespace kvs

#define KVS_EMBED(name, W)                                                                                    \
    KVS_API void __launch_bounds__(256) name(float* x, const void* w, const __half* wd, const int* tokenIds,  \
                                             int numTokens, int dim) {                                        \
        kvs::embed<kvs::W>(x, w, wd, tokenIds, numTokens, dim);                                               \
    }
KVS_EMBED(embed_f32, WF32)
KVS_EMBED(embed_f16, WF16)
KVS_EMBED(embed_bf16, WBF16)
KVS_EMBED(embed_q8_0, WQ8)
KVS_EMBED(embed_q4_0, WQ4)
#undef KVS_EMBED
