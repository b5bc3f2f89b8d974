// RMSNorm and the per-32-block int8 activation quantization of the dp4a paths.
#include "kvs_common.cuh"

// out[t] = x[t] / sqrt(mean(x[t]^2) + eps) * weight; out may be x.  grid (numTokens), block 256.
KVS_API void __launch_bounds__(256) rms_norm(float* out, const float* x, const float* weight, int numTokens, int dim,
                                             float eps) {
    __shared__ float scratch[32];
    const int t = blockIdx.x;
    if (t >= numTokens) return;
    const float* xt = x + (size_t) t * dim;
    float* ot = out + (size_t) t * dim;
    float ss = 0.0f;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) {
        const float v = xt[i];
        ss = fmaf(v, v, ss);
    }
    ss = kvs::block_sum(ss, scratch);
    // out may be x: each thread reads x[i] just before it writes out[i], for its own i only
    const float scale = rsqrtf(ss / (float) dim + eps);
    for (int i = threadIdx.x; i < dim; i += blockDim.x) ot[i] = xt[i] * scale * weight[i];
}

// One warp per 32-value block: xd = max|x| / 127, xq = round(x / xd) (0 when max|x| = 0).
// The (numTokens, cols) rows are contiguous and cols % 32 == 0, so block g is x[32g .. 32g+31], xd[g].
// grid (ceil(numTokens * cols / 32 / 8)), block 256.
KVS_API void __launch_bounds__(256) quantize_act_q8(const float* x, int8_t* xq, float* xd, int numTokens, int cols) {
    const size_t numBlocks = (size_t) numTokens * (size_t) (cols / 32);
    const size_t g = (size_t) blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (g >= numBlocks) return;                // whole warps leave together
    const int lane = threadIdx.x & 31;
    const float v = x[g * 32 + lane];
    const float amax = kvs::warp_max(fabsf(v));
    const float d = amax / 127.0f;
    const float id = amax > 0.0f ? 127.0f / amax : 0.0f;
    const int q = max(-127, min(127, (int) roundf(v * id)));
    xq[g * 32 + lane] = (int8_t) q;
    if (lane == 0) xd[g] = d;
}
