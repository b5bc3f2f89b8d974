package io.kvserve.engine.model;

import io.kvserve.common.model.ModelConfig;
import io.kvserve.common.model.RopeLayout;
import io.kvserve.engine.ops.RopeFrequencies;
import io.kvserve.engine.ops.TensorOps;

import java.util.Arrays;

/**
 * The forward pass of a Llama-family decoder (llama, qwen2, mistral) for ONE sequence, with a
 * contiguous KV cache of its own. The kernels come from a {@link TensorOps}: with
 * {@code ScalarTensorOps} this same code is the reference forward the fast path is tested against.
 *
 * <h2>What one {@link #forward} call does</h2>
 * The caller feeds tokens at consecutive positions; positions {@code 0..startPosition-1} must have
 * been fed before (their K and V are in the cache). For each layer, in data-flow order:
 * <pre>
 *   xb   = rmsNorm(x, attnNorm)                      x: (numTokens, dim), the residual stream
 *   q    = wq xb (+bq)   k = wk xb (+bk)   v = wv xb (+bv)       qwen2 has the biases
 *   rope(q), rope(k)  at positions startPosition + t, in the file's layout
 *   keyCache[l][pos] = k, valueCache[l][pos] = v
 *   att[t, h] = sum_p softmax_p(q[t,h] . key[p, h / G] / sqrt(headDim)) value[p, h / G]
 *               p in 0..startPosition+t (causal), G = numHeads / numKvHeads (GQA)
 *   x   += wo att
 *   xb   = rmsNorm(x, ffnNorm)
 *   x   += w2 (silu(w1 xb) * w3 xb)
 * </pre>
 * then {@code logits = output rmsNorm(x, outputNorm)}.
 *
 * <p>KV cache layout, one float[] per layer (F32, as llama.cpp's {@code --kv f32}):
 * <pre>
 *   keyCache[l]:  | pos 0: kvHead 0 (headDim) | kvHead 1 | ... | pos 1: kvHead 0 | ... |  (maxSeqLen, numKvHeads, headDim)
 *   offset of (pos, kvHead) = (pos * numKvHeads + kvHead) * headDim
 * </pre>
 *
 * <p>Buffers are allocated once, for at most {@link #maxBatchTokens()} tokens per call; longer
 * prompts are fed in several calls. The attention loops are plain Java (one thread); the matmuls,
 * where the time goes, are the ops' kernels.
 *
 * <p>References: [1] llama3.java {@code forward} (names, order); [2] llama.cpp
 * {@code llm_build_llama} / {@code llm_build_qwen2}; [3] HF transformers {@code LlamaAttention}
 * ({@code repeat_kv} for GQA, NeoX {@code rotate_half}).
 */
public final class LlamaModel {

    private final LlamaWeights weights;
    private final ModelConfig config;
    private final TensorOps ops;
    private final RopeFrequencies ropeFrequencies;
    private final RopeLayout ropeLayout;
    private final int maxSeqLen;
    private final int maxBatchTokens;
    private final int dim;
    private final int qDim;
    private final int kvDim;
    private final int hiddenDim;
    private final int vocabSize;

    private final float[][] keyCache;   // (numLayers, maxSeqLen, numKvHeads, headDim)
    private final float[][] valueCache; // (numLayers, maxSeqLen, numKvHeads, headDim)

    private final float[] x;       // (maxBatchTokens, dim): the residual stream
    private final float[] xb;      // (maxBatchTokens, dim): normed x
    private final float[] xb2;     // (maxBatchTokens, dim): a block's output before the residual add
    private final float[] q;       // (maxBatchTokens, numHeads, headDim)
    private final float[] k;       // (maxBatchTokens, numKvHeads, headDim)
    private final float[] v;       // (maxBatchTokens, numKvHeads, headDim)
    private final float[] att;     // (maxBatchTokens, numHeads, headDim): attention output
    private final float[] scores;  // (maxSeqLen): one head's attention weights over positions
    private final float[] hb;      // (maxBatchTokens, hiddenDim): gate, then silu(gate) * up
    private final float[] hb2;     // (maxBatchTokens, hiddenDim): up
    private final int[] positions; // (maxBatchTokens)

