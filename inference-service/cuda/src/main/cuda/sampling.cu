// Greedy and inverse-CDF sampling, one block of 1024 threads per row; deterministic block reductions.
#include "kvs_common.cuh"

namespace kvs {

// (value, index) argmax: larger value wins, ties go to the smaller index (the CPU's first index).
__device__ __forceinline__ void argmax_merge(float& v, int& i, float ov, int oi) {
    if (ov > v || (ov == v && oi < i)) { v = ov; i = oi; }
}

// Block argmax of logits[0..vocab); every thread gets the index. scratchV/scratchI: 32 entries.
__device__ __forceinline__ int block_argmax(const float* logits, int vocab, float* scratchV, int* scratchI) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, numWarps = blockDim.x >> 5;
    float best = -INFINITY;
    int bestI = INT_MAX;
    if ((int) threadIdx.x < vocab) { best = logits[threadIdx.x]; bestI = threadIdx.x; }
    for (int j = threadIdx.x + blockDim.x; j < vocab; j += blockDim.x) {
        const float v = logits[j];
        if (v > best) { best = v; bestI = j; }        // strict: the first index of this thread's maximum
    }
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
        const float ov = __shfl_xor_sync(FULL_MASK, best, o);
        const int oi = __shfl_xor_sync(FULL_MASK, bestI, o);
        argmax_merge(best, bestI, ov, oi);
    }
    __syncthreads();
    if (lane == 0) { scratchV[warp] = best; scratchI[warp] = bestI; }
    __syncthreads();
    best = lane < numWarps ? scratchV[lane] : -INFINITY;
    bestI = lane < numWarps ? scratchI[lane] : INT_MAX;
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
        const float ov = __shfl_xor_sync(FULL_MASK, best, o);
        const int oi = __shfl_xor_sync(FULL_MASK, bestI, o);
        argmax_merge(best, bestI, ov, oi);
    }
    // all -inf (or NaN) rows: index INT_MAX never wins against a real index, so bestI is a real index
    // unless vocab == 0; NaNs never compare greater, like the CPU's strict '>' (then index 0 of a NaN row
    // is what the CPU returns only when logits[0] is the NaN: not reproduced).
    return bestI == INT_MAX ? 0 : bestI;
}

} // namespace kvs

// out[i] = the first index of the largest logits[i][:].  grid (numRows), block 1024.
KVS_API void __launch_bounds__(1024) argmax_rows(int* out, const float* logits, int numRows, int vocab) {
    __shared__ float sv[32];
    __shared__ int si[32];
    const int row = blockIdx.x;
    if (row >= numRows) return;
    const int best = kvs::block_argmax(logits + (size_t) row * vocab, vocab, sv, si);
    if (threadIdx.x == 0) out[row] = best;
}

// out[i] = the smallest j with sum_{k<=j} softmax(logits[i] / T)_k > uniforms[i] * total; T <= 0: argmax.
// Thread k owns the contiguous segment [k * seg, (k + 1) * seg) of the row: e_j = exp((l_j - max) / T),
// segment sums, a block exclusive scan of the 1024 segment sums (in float), then the first thread whose
// inclusive prefix exceeds the target rescans its segment sequentially from its exclusive prefix.
// grid (numRows), block 1024.
KVS_API void __launch_bounds__(1024) sample_rows(int* out, const float* logits, int numRows, int vocab,
                                                 const float* temperatures, const float* uniforms) {
    __shared__ float sv[32];
    __shared__ int si[32];
    __shared__ float scan[32];
    __shared__ int winner;
    const int row = blockIdx.x;
    if (row >= numRows) return;
    const float* l = logits + (size_t) row * vocab;
    const float temp = temperatures[row];
    if (!(temp > 0.0f)) {
        const int best = kvs::block_argmax(l, vocab, sv, si);
        if (threadIdx.x == 0) out[row] = best;
        return;
    }
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, numWarps = blockDim.x >> 5;
    float m = -INFINITY;
    for (int j = threadIdx.x; j < vocab; j += blockDim.x) m = fmaxf(m, l[j]);
    m = kvs::block_max(m, sv);

    const int seg = (vocab + blockDim.x - 1) / blockDim.x;
    const int begin = min(vocab, (int) threadIdx.x * seg), end = min(vocab, begin + seg);
    float s = 0.0f;
    for (int j = begin; j < end; j++) s += expf((l[j] - m) / temp);

    // inclusive scan of s over the block: warp scan, then a scan of the warp totals
    float incl = s;
#pragma unroll
    for (int o = 1; o < 32; o <<= 1) {
        const float y = __shfl_up_sync(kvs::FULL_MASK, incl, o);
        if (lane >= o) incl += y;
    }
    if (lane == 31) scan[warp] = incl;
    if (threadIdx.x == 0) winner = INT_MAX;
    __syncthreads();
    if (warp == 0) {
        float w = lane < numWarps ? scan[lane] : 0.0f;
#pragma unroll
        for (int o = 1; o < 32; o <<= 1) {
            const float y = __shfl_up_sync(kvs::FULL_MASK, w, o);
            if (lane >= o) w += y;
        }
        scan[lane] = w;                          // inclusive prefix of warp totals
    }
    __syncthreads();
    if (warp > 0) incl += scan[warp - 1];
    const float total = scan[numWarps - 1];
    const float excl = incl - s;
    const float target = uniforms[row] * total;

    // the first thread whose inclusive prefix exceeds the target; if rounding leaves none, the last
    // thread with a non-empty segment of positive mass
    if (incl > target && s > 0.0f) atomicMin(&winner, (int) threadIdx.x);
    __syncthreads();
    int w = winner;
    if (w == INT_MAX) {
        __syncthreads();
        if (threadIdx.x == 0) winner = -1;
        __syncthreads();
        if (s > 0.0f) atomicMax(&winner, (int) threadIdx.x);
        __syncthreads();
        w = winner;
    }
    if (w < 0) {                                 // no finite mass at all (every logit -inf or NaN): argmax
        const int best = kvs::block_argmax(l, vocab, sv, si);
        if (threadIdx.x == 0) out[row] = best;
        return;
    }
    if ((int) threadIdx.x == w) {
        float run = excl;
        int pick = -1;
        for (int j = begin; j < end; j++) {
            const float e = expf((l[j] - m) / temp);
            if (e > 0.0f) pick = j;              // fallback: the last index with mass
            run += e;
            if (run > target && e > 0.0f) { pick = j; break; }
        }
        out[row] = pick;
    }
}
