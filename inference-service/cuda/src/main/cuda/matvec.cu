// Matrix-vector products for decode (few tokens).
// out[t][r] = (accumulate ? out[t][r] : 0) + (bias ? bias[r] : 0) + sum_c W[r][c] * x[t][c]
// grid (ceil(rows / 4), ceil(numTokens / 8)), block 128: block b owns rows 4b .. 4b+3 and tokens
// 8 * blockIdx.y .. +7. Its 4 warps split each row's 16-byte chunks (warp w takes chunks 32w + lane,
// + 128, ...: 512 contiguous bytes per row per warp load), so every lane streams the same chunk of all 4
// rows (4 independent uint4 loads in flight, 8 for one token) and each activation vector it loads serves
// 4 rows x the block's tokens. Partial sums: warp shuffles, then the 4 warps through shared memory.
// Float weights: float FMAs against x (__ldg). q8_0 / q4_0: int8 dp4a against the q8-quantized
// activations xq, then one float multiply by the weight block scale and xd per chunk.
// A body is instantiated for 1, 2, 4 and 8 tokens; a block runs the smallest that holds its tokens.
#include "kvs_common.cuh"
#include <type_traits>

namespace kvs {

constexpr int MV_ROWS = 4;    // rows per block
constexpr int MV_TOKENS = 8;  // tokens per block
constexpr int MV_WARPS = 4;

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
    static __device__ __forceinline__ void decode(const uint4& u, float* f) { halves8_to_floats(u, f); }
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

// The block's chunk loop: lane streams chunks warp * 32 + lane, + 128, ... of each of its (up to 4) rows,
// UNROLL steps of 4 loads in flight. w points at row r0; rows past nr load zeros (results discarded).
template <int UNROLL, class Step>
__device__ __forceinline__ void mv_block_loop(const uint8_t* w, size_t rowBytes, int numChunks, int nr, Step& step) {
    const uint4* wr[MV_ROWS];
#pragma unroll
    for (int rr = 0; rr < MV_ROWS; rr++)
        wr[rr] = reinterpret_cast<const uint4*>(w + (size_t) min(rr, nr - 1) * rowBytes);
    // one token block: the weights are read once, so stream them (evict-first); more token blocks read
    // them again, so keep them in L2
    const bool stream = gridDim.y == 1;
    auto ldw = [stream](const uint4* p) { return stream ? __ldcs(p) : __ldg(p); };
    int chunk = (threadIdx.x >> 5) * 32 + (threadIdx.x & 31);
    constexpr int STRIDE = 32 * MV_WARPS;
    for (; chunk + STRIDE * (UNROLL - 1) < numChunks; chunk += STRIDE * UNROLL) {
        uint4 u[UNROLL][MV_ROWS];
#pragma unroll
        for (int k = 0; k < UNROLL; k++)
#pragma unroll
            for (int rr = 0; rr < MV_ROWS; rr++)
                u[k][rr] = rr < nr ? ldw(wr[rr] + chunk + STRIDE * k) : make_uint4(0, 0, 0, 0);
#pragma unroll
        for (int k = 0; k < UNROLL; k++) step(u[k], chunk + STRIDE * k);
    }
    for (; chunk < numChunks; chunk += STRIDE) {
        uint4 u[MV_ROWS];
#pragma unroll
        for (int rr = 0; rr < MV_ROWS; rr++) u[rr] = rr < nr ? ldw(wr[rr] + chunk) : make_uint4(0, 0, 0, 0);
        step(u, chunk);
    }
}

// Sums acc over the block (lanes by shuffles, warps through shared memory) and writes the valid
// (row, token) results. Every thread of the block must call it.
template <int NT>
__device__ __forceinline__ void mv_finish(float* out, const float* bias, float (&acc)[MV_ROWS][NT], int r0, int nr,
                                          int rows, int t0, int nt, int accumulate) {
    __shared__ float red[MV_WARPS][MV_ROWS][MV_TOKENS];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
#pragma unroll
    for (int rr = 0; rr < MV_ROWS; rr++)
#pragma unroll
        for (int t = 0; t < NT; t++) {
            const float v = warp_sum(acc[rr][t]);
            if (lane == 0) red[warp][rr][t] = v;
        }
    __syncthreads();
    if (threadIdx.x < MV_ROWS * MV_TOKENS) {
        const int rr = threadIdx.x / MV_TOKENS, t = threadIdx.x % MV_TOKENS;
        if (rr < nr && t < nt) {
            const int r = r0 + rr;
            const float s = red[0][rr][t] + red[1][rr][t] + red[2][rr][t] + red[3][rr][t];
            float* o = out + (size_t) (t0 + t) * rows + r;
            *o = (accumulate ? *o : 0.0f) + (bias ? bias[r] : 0.0f) + s;
        }
    }
}

// Float weights, NT tokens (nt valid), chunk = D::N columns.
template <class D, int NT>
__device__ __forceinline__ void matvec_float(float* out, const void* w, const float* x, const float* bias, int rows,
                                             int cols, int accumulate, int r0, int nr, int t0, int nt) {
    constexpr int N = D::N;
    const int numChunks = cols / N;             // cols % 32 == 0: chunks never straddle a row end
    const size_t rowBytes = (size_t) cols * (16 / N);
    const float* xt0 = x + (size_t) t0 * cols;
    float acc[MV_ROWS][NT];
#pragma unroll
    for (int rr = 0; rr < MV_ROWS; rr++)
#pragma unroll
        for (int t = 0; t < NT; t++) acc[rr][t] = 0.0f;
    auto step = [&](const uint4 (&u)[MV_ROWS], int chunk) {
        float f[MV_ROWS][N];
#pragma unroll
        for (int rr = 0; rr < MV_ROWS; rr++) D::decode(u[rr], f[rr]);
        const int c = chunk * N;
#pragma unroll
        for (int t = 0; t < NT; t++) {
            if (t < nt) {
                const float4* xp = reinterpret_cast<const float4*>(xt0 + (size_t) t * cols + c);
#pragma unroll
                for (int v = 0; v < N / 4; v++) {
                    const float4 xv = __ldg(xp + v);
#pragma unroll
                    for (int rr = 0; rr < MV_ROWS; rr++) {
                        float a = acc[rr][t];
                        a = fmaf(f[rr][4 * v], xv.x, a);
                        a = fmaf(f[rr][4 * v + 1], xv.y, a);
                        a = fmaf(f[rr][4 * v + 2], xv.z, a);
                        a = fmaf(f[rr][4 * v + 3], xv.w, a);
                        acc[rr][t] = a;
                    }
                }
            }
        }
    };
    mv_block_loop<NT == 1 ? 2 : 1>(static_cast<const uint8_t*>(w) + (size_t) r0 * rowBytes, rowBytes, numChunks, nr,
                                   step);
    mv_finish<NT>(out, bias, acc, r0, nr, rows, t0, nt, accumulate);
}

// Quantized weights, NT tokens, chunk = D::COLS columns: int8 dp4a against xq, float scales per chunk.
template <class D, int NT>
__device__ __forceinline__ void matvec_quant(float* out, const void* w, const __half* wd, const int8_t* xq,
                                             const float* xd, const float* bias, int rows, int cols, int accumulate,
                                             int r0, int nr, int t0, int nt) {
    constexpr int COLS = D::COLS, NW = D::NW;
    const int nb = cols / 32;
    const int numChunks = cols / COLS;
    const size_t rowBytes = (size_t) cols * D::BYTES_PER_32 / 32;   // q8_0: cols bytes, q4_0: cols / 2
    const int8_t* xq0 = xq + (size_t) t0 * cols;
    const float* xd0 = xd + (size_t) t0 * nb;
    const __half* dr[MV_ROWS];
#pragma unroll
    for (int rr = 0; rr < MV_ROWS; rr++) dr[rr] = wd + (size_t) (r0 + min(rr, nr - 1)) * nb;
    float acc[MV_ROWS][NT];
#pragma unroll
    for (int rr = 0; rr < MV_ROWS; rr++)
#pragma unroll
        for (int t = 0; t < NT; t++) acc[rr][t] = 0.0f;
    auto step = [&](const uint4 (&u)[MV_ROWS], int chunk) {
        const int c0 = chunk * COLS;
        const int b = c0 / 32;
        int q[MV_ROWS][NW];
        float dw[MV_ROWS];
#pragma unroll
        for (int rr = 0; rr < MV_ROWS; rr++) {
            D::decode(u[rr], q[rr]);
            dw[rr] = __half2float(__ldg(dr[rr] + b));
        }
#pragma unroll
        for (int t = 0; t < NT; t++) {
            if (t < nt) {
                const uint4* xp = reinterpret_cast<const uint4*>(xq0 + (size_t) t * cols + c0);
                uint4 a[NW / 4];
#pragma unroll
                for (int v = 0; v < NW / 4; v++) a[v] = __ldg(xp + v);
                const float xs = __ldg(xd0 + (size_t) t * nb + b);
#pragma unroll
                for (int rr = 0; rr < MV_ROWS; rr++) {
                    int s = 0;
#pragma unroll
                    for (int v = 0; v < NW / 4; v++) {
                        s = __dp4a(q[rr][4 * v], (int) a[v].x, s);
                        s = __dp4a(q[rr][4 * v + 1], (int) a[v].y, s);
                        s = __dp4a(q[rr][4 * v + 2], (int) a[v].z, s);
                        s = __dp4a(q[rr][4 * v + 3], (int) a[v].w, s);
                    }
                    acc[rr][t] = fmaf((float) s, dw[rr] * xs, acc[rr][t]);
                }
            }
        }
    };
    mv_block_loop<NT == 1 ? 2 : 1>(static_cast<const uint8_t*>(w) + (size_t) r0 * rowBytes, rowBytes, numChunks, nr,
                                   step);
    mv_finish<NT>(out, bias, acc, r0, nr, rows, t0, nt, accumulate);
}

// Entry: the block's rows and tokens, then the body for the number of valid tokens (block-uniform).
template <class Body>
__device__ __forceinline__ void mv_dispatch(int rows, int numTokens, Body body) {
    const int r0 = blockIdx.x * MV_ROWS;
    const int t0 = blockIdx.y * MV_TOKENS;
    const int nr = min(MV_ROWS, rows - r0);
    const int nt = min(MV_TOKENS, numTokens - t0);
    if (nr <= 0 || nt <= 0) return;             // whole block
    if (nt == 1) body(std::integral_constant<int, 1>(), r0, nr, t0, nt);
    else if (nt == 2) body(std::integral_constant<int, 2>(), r0, nr, t0, nt);
    else if (nt <= 4) body(std::integral_constant<int, 4>(), r0, nr, t0, nt);
    else body(std::integral_constant<int, 8>(), r0, nr, t0, nt);
}

} // namespace kvs

