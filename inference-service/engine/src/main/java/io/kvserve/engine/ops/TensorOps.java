package io.kvserve.engine.ops;

import io.kvserve.common.model.RopeLayout;
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
