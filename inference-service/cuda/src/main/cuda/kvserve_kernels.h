// kvserve CUDA kernels: the ABI between these sources and the Java side (io.kvserve.cuda).
//
// Every kernel is extern "C" (unmangled names, looked up by name with cuModuleGetFunction) and is
// launched by the Java side with the grid and block this header gives; change a launch geometry
// here and in CudaKernels.java together.
//
// Shapes and layouts (all row-major, element strides in elements, not bytes):
//   activations  float32 (numTokens, width)
//   weights      one matrix (rows = output features, cols = input features), uploaded by
//                WeightPacking.java:
//                  f32   float  [rows][cols]
//                  f16   __half [rows][cols]            (ggml F16 rows as they are)
//                  bf16  bf16   [rows][cols]            (ggml BF16 rows as they are, raw uint16)
//                  q8_0  int8   qs[rows][cols]          + __half d[rows][cols/32]
//                        value(r, c) = qs[r][c] * d[r][c/32]
//                  q4_0  uint8  qs[rows][cols/2]        + __half d[rows][cols/32]
//                        in block b of row r (32 values, 16 bytes at qs[r][16b..16b+15]):
//                        byte j holds value 32b+j in its low nibble and 32b+j+16 in its high nibble;
//                        value = (nibble - 8) * d[r][b]        (ggml's in-block order)
//                cols is always a multiple of 32.
//   KV cache     per layer, K and V each (numBlocks, numKvHeads, blockSize, headDim), __half (kvf16)
//                or float (kvf32); slot s = blockTable[p / blockSize] * blockSize + p % blockSize;
//                element (slot s, kv head h, i) at ((s / blockSize * numKvHeads + h) * blockSize
//                + s % blockSize) * headDim + i.
//   qkv          the fused projection's output (numTokens, qkvStride): q at column qOffset
//                (numHeads * headDim), k at kOffset, v at vOffset (numKvHeads * headDim each).
//
// Alignment: the weights w, the matvec/gemm activations x and xq, and kCache/vCache must be 16-byte
// aligned (16-byte vector loads and cp.async); other pointers need only their element alignment.
//
// Numerics: accumulate in float32; the CPU reference (ScalarTensorOps) accumulates in double, the
// tests compare with a tolerance. RoPE angles are computed in double (position * invFreq[i]) as the
// CPU reference does: in float, a position of 100k loses ~0.01 rad.

#pragma once
#include <cuda_fp16.h>
#include <cuda_bf16.h>
#include <stdint.h>

#ifdef __cplusplus
#define KVS_API extern "C" __global__
#else
#define KVS_API __global__
#endif

// ---- embedding -----------------------------------------------------------------------------------
// x[t][:] = row tokenIds[t] of the table (dequantized).  grid (numTokens), block 256.
// wd is the q8_0/q4_0 scale array, NULL for f32/f16/bf16.
KVS_API void embed_f32 (float* x, const void* w, const __half* wd, const int* tokenIds, int numTokens, int dim);
KVS_API void embed_f16 (float* x, const void* w, const __half* wd, const int* tokenIds, int numTokens, int dim);
KVS_API void embed_bf16(float* x, const void* w, const __half* wd, const int* tokenIds, int numTokens, int dim);
KVS_API void embed_q8_0(float* x, const void* w, const __half* wd, const int* tokenIds, int numTokens, int dim);
KVS_API void embed_q4_0(float* x, const void* w, const __half* wd, const int* tokenIds, int numTokens, int dim);

// ---- RMSNorm -------------------------------------------------------------------------------------
// out[t] = x[t] / sqrt(mean(x[t]^2) + eps) * weight; out may be x.  grid (numTokens), block 256.
KVS_API void rms_norm(float* out, const float* x, const float* weight, int numTokens, int dim, float eps);