#define KVS_MATVEC_FLOAT(name, D)                                                                              \
    KVS_API void __launch_bounds__(128, 4) name(float* out, const void* w, const __half* wd, const float* x,      \
                                             const int8_t* xq, const float* xd, const float* bias, int rows,   \
                                             int cols, int numTokens, int accumulate) {                        \
        kvs::mv_dispatch(rows, numTokens, [&](auto nt_, int r0, int nr, int t0, int nt) {                               \
            kvs::matvec_float<kvs::D, decltype(nt_)::value>(out, w, x, bias, rows, cols, accumulate, r0, nr, t0, nt);  \
        });                                                                                                    \
    }
#define KVS_MATVEC_QUANT(name, D)                                                                              \
    KVS_API void __launch_bounds__(128, 4) name(float* out, const void* w, const __half* wd, const float* x,      \
                                             const int8_t* xq, const float* xd, const float* bias, int rows,   \
                                             int cols, int numTokens, int accumulate) {                        \
        kvs::mv_dispatch(rows, numTokens, [&](auto nt_, int r0, int nr, int t0, int nt) {                               \
            kvs::matvec_quant<kvs::D, decltype(nt_)::value>(out, w, wd, xq, xd, bias, rows, cols, accumulate,    \
                                                            r0, nr, t0, nt);                                          \
        });                                                                                                    \
    }
KVS_MATVEC_FLOAT(matvec_f32, MvF32)
KVS_MATVEC_FLOAT(matvec_f16, MvF16)
KVS_MATVEC_FLOAT(matvec_bf16, MvBF16)
KVS_MATVEC_QUANT(matvec_q8_0, MvQ8)
KVS_MATVEC_QUANT(matvec_q4_0, MvQ4)
#undef KVS_MATVEC_FLOAT
#undef KVS_MATVEC_QUANT
