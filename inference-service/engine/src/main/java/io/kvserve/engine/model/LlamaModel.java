package io.kvserve.engine.model;

import io.kvserve.common.model.ModelConfig;
import io.kvserve.common.model.RopeLayout;
import io.kvserve.engine.ops.RopeFrequencies;
import io.kvserve.engine.ops.TensorOps;

import java.util.Arrays;

/**
 * The forward pass of a Llama-family decoder (llama, qwen2, mistral) over a batch of sequences that
 * share one paged KV cache. The kernels come from a {@link TensorOps}: with {@code ScalarTensorOps}
 * this same code is the reference forward the fast path is tested against.
 *
 * <h2>What one {@link #forward(ForwardBatch, float[])} call does</h2>
 * The batch lays the new tokens of all its sequences end to end (see {@link ForwardBatch}); every
 * projection runs once over all of them, so each weight row is read once per step whatever the
 * number of sequences. For each layer, in data-flow order:
 * <pre>
 *   xb   = rmsNorm(x, attnNorm)                      x: (numTokens, dim), the residual stream
 *   q    = wq xb (+bq)   k = wk xb (+bk)   v = wv xb (+bv)       one pass of the threads; qwen2 has the biases
 *   rope(q), rope(k)  at each token's position, in the file's layout
 *   cache[l][slot(t)] = k[t], v[t]                  slot from the token's sequence's block table
 *   att[t, h] = sum_p softmax_p(q[t,h] . key[p, h / G] / sqrt(headDim)) value[p, h / G]
 *               p in 0..position(t) of t's sequence (causal), G = numHeads / numKvHeads (GQA)
 *   x   += wo att
 *   xb   = rmsNorm(x, ffnNorm)
 *   x   += w2 (silu(w1 xb) * w3 xb)                  gate/up/SiLU fused in one pass
 * </pre>
 * then, for the rows the batch asks for only, {@code logits = output rmsNorm(x, outputNorm)}: a
 * decode step of 16 sequences runs the LM head for 16 rows, a prefill chunk for its last row.
 *
 * <p>The KV cache ({@link PagedKvCache}) belongs to whoever allocates its blocks: the engine's
 * block tables, or, for the single-sequence constructor, this model itself (blocks 0, 1, 2, ... in
 * order, like a contiguous cache).
 *
 * <p>Buffers are allocated once, for at most {@link #maxBatchTokens()} tokens per call.
 *
 * <p>References: [1] llama3.java {@code forward} (names, order); [2] llama.cpp
 * {@code llm_build_llama} / {@code llm_build_qwen2}; [3] HF transformers {@code LlamaAttention}
 * ({@code repeat_kv} for GQA, NeoX {@code rotate_half}); [4] vLLM v1 gpu_model_runner (flattened
 * batch, logits only for the sampled positions).
 */
public final class LlamaModel implements ModelRunner {

    private final LlamaWeights weights;
    private final ModelConfig config;
    private final TensorOps ops;
    private final PagedKvCache cache;
    private final RopeFrequencies ropeFrequencies;
    private final RopeLayout ropeLayout;
    private final int maxSeqLen;        // single-sequence API: positions its own blocks hold
    private final int[] ownBlockTable;  // single-sequence API: blocks 0..n-1; null with a shared cache
    private final int maxBatchTokens;
    private final int dim;
    private final int qDim;
    private final int kvDim;
    private final int hiddenDim;
    private final int vocabSize;

    private final float[] x;       // (maxBatchTokens, dim): the residual stream
    private final float[] xb;      // (maxBatchTokens, dim): normed x
    private final float[] xb2;     // (maxBatchTokens, dim): a block's output before the residual add
    private final float[] q;       // (maxBatchTokens, numHeads, headDim)
    private final float[] k;       // (maxBatchTokens, numKvHeads, headDim)
    private final float[] v;       // (maxBatchTokens, numKvHeads, headDim)
    private final float[] att;     // (maxBatchTokens, numHeads, headDim): attention output
    private final float[] hb;      // (maxBatchTokens, hiddenDim): gate, then silu(gate) * up
    private final float[] hb2;     // (maxBatchTokens, hiddenDim): up
    private final int[] positions; // (maxBatchTokens): each token's position in its sequence
    private final int[] tokenSeqs; // (maxBatchTokens): each token's sequence index in the batch
    private final int[] slots;     // (maxBatchTokens): each token's KV cache slot
    private final float[][] qkv;   // {q, k, v}: the outputs of the fused projection
    private final WeightMatrix[][] wqkv; // (numLayers, 3): {wq, wk, wv} of each layer