// ---- activation quantization for the int8 paths ---------------------------------------------------
// per 32-value block of each row: xd = max|x| / 127, xq = round(x / xd) (0 when max|x| = 0).
// xq (numTokens, cols), xd (numTokens, cols / 32).  grid (ceil(numTokens * cols / 32 / 8)), block 256
// (one warp per block of 32 values).
KVS_API void quantize_act_q8(const float* x, int8_t* xq, float* xd, int numTokens, int cols);

// ---- matrix-vector (decode, few tokens) -----------------------------------------------------------
// out[t][r] = (accumulate ? out[t][r] : 0) + (bias ? bias[r] : 0) + sum_c W[r][c] * x[t][c]
// x (numTokens, cols), out (numTokens, rows). The q8_0/q4_0 kernels read xq/xd (int8 dot products,
// dp4a) and ignore x; the others read x and ignore xq/xd.
// grid (ceil(rows / 4), ceil(numTokens / 8)), block 128: block b owns rows 4b .. 4b+3 (its 4 warps split
// the columns) and tokens 8 * blockIdx.y .. +7, so each weight row is read once per 8 tokens.
KVS_API void matvec_f32 (float* out, const void* w, const __half* wd, const float* x, const int8_t* xq, const float* xd,
                         const float* bias, int rows, int cols, int numTokens, int accumulate);
KVS_API void matvec_f16 (float* out, const void* w, const __half* wd, const float* x, const int8_t* xq, const float* xd,
                         const float* bias, int rows, int cols, int numTokens, int accumulate);
KVS_API void matvec_bf16(float* out, const void* w, const __half* wd, const float* x, const int8_t* xq, const float* xd,
                         const float* bias, int rows, int cols, int numTokens, int accumulate);
KVS_API void matvec_q8_0(float* out, const void* w, const __half* wd, const float* x, const int8_t* xq, const float* xd,
                         const float* bias, int rows, int cols, int numTokens, int accumulate);
KVS_API void matvec_q4_0(float* out, const void* w, const __half* wd, const float* x, const int8_t* xq, const float* xd,
                         const float* bias, int rows, int cols, int numTokens, int accumulate);

// ---- tensor-core GEMM (prefill chunks, large decode batches) ---------------------------------------
// Same contract as matvec_*, numTokens large. mma.sync m16n8k16 with float accumulators: x is
// rounded to half (bf16 for the bf16 kernel) as it is staged; quantized weights are dequantized to
// half in shared memory. Tile: 128 rows x 64 tokens x 32 cols.
// grid (ceil(rows / 128), ceil(numTokens / 64)), block 256, static shared memory only.
KVS_API void gemm_f16 (float* out, const void* w, const __half* wd, const float* x, const float* bias,
                       int rows, int cols, int numTokens, int accumulate);
KVS_API void gemm_bf16(float* out, const void* w, const __half* wd, const float* x, const float* bias,
                       int rows, int cols, int numTokens, int accumulate);
KVS_API void gemm_q8_0(float* out, const void* w, const __half* wd, const float* x, const float* bias,
                       int rows, int cols, int numTokens, int accumulate);
KVS_API void gemm_q4_0(float* out, const void* w, const __half* wd, const float* x, const float* bias,
                       int rows, int cols, int numTokens, int accumulate);

// ---- RoPE + KV-cache write -------------------------------------------------------------------------
// For token t at positions[t]: rotates q (numHeads heads) in place in qkv, rotates k (numKvHeads
// heads) and writes rotated k and v to the cache at slots[t]; slots[t] < 0 (padding) writes nothing.
// Pair i of a head rotates by angle = (double) positions[t] * invFreq[i]:
//   neox = 0 (interleaved pairs): elements (2i, 2i+1);  neox = 1 (NeoX halves): (i, i + headDim/2)
//   (a, b) -> (a cos - b sin, a sin + b cos)
// headDim is even and at most 256.  grid (numTokens), block 128.
KVS_API void rope_store_kv_kvf16(float* qkv, int qkvStride, int qOffset, int kOffset, int vOffset,
                                 const int* positions, const int* slots, const float* invFreq,
                                 int numHeads, int numKvHeads, int headDim, int neox,
                                 __half* kCache, __half* vCache, int blockSize, int numTokens);
