// Matrix-vector products for decode (few tokens).
// out[t][r] = (accumulate ? out[t][r] : 0) + (bias ? bias[r] : 0) + sum_c W[r][c] * x[t][c]
// grid (ceil(rows / 4), ceil(numTokens / 8)), block 128: warp w of block b owns row 4b + w and tokens
// 8 * blockIdx.y .. +7. Each lane streams 16-byte chunks of the weight row (uint4, coalesced across the
// warp: 512 contiguous bytes per warp step), each chunk is decoded once and used for all 8 tokens;
// the activations come through the read-only path (__ldg). Float weights: float FMAs against x.
// q8_0 / q4_0: int8 dp4a against the q8-quantized activations xq (per 32-block scale xd), then one
// float multiply by the weight block scale and xd per 32-block.
#include "kvs_common.cuh"
#include <type_traits>

namespace kvs {

constexpr int MV_ROWS = 4;    // rows (warps) per block
constexpr int MV_TOKENS = 8;  // tokens per block

// Float-weight chunk decoders: 16 bytes -> N floats.
struct MvF32 {
    static constexpr int N = 4;
    static __device__ __forceinline__ void decode(const uint4& u, float* f) {
        f[0] = __uint_as_float(u.x); f[1] = __uint_as_float(u.y);
        f[2] = __uint_as_float(u.z); f[3] = __uint_as_float(u.w);
    }
};
struct MvF16 {
    static constexpr int N = 8;
    static __device__ __forceinline__ void decode(const uint4& u, float* f) {
        h2(u.x, f); h2(u.y, f + 2); h2(u.z, f + 4); h2(u.w, f + 6);
    }
    static __device__ __forceinline__ void h2(unsigned w, float* f) {
        __half2_raw raw;
        raw.x = (unsigned short) (w & 0xffffu);
        raw.y = (unsigned short) (w >> 16);
        const float2 v = __half22float2(__half2(raw));
        f[0] = v.x; f[1] = v.y;
    }
};
struct MvBF16 {
    static constexpr int N = 8;
    static __device__ __forceinline__ void decode(const uint4& u, float* f) {
        // bf16 -> f32 is exact: the bf16 bits are the high half of the float (low element first)
        f[0] = __uint_as_float(u.x << 16); f[1] = __uint_as_float(u.x & 0xffff0000u);
        f[2] = __uint_as_float(u.y << 16); f[3] = __uint_as_float(u.y & 0xffff0000u);
        f[4] = __uint_as_float(u.z << 16); f[5] = __uint_as_float(u.z & 0xffff0000u);
        f[6] = __uint_as_float(u.w << 16); f[7] = __uint_as_float(u.w & 0xffff0000u);
    }
};

template <int NT>
__device__ __forceinline__ void mv_store(float* out, const float* bias, float (&acc)[NT], int r, int rows, int t0,
                                         int nt, int accumulate) {
#pragma unroll
    for (int t = 0; t < NT; t++) acc[t] = warp_sum(acc[t]);
    if ((threadIdx.x & 31) == 0) {
        const float b = bias ? bias[r] : 0.0f;
#pragma unroll
        for (int t = 0; t < NT; t++) {
            if (t < nt) {
                float* o = out + (size_t) (t0 + t) * rows + r;
                *o = (accumulate ? *o : 0.0f) + b + acc[t];
            }
        }
    }
}

// The row loop shared by every weight type: lane streams chunks lane, lane + 32, ... of the row,
// UNROLL independent 16-byte loads in flight, then the tail one chunk at a time.
template <int UNROLL, class Step>
__device__ __forceinline__ void mv_row_loop(const uint4* wrow, int numChunks, Step& step) {
    int chunk = threadIdx.x & 31;
    for (; chunk + 32 * (UNROLL - 1) < numChunks; chunk += 32 * UNROLL) {
        uint4 u[UNROLL];
#pragma unroll
        for (int k = 0; k < UNROLL; k++) u[k] = __ldcs(wrow + chunk + 32 * k);   // streamed once: evict first
#pragma unroll
        for (int k = 0; k < UNROLL; k++) step(u[k], chunk + 32 * k);
    }
    for (; chunk < numChunks; chunk += 32) step(__ldcs(wrow + chunk), chunk);
}

// Float weights: NT tokens (1 <= nt <= NT valid), chunk = D::N columns.
template <class D, int NT>
__device__ __forceinline__ void matvec_float(float* out, const void* w, const float* x, const float* bias, int rows,
                                             int cols, int accumulate, int r, int t0, int nt) {
    constexpr int N = D::N;
    const int numChunks = cols / N;             // cols % 32 == 0: chunks never straddle the row end
    const uint4* wrow = reinterpret_cast<const uint4*>(static_cast<const char*>(w) + (size_t) r * cols * (16 / N));
    const float* xt0 = x + (size_t) t0 * cols;
    float acc[NT];
#pragma unroll
    for (int t = 0; t < NT; t++) acc[t] = 0.0f;
    auto step = [&](const uint4& u, int chunk) {
        float f[N];
        D::decode(u, f);
        const int c = chunk * N;
#pragma unroll
        for (int t = 0; t < NT; t++) {
            if (t < nt) {
                const float4* xp = reinterpret_cast<const float4*>(xt0 + (size_t) t * cols + c);
#pragma unroll
                for (int v = 0; v < N / 4; v++) {
                    const float4 xv = __ldg(xp + v);
                    acc[t] = fmaf(f[4 * v], xv.x, acc[t]);
                    acc[t] = fmaf(f[4 * v + 1], xv.y, acc[t]);
                    acc[t] = fmaf(f[4 * v + 2], xv.z, acc[t]);
                    acc[t] = fmaf(f[4 * v + 3], xv.w, acc[t]);
                }
            }
        }
    };
    mv_row_loop<NT == 1 ? 4 : NT == 2 ? 2 : 1>(wrow, numChunks, step);
    mv_store<NT>(out, bias, acc, r, rows, t0, nt, accumulate);
}

// Quantized chunk decoders: 16 bytes of qs -> NW words of 4 signed int8 weights; word k pairs with the
// activation bytes xq[c0 + 4k .. 4k + 3] of the chunk's first column c0 (COLS columns per chunk).
struct MvQ8 {
    static constexpr int COLS = 16;   // 16 int8 weights: half a 32-block
    static constexpr int NW = 4;
    static constexpr int BYTES_PER_32 = 32;
    static __device__ __forceinline__ void decode(const uint4& u, int* q) {
        q[0] = (int) u.x; q[1] = (int) u.y; q[2] = (int) u.z; q[3] = (int) u.w;
    }
};
struct MvQ4 {
    static constexpr int COLS = 32;   // one whole 32-block: byte j = value j (low nibble), j + 16 (high)
    static constexpr int NW = 8;
    static constexpr int BYTES_PER_32 = 16;
    static __device__ __forceinline__ void decode(const uint4& u, int* q) {
        lohi(u.x, q[0], q[4]); lohi(u.y, q[1], q[5]); lohi(u.z, q[2], q[6]); lohi(u.w, q[3], q[7]);
    }
    // bytes 4k..4k+3 of the block: low nibbles are values 4k.., high nibbles values 16 + 4k..; minus 8
    static __device__ __forceinline__ void lohi(unsigned w, int& lo, int& hi) {
        lo = (int) __vsub4(w & 0x0f0f0f0fu, 0x08080808u);
        hi = (int) __vsub4((w >> 4) & 0x0f0f0f0fu, 0x08080808u);
    }
};

// Quantized weights: NT tokens, chunk = D::COLS columns, int8 dp4a against xq, float scale per chunk.
template <class D, int NT>
__device__ __forceinline__ void matvec_quant(float* out, const void* w, const __half* wd, const int8_t* xq,
                                             const float* xd, const float* bias, int rows, int cols, int accumulate,
                                             int r, int t0, int nt) {
    constexpr int COLS = D::COLS, NW = D::NW;
    const int nb = cols / 32;
    const int numChunks = cols / COLS;
    const size_t rowBytes = (size_t) cols * D::BYTES_PER_32 / 32;   // q8_0: cols bytes, q4_0: cols / 2
    const uint4* wrow = reinterpret_cast<const uint4*>(static_cast<const uint8_t*>(w) + (size_t) r * rowBytes);
    const __half* drow = wd + (size_t) r * nb;
    const int8_t* xq0 = xq + (size_t) t0 * cols;
    const float* xd0 = xd + (size_t) t0 * nb;
    float acc[NT];
#pragma unroll
    for (int t = 0; t < NT; t++) acc[t] = 0.0f;
    auto step = [&](const uint4& u, int chunk) {
        int q[NW];
        D::decode(u, q);
        const int c0 = chunk * COLS;
        const int b = c0 / 32;
        const float dw = __half2float(__ldg(drow + b));
#pragma unroll
        for (int t = 0; t < NT; t++) {
            if (t < nt) {
                const uint4* xp = reinterpret_cast<const uint4*>(xq0 + (size_t) t * cols + c0);
                int s = 0;
#pragma unroll
                for (int v = 0; v < NW / 4; v++) {
                    const uint4 a = __ldg(xp + v);
                    s = __dp4a(q[4 * v], (int) a.x, s);
                    s = __dp4a(q[4 * v + 1], (int) a.y, s);
                    s = __dp4a(q[4 * v + 2], (int) a.z, s);
                    s = __dp4a(q[4 * v + 3], (int) a.w, s);
                }
                acc[t] = fmaf((float) s, dw * __ldg(xd0 + (size_t) t * nb + b), acc[t]);
            }
        }
    };
    mv_row_loop<NT == 1 ? 4 : NT == 2 ? 2 : 1>(wrow, numChunks, step);
    mv_store<NT>(out, bias, acc, r, rows, t0, nt, accumulate);
}

// Entry: the warp's row and token range, then a body specialized for the number of valid tokens
// (a batch-1 decode runs the 1-token body: no dead accumulators, more loads in flight).
template <class Body>
__device__ __forceinline__ void mv_dispatch(int rows, int numTokens, Body body) {
    const int r = blockIdx.x * MV_ROWS + (threadIdx.x >> 5);
    if (r >= rows) return;                      // no block barriers: a warp may leave alone
    const int t0 = blockIdx.y * MV_TOKENS;
    const int nt = min(MV_TOKENS, numTokens - t0);
    if (nt <= 0) return;
    if (nt == 1) body(std::integral_constant<int, 1>(), r, t0, nt);
    else if (nt == 2) body(std::integral_constant<int, 2>(), r, t0, nt);
    else if (nt <= 4) body(std::integral_constant<int, 4>(), r, t0, nt);
    else body(std::integral_constant<int, 8>(), r, t0, nt);
}

} // namespace kvs

