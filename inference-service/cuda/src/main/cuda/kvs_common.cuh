// Internal helpers shared by the kvserve kernel sources (not part of the ABI).
#pragma once
#include "kvserve_kernels.h"
#include <math.h>

namespace kvs {

constexpr unsigned FULL_MASK = 0xffffffffu;

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(FULL_MASK, v, o);
    return v;
}

__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(FULL_MASK, v, o));
    return v;
}

// Block-wide sum for blockDim.x a multiple of 32 (<= 1024); every thread gets the result.
// scratch: 32 floats of shared memory; it may be reused after the call returns.
__device__ __forceinline__ float block_sum(float v, float* scratch) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, numWarps = blockDim.x >> 5;
    v = warp_sum(v);
    __syncthreads();                       // scratch free (a previous use has been read)
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = lane < numWarps ? scratch[lane] : 0.0f;
    return warp_sum(v);
}

__device__ __forceinline__ float block_max(float v, float* scratch) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, numWarps = blockDim.x >> 5;
    v = warp_max(v);
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = lane < numWarps ? scratch[lane] : -INFINITY;
    return warp_max(v);
}

// Two packed halves (the low one first, as they lie in memory) to f[0], f[1].
__device__ __forceinline__ void half2_bits_to_floats(unsigned w, float* f) {
    __half2_raw raw;
    raw.x = (unsigned short) (w & 0xffffu);
    raw.y = (unsigned short) (w >> 16);
    const float2 v = __half22float2(__half2(raw));
    f[0] = v.x; f[1] = v.y;
}

// Eight packed halves (16 bytes, in memory order) to f[0..7].
__device__ __forceinline__ void halves8_to_floats(const uint4& u, float* f) {
    half2_bits_to_floats(u.x, f); half2_bits_to_floats(u.y, f + 2);
    half2_bits_to_floats(u.z, f + 4); half2_bits_to_floats(u.w, f + 6);
}

// Weight element loaders: value(row, c) of a matrix with `cols` columns, as in the header's layouts.
struct WF32 {
    static __device__ __forceinline__ float at(const void* w, const __half*, size_t r, int c, int cols) {
        return __ldg(static_cast<const float*>(w) + r * cols + c);
    }
};
struct WF16 {
    static __device__ __forceinline__ float at(const void* w, const __half*, size_t r, int c, int cols) {
        return __half2float(static_cast<const __half*>(w)[r * cols + c]);
    }
};
struct WBF16 {
    static __device__ __forceinline__ float at(const void* w, const __half*, size_t r, int c, int cols) {
        return __bfloat162float(static_cast<const __nv_bfloat16*>(w)[r * cols + c]);
    }
};
struct WQ8 {
    static __device__ __forceinline__ float at(const void* w, const __half* wd, size_t r, int c, int cols) {
        const int8_t q = static_cast<const int8_t*>(w)[r * cols + c];
        return (float) q * __half2float(wd[r * (cols / 32) + c / 32]);
    }
};
struct WQ4 {
    static __device__ __forceinline__ float at(const void* w, const __half* wd, size_t r, int c, int cols) {
        const int b = c / 32, j = c % 32;
        const uint8_t byte = static_cast<const uint8_t*>(w)[r * (cols / 2) + b * 16 + (j & 15)];
        const int nib = j < 16 ? (byte & 0xF) : (byte >> 4);
        return (float) (nib - 8) * __half2float(wd[r * (cols / 32) + b]);
    }
};

} // namespace kvs
