// Tensor-core GEMM for prefill chunks and large decode batches: out (numTokens, rows) = x W^T (+ bias, + out).
//
// mma.sync.aligned.m16n8k16 through inline PTX (f16 x f16 or bf16 x bf16, f32 accumulators), fragments
// loaded with ldmatrix. The MMA's M is the weight rows, N the tokens, K the cols:
//   A = W tile (128 rows x 32 cols, row-major), B = x tile (64 tokens x 32 cols, i.e. B col-major).
// Block 256 = 8 warps as 4 (rows) x 2 (tokens); each warp computes 32 rows x 32 tokens = 2 x 4 MMA tiles,
// 32 float accumulators per thread. Shared memory: two stages of A and B, rows padded to 40 halves
// (80 bytes: the 8 row addresses of every ldmatrix 8x8 fall in distinct bank quads, conflict-free).
// Pipeline (one barrier per 32-col step), loads issued two steps ahead: f16/bf16 weights by cp.async
// straight into 3 A stages (zero-fill beyond the last row); q8_0/q4_0 weights and the float activations
// as global loads into 2 register sets, converted (dequantized, or rounded to half / bf16) and stored to
// their stage (A: 3 stages, B: 2) one step ahead of their MMAs. Shared memory 40 KiB.
#include "kvs_common.cuh"
#include <type_traits>

namespace kvs {

constexpr int GM = 128, GN = 64, GK = 32;    // tile: rows x tokens x cols
constexpr int GLDS = GK + 8;                  // padded row of a shared tile, in 16-bit elements
constexpr int G_THREADS = 256;

__device__ __forceinline__ unsigned smem_addr(const void* p) {
    return (unsigned) __cvta_generic_to_shared(p);
}

__device__ __forceinline__ void cp_async16(void* smem, const void* gmem, int bytes) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(smem_addr(smem)), "l"(gmem), "r"(bytes)
                 : "memory");
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }
template <int N>
__device__ __forceinline__ void cp_async_wait_group() { asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory"); }

__device__ __forceinline__ void ldmatrix_x4(unsigned& r0, unsigned& r1, unsigned& r2, unsigned& r3,
                                            const void* smem) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r0), "=r"(r1), "=r"(r2), "=r"(r3)
                 : "r"(smem_addr(smem))
                 : "memory");
}

