package io.kvserve.cuda;

/**
 * One kernel launch's name and geometry, as kvserve_kernels.h fixes it for the arguments' sizes.
 *
 * @param kernel the extern "C" name
 * @param gridX  blocks in x
 * @param gridY  blocks in y
 * @param gridZ  blocks in z
 * @param block  threads per block (one-dimensional)
 */
public record Launch(String kernel, int gridX, int gridY, int gridZ, int block) {

    public Launch {
        if (gridX < 1 || gridY < 1 || gridZ < 1 || block < 1 || block > 1024) {
            throw new IllegalArgumentException(kernel + ": grid (" + gridX + ", " + gridY + ", " + gridZ + ") and block "
                    + block + " must be positive, block at most 1024");
        }
    }

    static int ceilDiv(long a, long b) {
        return Math.toIntExact((a + b - 1) / b);
    }

    // ---- the geometry of each kernel family (kvserve_kernels.h) ----

    static Launch embed(KernelWeightType type, int numTokens) {
        return new Launch("embed_" + type.suffix(), numTokens, 1, 1, 256);
    }

    static Launch rmsNorm(int numTokens) {
        return new Launch("rms_norm", numTokens, 1, 1, 256);
    }

    static Launch quantizeActivations(int numTokens, int cols) {
        return new Launch("quantize_act_q8", ceilDiv((long) numTokens * cols / 32, 8), 1, 1, 256);
    }

    /** Tokens from which a matmul uses the tensor-core GEMM instead of the matrix-vector kernel. */
    static final int GEMM_MIN_TOKENS = 17;

    /** Whether a matmul of {@code numTokens} tokens runs as a GEMM (F32 weights have none). */
    static boolean usesGemm(KernelWeightType type, int numTokens) {
        return numTokens >= GEMM_MIN_TOKENS && type != KernelWeightType.F32;
    }

    static Launch matmul(KernelWeightType type, int rows, int numTokens) {
        if (usesGemm(type, numTokens)) {
            return new Launch("gemm_" + type.suffix(), ceilDiv(rows, 128), ceilDiv(numTokens, 64), 1, 256);
        }
        return new Launch("matvec_" + type.suffix(), ceilDiv(rows, 4), ceilDiv(numTokens, 8), 1, 128);
    }

    static Launch ropeStoreKv(boolean f16Cache, int numTokens) {
        return new Launch(f16Cache ? "rope_store_kv_kvf16" : "rope_store_kv_kvf32", numTokens, 1, 1, 128);
    }

    static Launch attention(boolean f16Cache, int numTokens, int numKvHeads, AttentionPlan plan) {
        return new Launch(f16Cache ? "paged_attention_kvf16" : "paged_attention_kvf32", numTokens, numKvHeads,
                plan.numSplits(), 128);
    }

    static Launch attentionReduce(int numTokens, int numHeads, int headDim) {
        return new Launch("paged_attention_reduce", numTokens, numHeads, 1, headDim);
    }

    static Launch siluMul(int numTokens, int hidden) {
        return new Launch("silu_mul", ceilDiv((long) numTokens * hidden, 256), 1, 1, 256);
    }

    static Launch gatherRows(int numRows) {
        return new Launch("gather_rows", numRows, 1, 1, 256);
    }

    static Launch argmaxRows(int numRows) {
        return new Launch("argmax_rows", numRows, 1, 1, 1024);
    }

    static Launch sampleRows(int numRows) {
        return new Launch("sample_rows", numRows, 1, 1, 1024);
    }
}