    /**
     * One sequence with a KV cache of its own (F32, {@code maxSeqLen} positions), fed through
     * {@link #forward(int[], int, int, float[])}: the shape of {@code bin/kvserve generate} and of
     * the reference tests.
     *
     * @param maxSeqLen      positions the KV cache holds (prompt plus generated tokens)
     * @param maxBatchTokens most tokens one forward call takes (sizes the activation buffers)
     */
    public LlamaModel(LlamaWeights weights, TensorOps ops, int maxSeqLen, int maxBatchTokens) {
        this(weights, ops, ownCache(weights.config(), maxSeqLen, maxBatchTokens), maxSeqLen,
                Math.min(maxBatchTokens, Math.max(1, maxSeqLen)));
    }

    /**
     * A model whose KV lives in a shared paged {@code cache}; sequences are fed through
     * {@link #forward(ForwardBatch, float[])} with their block tables.
     *
     * @param maxBatchTokens most tokens one forward call takes, over all its sequences
     */
    public LlamaModel(LlamaWeights weights, TensorOps ops, PagedKvCache cache, int maxBatchTokens) {
        this(weights, ops, cache, -1, maxBatchTokens);
    }

    private LlamaModel(LlamaWeights weights, TensorOps ops, PagedKvCache cache, int maxSeqLen, int maxBatchTokens) {
        this.weights = weights;
        this.config = weights.config();
        this.ops = ops;
        this.cache = cache;
        if (maxBatchTokens <= 0) {
            throw new IllegalArgumentException("maxBatchTokens " + maxBatchTokens + " must be positive");
        }
        if (cache.numLayers() != config.numLayers() || cache.kvDim() != config.kvDim()) {
            throw new IllegalArgumentException("the KV cache has " + cache.numLayers() + " layers of kvDim "
                    + cache.kvDim() + ", the model " + config.numLayers() + " of " + config.kvDim());
        }
        this.maxSeqLen = maxSeqLen;
        this.ownBlockTable = maxSeqLen < 0 ? null : identityTable(cache.numBlocks());
        this.maxBatchTokens = maxBatchTokens;
        this.ropeFrequencies = RopeFrequencies.of(config.headDim(), config.ropeTheta(), config.ropeFrequencyDivisors());
        this.ropeLayout = config.ropeLayout();
        this.dim = config.dim();
        this.qDim = config.numHeads() * config.headDim();
        this.kvDim = config.kvDim();
        this.hiddenDim = config.hiddenDim();
        this.vocabSize = config.vocabSize();
        int n = maxBatchTokens;
        x = new float[n * dim];
        xb = new float[n * dim];
        xb2 = new float[n * dim];
        q = new float[n * qDim];
        k = new float[n * kvDim];
        v = new float[n * kvDim];
        att = new float[n * qDim];
        hb = new float[n * hiddenDim];
        hb2 = new float[n * hiddenDim];
        positions = new int[n];
        tokenSeqs = new int[n];
        slots = new int[n];
        qkv = new float[][] {q, k, v};
        wqkv = new WeightMatrix[config.numLayers()][];
        for (int l = 0; l < config.numLayers(); l++) {
            wqkv[l] = new WeightMatrix[] {weights.wq[l], weights.wk[l], weights.wv[l]};
        }
    }

    private static PagedKvCache ownCache(ModelConfig config, int maxSeqLen, int maxBatchTokens) {
        if (maxSeqLen <= 0 || maxBatchTokens <= 0) {
            throw new IllegalArgumentException("maxSeqLen " + maxSeqLen + " and maxBatchTokens " + maxBatchTokens
                    + " must be positive");
        }
        int blockSize = 16;
        return new PagedKvCache(config, (maxSeqLen + blockSize - 1) / blockSize, blockSize, KvCacheDtype.F32);
    }