    /**
     * @param weights        the model's weights
     * @param ops            kernels; the model uses them from the calling thread only
     * @param maxSeqLen      positions the KV cache holds (prompt plus generated tokens)
     * @param maxBatchTokens most tokens one {@link #forward} call takes (sizes the activation buffers)
     */
    public LlamaModel(LlamaWeights weights, TensorOps ops, int maxSeqLen, int maxBatchTokens) {
        this.weights = weights;
        this.config = weights.config();
        this.ops = ops;
        if (maxSeqLen <= 0 || maxBatchTokens <= 0) {
            throw new IllegalArgumentException("maxSeqLen " + maxSeqLen + " and maxBatchTokens " + maxBatchTokens
                    + " must be positive");
        }
        this.maxSeqLen = maxSeqLen;
        this.maxBatchTokens = Math.min(maxBatchTokens, maxSeqLen);
        this.ropeFrequencies = RopeFrequencies.of(config.headDim(), config.ropeTheta(), config.ropeFrequencyDivisors());
        this.ropeLayout = config.ropeLayout();
        this.dim = config.dim();
        this.qDim = config.numHeads() * config.headDim();
        this.kvDim = config.kvDim();
        this.hiddenDim = config.hiddenDim();
        this.vocabSize = config.vocabSize();
        int n = this.maxBatchTokens;
        keyCache = new float[config.numLayers()][Math.multiplyExact(maxSeqLen, kvDim)];
        valueCache = new float[config.numLayers()][Math.multiplyExact(maxSeqLen, kvDim)];
        x = new float[n * dim];
        xb = new float[n * dim];
        xb2 = new float[n * dim];
        q = new float[n * qDim];
        k = new float[n * kvDim];
        v = new float[n * kvDim];
        att = new float[n * qDim];
        scores = new float[maxSeqLen];
        hb = new float[n * hiddenDim];
        hb2 = new float[n * hiddenDim];
        positions = new int[n];
    }

    /**
     * A model whose KV lives in a shared paged {@code cache}; sequences are fed through
     * {@link #forward(ForwardBatch, float[])} with their block tables.
     *
     * @param maxBatchTokens most tokens one forward call takes, over all its sequences
     */
    public LlamaModel(LlamaWeights weights, TensorOps ops, PagedKvCache cache, int maxBatchTokens) {
        throw new UnsupportedOperationException("paged forward lands in the next commit");
    }

    /**
     * Runs one step over the sequences of {@code batch} and writes the logits rows it asks for:
     * {@code logitsOut} is (batch.numLogitsRows(), vocabSize).
     */
    public void forward(ForwardBatch batch, float[] logitsOut) {
        throw new UnsupportedOperationException("paged forward lands in the next commit");
    }

    public ModelConfig config() {
        return config;
    }

    public int maxSeqLen() {
        return maxSeqLen;
    }

    public int maxBatchTokens() {
        return maxBatchTokens;
    }

    /**
     * Feeds {@code tokens[0..numTokens)} at positions {@code startPosition..startPosition+numTokens-1}
     * and writes ALL their logits: {@code logitsOut} is (numTokens, vocabSize), row t predicts the
     * token after position startPosition + t.
     *
     * @throws IllegalArgumentException for no tokens, more than {@link #maxBatchTokens()}, positions
     *                                  past {@link #maxSeqLen()}, a token id outside the vocabulary or
     *                                  a too small logitsOut
     */
    public void forward(int[] tokens, int numTokens, int startPosition, float[] logitsOut) {
        forward(tokens, numTokens, startPosition, logitsOut, true);
    }

    /**
     * As {@link #forward}, but writes only the last token's logits: {@code logitsOut} is
     * (vocabSize); the LM head runs for one token.
     */
    public void forwardLast(int[] tokens, int numTokens, int startPosition, float[] logitsOut) {
        forward(tokens, numTokens, startPosition, logitsOut, false);
    }

