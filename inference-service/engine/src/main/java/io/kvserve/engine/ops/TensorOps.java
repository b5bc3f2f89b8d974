package io.kvserve.engine.ops;

import io.kvserve.common.model.RopeLayout;
import io.kvserve.engine.model.PagedKvCache;
import io.kvserve.engine.model.WeightMatrix;

/**
 * The kernels of a transformer forward pass, over activations stored as row-major
 * {@code float[]} of {@code (numTokens, width)}. Implementations are used from one thread (the
 * engine's step loop); an implementation may use more threads inside a call.
 */
public interface TensorOps extends AutoCloseable {

    /**
     * {@code out[t][r] = dot(w row r, x[t])}: x is (numTokens, w.rowLength()), out is
     * (numTokens, w.numRows()); every weight row is read from memory once per call for all tokens.
     */
    void matmul(WeightMatrix w, float[] x, int numTokens, float[] out);

    /**
     * Several matmuls of the same input, {@code outs[i] = ws[i] x}, in one pass of the threads (one
     * barrier instead of {@code ws.length}): Q, K and V projections.
     */
    default void matmul(WeightMatrix[] ws, float[] x, int numTokens, float[][] outs) {
        for (int i = 0; i < ws.length; i++) {
            matmul(ws[i], x, numTokens, outs[i]);
        }
    }

    /**
     * The feed-forward's gate and up projections fused with the SiLU product:
     * {@code gate = silu(w1 x) * (w3 x)}, (numTokens, w1.numRows()); {@code up} is scratch of the
     * same shape. A fused implementation applies SiLU to each thread's rows while they are in cache.
     */
    default void matmulSiluMul(WeightMatrix w1, WeightMatrix w3, float[] x, int numTokens, float[] gate, float[] up) {
        matmul(w1, x, numTokens, gate);
        matmul(w3, x, numTokens, up);
        siluMul(gate, up, numTokens * w1.numRows());
    }

    /**
     * Causal attention over a paged KV cache. For token t (of sequence {@code tokenSeqs[t]}, at
     * position {@code positions[t]}) and query head h, with G = numHeads / numKvHeads:
     * <pre>
     *   out[t, h] = sum_{j=0..positions[t]} softmax_j(scale * q[t, h] . K[slot(j), h / G]) V[slot(j), h / G]
     *   slot(j)   = blockTable[j / blockSize] * blockSize + j % blockSize,  blockTable = blockTables[tokenSeqs[t]]
     * </pre>
     * q and out are (numTokens, numHeads, headDim); K and V of every position up to positions[t]
     * must already be in the cache (this step's tokens included).
     */
    void attention(float[] out, float[] q, int numTokens, int[] positions, int[] tokenSeqs, int[][] blockTables,
                   PagedKvCache cache, int layer, int numHeads, int headDim, float scale);

    /**
     * {@code out[t] = x[t] / sqrt(mean(x[t]^2) + eps) * weight}; x and out are (numTokens, dim),
     * weight (dim); out may be x.
     */
    void rmsNorm(float[] out, float[] x, float[] weight, int numTokens, int dim, float eps);

    /**
     * Rotates, in place, every head of every token of x (numTokens, numHeads, headDim) by
     * {@code positions[t] * freqs.inverseFrequency(i)} for pair i, the pairs chosen by layout.
     */
    void rope(float[] x, int numTokens, int numHeads, int headDim, int[] positions, RopeFrequencies freqs,
              RopeLayout layout);

    /** {@code gate[i] = silu(gate[i]) * up[i]} for i in 0..n-1, silu(g) = g / (1 + e^-g). */
    void siluMul(float[] gate, float[] up, int n);

    /** Softmax, in place, of {@code x[offset..offset+n)}. */
    void softmax(float[] x, int offset, int n);

    /** {@code dst[i] += src[i]} for i in 0..n-1. */
    void add(float[] dst, float[] src, int n);

    /** Index (relative to offset) of the largest of {@code x[offset..offset+n)}; the first on ties. */
    int argmax(float[] x, int offset, int n);

    /** Stops any worker threads; the ops must not be used afterwards. */
    @Override
    default void close() {
    }
}