template <bool BF16>
__device__ __forceinline__ void mma16816(float (&c)[4], const unsigned (&a)[4], unsigned b0, unsigned b1) {
    if constexpr (BF16) {
        asm("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
            "{%0, %1, %2, %3};\n"
            : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
            : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
    } else {
        asm("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
            "{%0, %1, %2, %3};\n"
            : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
            : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
    }
}

// two floats -> two 16-bit values packed, the first in the low half (the lower address)
template <bool BF16> __device__ __forceinline__ unsigned pack2(float a, float b);
template <> __device__ __forceinline__ unsigned pack2<false>(float a, float b) {
    return (unsigned) __half_as_ushort(__float2half_rn(a)) | ((unsigned) __half_as_ushort(__float2half_rn(b)) << 16);
}
template <> __device__ __forceinline__ unsigned pack2<true>(float a, float b) {
    return (unsigned) __bfloat16_as_ushort(__float2bfloat16_rn(a))
         | ((unsigned) __bfloat16_as_ushort(__float2bfloat16_rn(b)) << 16);
}

// ---- A (weight) tile loaders: fill a 128 x 32 tile of 16-bit values, tile row i = weight row m0 + i ----

// f16 / bf16 weights: 128 rows x 64 bytes = 512 chunks of 16 bytes, 2 per thread, by cp.async.
struct GaHalf {
    __device__ __forceinline__ void load(const void* w, const __half*, int rows, int cols, int m0, int kt,
                                         unsigned short* As) {
#pragma unroll
        for (int i = 0; i < 2; i++) {
            const int id = threadIdx.x + i * G_THREADS;
            const int row = id >> 2, cc = (id & 3) * 8;
            const int gr = m0 + row;
            const unsigned short* src = static_cast<const unsigned short*>(w)
                + (size_t) min(gr, rows - 1) * cols + kt * GK + cc;
            cp_async16(As + row * GLDS + cc, src, gr < rows ? 16 : 0);   // 0: zero-fill the ragged rows
        }
    }
    __device__ __forceinline__ void store(unsigned short*) {}
};

// q8_0: thread = (row tid / 2, half tid % 2 of the 32-block): 16 int8 + the block's scale -> 16 halves.
struct GaQ8 {
    uint4 q;
    float d;
    __device__ __forceinline__ void load(const void* w, const __half* wd, int rows, int cols, int m0, int kt,
                                         unsigned short*) {
        const int row = threadIdx.x >> 1, hh = threadIdx.x & 1;
        const int gr = m0 + row;
        if (gr < rows) {
            q = __ldg(reinterpret_cast<const uint4*>(static_cast<const int8_t*>(w) + (size_t) gr * cols + kt * GK
                                                     + hh * 16));
            d = __half2float(__ldg(wd + (size_t) gr * (cols / 32) + kt));
        } else {
            q = make_uint4(0, 0, 0, 0);
            d = 0.0f;
        }
    }
    static __device__ __forceinline__ unsigned deq2(unsigned word, int byte, float d) {
        const float a = (float) (signed char) ((word >> (8 * byte)) & 0xff);
        const float b = (float) (signed char) ((word >> (8 * byte + 8)) & 0xff);
        return pack2<false>(a * d, b * d);
    }
    __device__ __forceinline__ void store(unsigned short* As) {
        const int row = threadIdx.x >> 1, hh = threadIdx.x & 1;
        uint4* dst = reinterpret_cast<uint4*>(As + row * GLDS + hh * 16);
        dst[0] = make_uint4(deq2(q.x, 0, d), deq2(q.x, 2, d), deq2(q.y, 0, d), deq2(q.y, 2, d));
        dst[1] = make_uint4(deq2(q.z, 0, d), deq2(q.z, 2, d), deq2(q.w, 0, d), deq2(q.w, 2, d));
    }
};

// q4_0: thread = (row tid / 2, half tid % 2 of the 32-block); both threads of a row load the block's
// 16 bytes; half 0 takes the low nibbles (values 0..15), half 1 the high nibbles (values 16..31).
struct GaQ4 {
    uint4 q;
    float d;
    __device__ __forceinline__ void load(const void* w, const __half* wd, int rows, int cols, int m0, int kt,
                                         unsigned short*) {
        const int row = threadIdx.x >> 1;
        const int gr = m0 + row;
        if (gr < rows) {
            q = __ldg(reinterpret_cast<const uint4*>(static_cast<const uint8_t*>(w) + (size_t) gr * (cols / 2)
                                                     + kt * 16));
            d = __half2float(__ldg(wd + (size_t) gr * (cols / 32) + kt));
        } else {
            q = make_uint4(0x88888888u, 0x88888888u, 0x88888888u, 0x88888888u);   // nibble 8: value 0
            d = 0.0f;
        }
    }
    // values of bytes 4k + 0, 4k + 1 (pair 0) or 4k + 2, 4k + 3 (pair 1) of the word, nibbles at `shift`
    static __device__ __forceinline__ unsigned deq2(unsigned word, int pair, int shift, float d) {
        const float a = (float) ((int) ((word >> (16 * pair + shift)) & 0xf) - 8);
        const float b = (float) ((int) ((word >> (16 * pair + 8 + shift)) & 0xf) - 8);
        return pack2<false>(a * d, b * d);
    }
    __device__ __forceinline__ void store(unsigned short* As) {
        const int row = threadIdx.x >> 1, hh = threadIdx.x & 1;
        const int sh = hh * 4;
        uint4* dst = reinterpret_cast<uint4*>(As + row * GLDS + hh * 16);
        dst[0] = make_uint4(deq2(q.x, 0, sh, d), deq2(q.x, 1, sh, d), deq2(q.y, 0, sh, d), deq2(q.y, 1, sh, d));
        dst[1] = make_uint4(deq2(q.z, 0, sh, d), deq2(q.z, 1, sh, d), deq2(q.w, 0, sh, d), deq2(q.w, 1, sh, d));
    }
};

// ---- B (activation) tile loader: 64 tokens x 32 cols of float x -> 16-bit; thread = (token tid / 4,
// cols 8 (tid % 4) .. +7); tokens past numTokens are zeros.
template <bool BF16>
struct GbX {
    float4 a, b;
    __device__ __forceinline__ void load(const float* x, int numTokens, int cols, int n0, int kt) {
        const int tok = threadIdx.x >> 2, cc = (threadIdx.x & 3) * 8;
        const int gt = n0 + tok;
        if (gt < numTokens) {
            const float4* src = reinterpret_cast<const float4*>(x + (size_t) gt * cols + kt * GK + cc);
            a = __ldg(src);
            b = __ldg(src + 1);
        } else {
            a = make_float4(0.f, 0.f, 0.f, 0.f);
            b = a;
        }
    }
    __device__ __forceinline__ void store(unsigned short* Bs) {
        const int tok = threadIdx.x >> 2, cc = (threadIdx.x & 3) * 8;
        *reinterpret_cast<uint4*>(Bs + tok * GLDS + cc) =
            make_uint4(pack2<BF16>(a.x, a.y), pack2<BF16>(a.z, a.w), pack2<BF16>(b.x, b.y), pack2<BF16>(b.z, b.w));
    }
};

template <class A, bool BF16>
__device__ __forceinline__ void gemm(float* out, const void* w, const __half* wd, const float* x, const float* bias,
                                     int rows, int cols, int numTokens, int accumulate) {
    __shared__ __align__(16) unsigned short As[3][GM * GLDS];
    __shared__ __align__(16) unsigned short Bs[2][GN * GLDS];

    const int m0 = blockIdx.x * GM, n0 = blockIdx.y * GN;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int wm = (warp & 3) * 32;   // warp's first tile row
    const int wn = (warp >> 2) * 32;  // warp's first tile token
    const int nk = cols / GK;

    float acc[2][4][4];
#pragma unroll
    for (int i = 0; i < 2; i++)
#pragma unroll
        for (int j = 0; j < 4; j++)
#pragma unroll
            for (int k = 0; k < 4; k++) acc[i][j][k] = 0.0f;

    // Tile kt lives in A stage kt % 3 and B stage kt % 2; the global loads of tile kt go to register set
    // kt % 2 (q8_0/q4_0 weights, x) or straight to shared memory (cp.async, f16/bf16 weights), issued two
    // iterations before its MMAs. Iteration kt: issue tile kt + 2; MMAs on tile kt; store tile kt + 1's
    // registers (its stages last held tiles kt - 2 and kt - 1, done before the previous barrier); wait
    // until only tile kt + 2's cp.async group is pending; barrier.
    A aLoad[2];
    GbX<BF16> bLoad[2];
    auto loadTile = [&](auto set, int kt) {
        constexpr int S = decltype(set)::value;
        aLoad[S].load(w, wd, rows, cols, m0, kt, As[kt % 3]);
        bLoad[S].load(x, numTokens, cols, n0, kt);
    };
    auto storeTile = [&](auto set, int kt) {
        constexpr int S = decltype(set)::value;
        aLoad[S].store(As[kt % 3]);
        bLoad[S].store(Bs[kt & 1]);
    };
    const std::integral_constant<int, 0> set0;
    const std::integral_constant<int, 1> set1;
    loadTile(set0, 0);
    cp_async_commit();
    storeTile(set0, 0);
    if (nk > 1) loadTile(set1, 1);
    cp_async_commit();
    cp_async_wait_group<1>();                         // tile 0 complete
    __syncthreads();

    auto iteration = [&](auto set, int kt) {
        constexpr int S = decltype(set)::value;      // == kt % 2
        if (kt + 2 < nk) loadTile(set, kt + 2);
        cp_async_commit();                            // (possibly empty) group of tile kt + 2
        const unsigned short* as = As[kt % 3];
        const unsigned short* bs = Bs[kt & 1];
#pragma unroll
        for (int kk = 0; kk < GK; kk += 16) {
            unsigned a[2][4], b[4][2];
#pragma unroll
            for (int mi = 0; mi < 2; mi++)
                ldmatrix_x4(a[mi][0], a[mi][1], a[mi][2], a[mi][3],
                            as + (wm + mi * 16 + (lane & 15)) * GLDS + kk + (lane >> 4) * 8);
#pragma unroll
            for (int nj = 0; nj < 2; nj++) {
                const int mat = lane >> 3;             // 0: n 0-7 k 0-7, 1: n 0-7 k 8-15, 2: n 8-15 k 0-7, 3
                ldmatrix_x4(b[2 * nj][0], b[2 * nj][1], b[2 * nj + 1][0], b[2 * nj + 1][1],
                            bs + (wn + nj * 16 + (mat >> 1) * 8 + (lane & 7)) * GLDS + kk + (mat & 1) * 8);
            }
#pragma unroll
            for (int mi = 0; mi < 2; mi++)
#pragma unroll
                for (int ni = 0; ni < 4; ni++) mma16816<BF16>(acc[mi][ni], a[mi], b[ni][0], b[ni][1]);
        }
        if (kt + 1 < nk) storeTile(std::integral_constant<int, S ^ 1>(), kt + 1);
        cp_async_wait_group<1>();                     // all but tile kt + 2's group: tile kt + 1 complete
        __syncthreads();
    };
    for (int kt = 0; kt < nk; kt += 2) {
        iteration(set0, kt);
        if (kt + 1 < nk) iteration(set1, kt + 1);
    }

    // epilogue: c0, c1 at (row g, tokens 2q, 2q + 1), c2, c3 at (row g + 8, same tokens); g = lane / 4, q = lane % 4
#pragma unroll
    for (int mi = 0; mi < 2; mi++) {
#pragma unroll
        for (int half = 0; half < 2; half++) {
            const int r = m0 + wm + mi * 16 + (lane >> 2) + half * 8;
            if (r >= rows) continue;
            const float bv = bias ? bias[r] : 0.0f;
#pragma unroll
            for (int ni = 0; ni < 4; ni++) {
#pragma unroll
                for (int e = 0; e < 2; e++) {
                    const int t = n0 + wn + ni * 8 + (lane & 3) * 2 + e;
                    if (t < numTokens) {
                        float* o = out + (size_t) t * rows + r;
                        *o = (accumulate ? *o : 0.0f) + bv + acc[mi][ni][half * 2 + e];
                    }
                }
            }
        }
    }
}

} // namespace kvs

#define KVS_GEMM(name, A, BF16, MINB)                                                                               \
    KVS_API void __launch_bounds__(kvs::G_THREADS, MINB) name(float* out, const void* w, const __half* wd,            \
                                                        const float* x, const float* bias, int rows, int cols,  \
                                                        int numTokens, int accumulate) {                        \
        kvs::gemm<kvs::A, BF16>(out, w, wd, x, bias, rows, cols, numTokens, accumulate);                        \
    }
// f16/bf16: 3 blocks (24 warps) per SM within 80 registers; q8_0/q4_0 need ~100 registers without spills: 2.
KVS_GEMM(gemm_f16, GaHalf, false, 3)
KVS_GEMM(gemm_bf16, GaHalf, true, 3)
KVS_GEMM(gemm_q8_0, GaQ8, false, 2)
KVS_GEMM(gemm_q4_0, GaQ4, false, 2)
#undef KVS_GEMM