    private static int[] identityTable(int numBlocks) {
        int[] table = new int[numBlocks];
        for (int i = 0; i < numBlocks; i++) {
            table[i] = i;
        }
        return table;
    }

    @Override
    public ModelConfig config() {
        return config;
    }

    /** The KV cache this model reads and writes. */
    public PagedKvCache cache() {
        return cache;
    }

    /** Positions of the single-sequence cache; -1 for a model over a shared cache. */
    public int maxSeqLen() {
        return maxSeqLen;
    }

    @Override
    public int maxBatchTokens() {
        return maxBatchTokens;
    }

    /**
     * Single-sequence API: feeds {@code tokens[0..numTokens)} at positions
     * {@code startPosition..startPosition+numTokens-1} and writes ALL their logits: {@code logitsOut}
     * is (numTokens, vocabSize), row t predicts the token after position startPosition + t.
     *
     * @throws IllegalArgumentException for no tokens, more than {@link #maxBatchTokens()}, positions
     *                                  past {@link #maxSeqLen()}, a token id outside the vocabulary or
     *                                  a too small logitsOut
     */
    public void forward(int[] tokens, int numTokens, int startPosition, float[] logitsOut) {
        forwardSingle(tokens, numTokens, startPosition, logitsOut, true);
    }

    /**
     * As {@link #forward(int[], int, int, float[])}, but writes only the last token's logits:
     * {@code logitsOut} is (vocabSize); the LM head runs for one token.
     */
    public void forwardLast(int[] tokens, int numTokens, int startPosition, float[] logitsOut) {
        forwardSingle(tokens, numTokens, startPosition, logitsOut, false);
    }

    private void forwardSingle(int[] tokens, int numTokens, int startPosition, float[] logitsOut, boolean allRows) {
        if (ownBlockTable == null) {
            throw new IllegalStateException("this model runs over a shared KV cache: feed it ForwardBatches");
        }
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
        int[] logitsIndices = new int[allRows ? numTokens : 1];
        for (int i = 0; i < logitsIndices.length; i++) {
            logitsIndices[i] = allRows ? i : numTokens - 1;
        }
        int[] ids = tokens.length == numTokens ? tokens : Arrays.copyOf(tokens, numTokens);
        forward(new ForwardBatch(ids, new int[] {0, numTokens}, new int[] {startPosition}, new int[][] {ownBlockTable},
                logitsIndices), logitsOut);
    }