#define KVS_MATVEC_FLOAT(name, D)                                                                              \
    KVS_API void __launch_bounds__(128, 4) name(float* out, const void* w, const __half* wd, const float* x,      \
                                             const int8_t* xq, const float* xd, const float* bias, int rows,   \
                                             int cols, int numTokens, int accumulate) {                        \
        kvs::mv_dispatch(rows, numTokens, [&](auto nt_, int r, int t0, int nt) {                               \
            kvs::matvec_float<kvs::D, decltype(nt_)::value>(out, w, x, bias, rows, cols, accumulate, r, t0, nt);  \
        });                                                                                                    \
    }
#define KVS_MATVEC_QUANT(name, D)                                                                              \
    KVS_API void __launch_bounds__(128, 4) name(float* out, const void* w, const __half* wd, const float* x,      \
                                             const int8_t* xq, const float* xd, const float* bias, int rows,   \
                                             int cols, int numTokens, int accumulate) {                        \
        kvs::mv_dispatch(rows, numTokens, [&](auto nt_, int r, int t0, int nt) {                               \
            kvs::matvec_quant<kvs::D, decltype(nt_)::value>(out, w, wd, xq, xd, bias, rows, cols, accumulate,    \
                                                            r, t0, nt);                                          \
        });                                                                                                    \
    }
KVS_MATVEC_FLOAT(matvec_f32, MvF32)
KVS_MATVEC_FLOAT(matvec_f16, MvF16)
KVS_MATVEC_FLOAT(matvec_bf16, MvBF16)
KVS_MATVEC_QUANT(matvec_q8_0, MvQ8)
KVS_MATVEC_QUANT(matvec_q4_0, MvQ4)
#undef KVS_MATVEC_FLOAT
#undef KVS_MATVEC_QUANT
