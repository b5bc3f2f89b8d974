// Feed-forward activation and row gathering.
#include "kvs_common.cuh"

// out[t][i] = silu(gate) * up, gate = gateUp[t][i], up = gateUp[t][hidden + i].
// grid (ceil(numTokens * hidden / 256)), block 256.
KVS_API void __launch_bounds__(256) silu_mul(float* out, const float* gateUp, int hidden, int numTokens) {
    const size_t idx = (size_t) blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= (size_t) numTokens * hidden) return;
    const size_t t = idx / hidden, i = idx - t * hidden;
    const float* row = gateUp + t * 2 * hidden;
    const float g = row[i], u = row[hidden + i];
    out[idx] = g / (1.0f + expf(-g)) * u;
}

// out[i][:] = x[indices[i]][:].  grid (numRows), block 256.
KVS_API void __launch_bounds__(256) gather_rows(float* out, const float* x, const int* indices, int numRows, int dim) {
    const int i = blockIdx.x;
    if (i >= numRows) return;
    const float* src = x + (size_t) indices[i] * dim;
    float* dst = out + (size_t) i * dim;
    for (int c = threadIdx.x; c < dim; c += blockDim.x) dst[c] = src[c];
}