    /**
     * Runs one step over the sequences of {@code batch} and writes the logits rows it asks for:
     * {@code logitsOut} is (batch.numLogitsRows(), vocabSize), row i for token
     * {@code batch.logitsIndices()[i]}.
     *
     * @throws IllegalArgumentException for more than {@link #maxBatchTokens()} tokens, a token id
     *                                  outside the vocabulary, a block table that does not cover a
     *                                  sequence's positions or names a block outside the cache, or a
     *                                  too small logitsOut
     */
    @Override
    public void forward(ForwardBatch batch, float[] logitsOut) {
        checkBatch(batch, logitsOut);
        int n = batch.numTokens();
        int[] tokens = batch.tokenIds();
        int headDim = config.headDim();
        int numHeads = config.numHeads();
        int numKvHeads = config.numKvHeads();
        int blockSize = cache.blockSize();
        float attScale = (float) (1.0 / Math.sqrt(headDim));
        float eps = config.rmsNormEps();

        for (int s = 0; s < batch.numSeqs(); s++) {
            int[] blockTable = batch.blockTables()[s];
            for (int t = batch.seqStarts()[s], p = batch.startPositions()[s]; t < batch.seqStarts()[s + 1]; t++, p++) {
                positions[t] = p;
                tokenSeqs[t] = s;
                slots[t] = blockTable[p / blockSize] * blockSize + p % blockSize;
            }
        }
        for (int t = 0; t < n; t++) {
            weights.embedding(tokens[t], x, t * dim);
        }

        for (int l = 0; l < config.numLayers(); l++) {
            // attention
            ops.rmsNorm(xb, x, weights.attnNorm[l], n, dim, eps);
            ops.matmul(wqkv[l], xb, n, qkv);
            if (weights.bq != null) {
                addRowBias(q, weights.bq[l], n, qDim);
                addRowBias(k, weights.bk[l], n, kvDim);
                addRowBias(v, weights.bv[l], n, kvDim);
            }
            ops.rope(q, n, numHeads, headDim, positions, ropeFrequencies, ropeLayout);
            ops.rope(k, n, numKvHeads, headDim, positions, ropeFrequencies, ropeLayout);
            for (int t = 0; t < n; t++) {
                cache.write(l, slots[t], k, t * kvDim, v, t * kvDim);
            }
            ops.attention(att, q, n, positions, tokenSeqs, batch.blockTables(), cache, l, numHeads, headDim, attScale);
            ops.matmul(weights.wo[l], att, n, xb2);
            ops.add(x, xb2, n * dim);

            // feed-forward
            ops.rmsNorm(xb, x, weights.ffnNorm[l], n, dim, eps);
            ops.matmulSiluMul(weights.w1[l], weights.w3[l], xb, n, hb, hb2);
            ops.matmul(weights.w2[l], hb, n, xb2);
            ops.add(x, xb2, n * dim);
        }

        // the rows asked for, gathered in order into xb2 (x is dead after this)
        int[] logitsIndices = batch.logitsIndices();
        for (int i = 0; i < logitsIndices.length; i++) {
            System.arraycopy(x, logitsIndices[i] * dim, xb2, i * dim, dim);
        }
        ops.rmsNorm(xb, xb2, weights.outputNorm, logitsIndices.length, dim, eps);
        ops.matmul(weights.output, xb, logitsIndices.length, logitsOut);
    }

    private static void addRowBias(float[] out, float[] bias, int numTokens, int width) {
        for (int t = 0; t < numTokens; t++) {
            int base = t * width;
            for (int i = 0; i < width; i++) {
                out[base + i] += bias[i];
            }
        }
    }

    private void checkBatch(ForwardBatch batch, float[] logitsOut) {
        int numTokens = batch.numTokens();
        if (numTokens > maxBatchTokens) {
            throw new IllegalArgumentException(numTokens + " tokens in one call, the buffers hold " + maxBatchTokens
                    + "; feed them in chunks of at most " + maxBatchTokens);
        }
        if (batch.numLogitsRows() > maxBatchTokens) {
            throw new IllegalArgumentException(batch.numLogitsRows() + " logits rows, at most " + maxBatchTokens);
        }
        int[] tokens = batch.tokenIds();
        for (int t = 0; t < numTokens; t++) {
            if (tokens[t] < 0 || tokens[t] >= vocabSize) {
                throw new IllegalArgumentException("token id " + tokens[t] + " at index " + t
                        + " is out of range 0.." + (vocabSize - 1));
            }
        }
        int blockSize = cache.blockSize();
        for (int s = 0; s < batch.numSeqs(); s++) {
            int[] blockTable = batch.blockTables()[s];
            long lastPosition = (long) batch.startPositions()[s] + batch.seqStarts()[s + 1] - batch.seqStarts()[s] - 1;
            long numBlocksNeeded = lastPosition / blockSize + 1;
            if (blockTable.length < numBlocksNeeded) {
                throw new IllegalArgumentException("sequence " + s + " reaches position " + lastPosition + ", which needs "
                        + numBlocksNeeded + " blocks of " + blockSize + ", its block table has " + blockTable.length);
            }
            for (int b = 0; b < numBlocksNeeded; b++) {
                if (blockTable[b] < 0 || blockTable[b] >= cache.numBlocks()) {
                    throw new IllegalArgumentException("sequence " + s + " names block " + blockTable[b]
                            + ", the cache has blocks 0.." + (cache.numBlocks() - 1));
                }
            }
        }
        long needed = (long) batch.numLogitsRows() * vocabSize;
        if (logitsOut.length < needed) {
            throw new IllegalArgumentException("logitsOut has " + logitsOut.length + " floats, " + batch.numLogitsRows()
                    + " rows of vocabSize " + vocabSize + " need " + needed);
        }
    }
}