    private void forward(int[] tokens, int numTokens, int startPosition, float[] logitsOut, boolean allRows) {
        checkInput(tokens, numTokens, startPosition, logitsOut, allRows);
        int n = numTokens;
        int headDim = config.headDim();
        int numHeads = config.numHeads();
        int numKvHeads = config.numKvHeads();
        int kvGroup = config.numQueriesPerKvHead();
        float attScale = (float) (1.0 / Math.sqrt(headDim));
        float eps = config.rmsNormEps();

        for (int t = 0; t < n; t++) {
            weights.embedding(tokens[t], x, t * dim);
            positions[t] = startPosition + t;
        }

        for (int l = 0; l < config.numLayers(); l++) {
            // attention
            ops.rmsNorm(xb, x, weights.attnNorm[l], n, dim, eps);
            ops.matmul(weights.wq[l], xb, n, q);
            ops.matmul(weights.wk[l], xb, n, k);
            ops.matmul(weights.wv[l], xb, n, v);
            if (weights.bq != null) {
                addRowBias(q, weights.bq[l], n, qDim);
                addRowBias(k, weights.bk[l], n, kvDim);
                addRowBias(v, weights.bv[l], n, kvDim);
            }
            ops.rope(q, n, numHeads, headDim, positions, ropeFrequencies, ropeLayout);
            ops.rope(k, n, numKvHeads, headDim, positions, ropeFrequencies, ropeLayout);

            float[] keys = keyCache[l];
            float[] values = valueCache[l];
            System.arraycopy(k, 0, keys, startPosition * kvDim, n * kvDim);
            System.arraycopy(v, 0, values, startPosition * kvDim, n * kvDim);

            for (int t = 0; t < n; t++) {
                int numPositions = startPosition + t + 1; // causal: this token sees 0..its own position
                for (int h = 0; h < numHeads; h++) {
                    int qOffset = (t * numHeads + h) * headDim;
                    int kvHeadOffset = (h / kvGroup) * headDim;
                    for (int p = 0; p < numPositions; p++) {
                        int kOffset = p * kvDim + kvHeadOffset;
                        float dot = 0f;
                        for (int i = 0; i < headDim; i++) {
                            dot += q[qOffset + i] * keys[kOffset + i];
                        }
                        scores[p] = dot * attScale;
                    }
                    ops.softmax(scores, 0, numPositions);
                    Arrays.fill(att, qOffset, qOffset + headDim, 0f);
                    for (int p = 0; p < numPositions; p++) {
                        int vOffset = p * kvDim + kvHeadOffset;
                        float a = scores[p];
                        for (int i = 0; i < headDim; i++) {
                            att[qOffset + i] += a * values[vOffset + i];
                        }
                    }
                }
            }
            ops.matmul(weights.wo[l], att, n, xb2);
            ops.add(x, xb2, n * dim);

            // feed-forward
            ops.rmsNorm(xb, x, weights.ffnNorm[l], n, dim, eps);
            ops.matmul(weights.w1[l], xb, n, hb);
            ops.matmul(weights.w3[l], xb, n, hb2);
            ops.siluMul(hb, hb2, n * hiddenDim);
            ops.matmul(weights.w2[l], hb, n, xb2);
            ops.add(x, xb2, n * dim);
        }

        if (allRows) {
            ops.rmsNorm(xb, x, weights.outputNorm, n, dim, eps);
            ops.matmul(weights.output, xb, n, logitsOut);
        } else {
            ops.rmsNorm(xb, lastRow(n), weights.outputNorm, 1, dim, eps);
            ops.matmul(weights.output, xb, 1, logitsOut);
        }
    }

    /** Moves the last token's row of x to row 0 (x is dead after the final norm) and returns x. */
    private float[] lastRow(int numTokens) {
        if (numTokens > 1) {
            System.arraycopy(x, (numTokens - 1) * dim, x, 0, dim);
        }
        return x;
    }

    private static void addRowBias(float[] out, float[] bias, int numTokens, int width) {
        for (int t = 0; t < numTokens; t++) {
            int base = t * width;
            for (int i = 0; i < width; i++) {
                out[base + i] += bias[i];
            }
        }
    }

    private void checkInput(int[] tokens, int numTokens, int startPosition, float[] logitsOut, boolean allRows) {
        if (numTokens <= 0 || tokens.length < numTokens) {
            throw new IllegalArgumentException("no tokens to feed: numTokens " + numTokens + " (tokens has "
                    + tokens.length + "); a prompt needs at least one token");
        }
        if (numTokens > maxBatchTokens) {
            throw new IllegalArgumentException(numTokens + " tokens in one call, the buffers hold " + maxBatchTokens
                    + "; feed them in chunks of at most " + maxBatchTokens);
        }
        if (startPosition < 0 || (long) startPosition + numTokens > maxSeqLen) {
            throw new IllegalArgumentException("positions " + startPosition + ".." + (startPosition + numTokens - 1)
                    + " do not fit the KV cache of maxSeqLen " + maxSeqLen + " positions (0.." + (maxSeqLen - 1)
                    + "); shorten the prompt or the generation, or build the model with a larger maxSeqLen");
        }
        for (int t = 0; t < numTokens; t++) {
            if (tokens[t] < 0 || tokens[t] >= vocabSize) {
                throw new IllegalArgumentException("token id " + tokens[t] + " at index " + t
                        + " is out of range 0.." + (vocabSize - 1));
            }
        }
        long needed = allRows ? (long) numTokens * vocabSize : vocabSize;
        if (logitsOut.length < needed) {
            throw new IllegalArgumentException("logitsOut has " + logitsOut.length + " floats, " + (allRows
                    ? numTokens + " rows" : "one row") + " of vocabSize " + vocabSize + " need " + needed);
        }
    }
}