KVS_API void rope_store_kv_kvf32(float* qkv, int qkvStride, int qOffset, int kOffset, int vOffset,
                                 const int* positions, const int* slots, const float* invFreq,
                                 int numHeads, int numKvHeads, int headDim, int neox,
                                 float* kCache, float* vCache, int blockSize, int numTokens);

// ---- paged attention, split-K (flash-decoding) --------------------------------------------------
// Query token t (of sequence tokenSeqs[t], at positions[t]) attends to positions 0..positions[t] of
// its sequence (causal), whose slots come from blockTables[tokenSeqs[t] * blockTableStride + j].
// Block (t, kvHead, split z) covers positions [z * splitSize, min((z + 1) * splitSize, positions[t] + 1))
// for the G = numHeads / numKvHeads query heads of kvHead, and writes, for each such head h:
//   partialMaxSum[((t * numHeads + h) * numSplits + z) * 2 + {0, 1}] = {max score, sum exp(score - max)}
//   partialAcc[((t * numHeads + h) * numSplits + z) * headDim + i]  = sum exp(score - max) * v[i]
// scores = scale * q . k; an empty range writes {-INFINITY, 0} and zeros. positions[t] < 0 (padding)
// makes every split empty. numSplits = gridDim.z.
// grid (numTokens, numKvHeads, numSplits), block 128; headDim is a multiple of 32, at most 256.
KVS_API void paged_attention_kvf16(const float* qkv, int qkvStride, int qOffset,
                                   const __half* kCache, const __half* vCache,
                                   const int* blockTables, int blockTableStride, const int* tokenSeqs, const int* positions,
                                   int numHeads, int numKvHeads, int headDim, int blockSize, float scale, int splitSize,
                                   float* partialAcc, float* partialMaxSum, int numTokens);
KVS_API void paged_attention_kvf32(const float* qkv, int qkvStride, int qOffset,
                                   const float* kCache, const float* vCache,
                                   const int* blockTables, int blockTableStride, const int* tokenSeqs, const int* positions,
                                   int numHeads, int numKvHeads, int headDim, int blockSize, float scale, int splitSize,
                                   float* partialAcc, float* partialMaxSum, int numTokens);
// out[t][h * headDim + i] = sum_z e^(max_z - M) acc_z[i] / sum_z e^(max_z - M) sum_z,  M = max_z max_z;
// a token whose splits are all empty (padding) gets zeros.  grid (numTokens, numHeads), block headDim.
KVS_API void paged_attention_reduce(float* out, const float* partialAcc, const float* partialMaxSum,
                                    int numHeads, int headDim, int numSplits, int numTokens);

// ---- feed-forward ---------------------------------------------------------------------------------
// gateUp (numTokens, 2 * hidden): columns [0, hidden) are w1 x (gate), [hidden, 2 hidden) w3 x (up).
// out[t][i] = silu(gate) * up, silu(g) = g / (1 + e^-g).  grid (ceil(numTokens * hidden / 256)), block 256.
KVS_API void silu_mul(float* out, const float* gateUp, int hidden, int numTokens);

// ---- LM head input, sampling ----------------------------------------------------------------------
// out[i][:] = x[indices[i]][:].  grid (numRows), block 256.
KVS_API void gather_rows(float* out, const float* x, const int* indices, int numRows, int dim);
// out[i] = the first index of the largest logits[i][:].  grid (numRows), block 1024.
KVS_API void argmax_rows(int* out, const float* logits, int numRows, int vocab);
// out[i] = the smallest j with sum_{k<=j} softmax(logits[i] / temperatures[i])_k > uniforms[i] * total
// (inverse-CDF sampling; uniforms in [0, 1)); temperatures[i] <= 0 means argmax.  grid (numRows), block 1024.
KVS_API void sample_rows(int* out, const float* logits, int numRows, int vocab, const float* temperatures,
                         const float* uniforms);
