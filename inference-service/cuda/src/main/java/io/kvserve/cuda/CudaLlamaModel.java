package io.kvserve.cuda;

import io.kvserve.common.model.ModelConfig;
import io.kvserve.common.model.RopeLayout;
import io.kvserve.engine.model.ForwardBatch;
import io.kvserve.engine.model.KvCacheDtype;
import io.kvserve.engine.model.LlamaWeights;
import io.kvserve.engine.model.ModelRunner;
import io.kvserve.engine.ops.RopeFrequencies;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUgraphExec;

import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.HashMap;
import java.util.Map;

/**
 * The Llama forward pass on a GPU: the same {@link ForwardBatch} in and logits out as the CPU's
 * {@code LlamaModel}, with the weights, the activations and the paged KV cache in device memory and
 * the math in our kernels (kvserve_kernels.h). Per layer, in data-flow order, all on one stream:
 * <pre>
 *   xb     = rms_norm(x, attnNorm)
 *   qkv    = [wq; wk; wv] xb (+ [bq; bk; bv])      one matmul over the row-stacked weights
 *   rope_store_kv: q rotated in place, k rotated and v written to the cache at each token's slot
 *   att    = paged_attention(q, cache) + reduce     split-K over the context (AttentionPlan)
 *   x     += wo att                                  the matmul accumulates: no separate add
 *   xb     = rms_norm(x, ffnNorm)
 *   gateUp = [w1; w3] xb;  hb = silu(gate) * up
 *   x     += w2 hb
 * </pre>
 * then {@code gather_rows} of the rows asked for, the final norm and the LM head, and one copy of
 * the logits to pinned host memory.
 *
 * <p><b>Memory.</b> Everything is allocated in the constructor for {@code maxBatchTokens} tokens:
 * no step allocates (the driver's allocator synchronizes the device). Matmuls of up to 16 tokens
 * use the matrix-vector kernels, which read each weight once per 8 tokens at memory bandwidth;
 * larger ones the tensor-core GEMM ({@link Launch#usesGemm}).
 *
 * <p><b>CUDA graphs.</b> A decode step (one new token per sequence, a logits row each) of n
 * sequences is padded to the smallest {@link GraphBuckets} size and replays a graph captured the
 * first time that size ran: ~10 launches per layer become one, which at batch 1 is most of a
 * small model's step time [1]. The graph's arguments never change: the batch's metadata is copied
 * into the same device buffers before each replay, and its attention plan is the one for the
 * longest context the block tables can hold.
 *
 * <p>[1] vLLM, vllm/worker/model_runner.py {@code CUDAGraphRunner}; llama.cpp ggml-cuda graphs.
 */
public final class CudaLlamaModel implements ModelRunner {

    /** Most rows of logits one LM head launch computes; more are done in chunks. */
    static final int MAX_LOGITS_ROWS = 256;
    /** Largest decode batch captured as a graph. */
    static final int MAX_GRAPH_BATCH = 256;

    private final CudaDevice device;
    private final DeviceMemory memory;
    private final CudaKernels kernels;
    private final ModelConfig config;
    private final int maxBatchTokens;
    private final int dim;
    private final int qDim;
    private final int kvDim;
    private final int hiddenDim;
    private final int vocabSize;
    private final int numHeads;
    private final int numKvHeads;
    private final int headDim;
    private final int blockSize;
    private final boolean f16Cache;
    private final boolean neox;
    private final float eps;
    private final int targetAttentionBlocks;

    // weights
    private final DeviceMatrix tokenEmbeddings;
    private final DeviceMatrix[] wqkv;      // (numLayers) x (qDim + 2 kvDim, dim)
    private final CUdeviceptr[] bqkv;       // (numLayers) x (qDim + 2 kvDim), null without biases
    private final DeviceMatrix[] wo;        // (numLayers) x (dim, qDim)
    private final DeviceMatrix[] w13;       // (numLayers) x (2 hiddenDim, dim): gate rows, then up rows
    private final DeviceMatrix[] w2;        // (numLayers) x (dim, hiddenDim)
    private final CUdeviceptr[] attnNorm;   // (numLayers) x (dim)
    private final CUdeviceptr[] ffnNorm;    // (numLayers) x (dim)
    private final CUdeviceptr outputNorm;   // (dim)
    private final DeviceMatrix output;      // (vocabSize, dim)
    private final CUdeviceptr invFreq;      // (headDim / 2)

    // KV cache
    private final CUdeviceptr[] keyCache;   // (numLayers) x (numBlocks, numKvHeads, blockSize, headDim)
    private final CUdeviceptr[] valueCache; // (numLayers) x (numBlocks, numKvHeads, blockSize, headDim)

    // activations, (maxBatchTokens, width) each
    private final CUdeviceptr x;             // (n, dim) the residual stream
    private final CUdeviceptr xb;            // (n, dim)
    private final CUdeviceptr xRows;         // (MAX_LOGITS_ROWS, dim) gathered rows for the LM head
    private final CUdeviceptr qkv;           // (n, qDim + 2 kvDim)
    private final CUdeviceptr att;           // (n, qDim)
    private final CUdeviceptr gateUp;        // (n, 2 hiddenDim)
    private final CUdeviceptr hb;            // (n, hiddenDim)
    private final CUdeviceptr xq;            // (n, max width) int8 activations of the int8 matmuls
    private final CUdeviceptr xd;            // (n, max width / 32) their scales
    private final CUdeviceptr partialAcc;    // (partials, headDim)
    private final CUdeviceptr partialMaxSum; // (partials, 2)
    private final CUdeviceptr logits;        // (MAX_LOGITS_ROWS, vocabSize)
    private final CUdeviceptr argmax;        // (MAX_LOGITS_ROWS) int: each row's argmax, for forwardArgmax

    // batch metadata: one int region on the device and its pinned host twin, copied in one go
    private final BatchLayout layout;
    private final CUdeviceptr meta;
    private final CudaDevice.Pinned metaHost;
    private final int metaInts;
    private final CUdeviceptr tokenIds;
    private final CUdeviceptr positions;
    private final CUdeviceptr slots;
    private final CUdeviceptr tokenSeqs;
    private final CUdeviceptr logitsIndices;
    private final CUdeviceptr blockTables;
    private final CudaDevice.Pinned logitsHost; // (MAX_LOGITS_ROWS, vocabSize)
    private final CudaDevice.Pinned argmaxHost; // (MAX_LOGITS_ROWS) int

    private final GraphBuckets buckets;
    private final Map<Integer, CUgraphExec> graphs = new HashMap<>();

    /**
     * Uploads {@code weights} and allocates the KV cache and the activations.
     *
     * @param numKvBlocks  KV blocks of {@code blockSize} tokens (all layers)
     * @param numSms       the device's multiprocessors (sizes the attention's split-K)
     * @throws IllegalArgumentException for a model the kernels cannot run (weight types, head sizes)
     */
    CudaLlamaModel(CudaDevice device, CudaKernels kernels, LlamaWeights weights, int numKvBlocks, int blockSize,
                   KvCacheDtype kvCacheDtype, int maxBatchTokens, int numSms) {
        this.device = device;
        this.memory = new DeviceMemory(device);
        this.kernels = kernels;
        this.config = weights.config();
        this.maxBatchTokens = maxBatchTokens;
        this.dim = config.dim();
        this.numHeads = config.numHeads();
        this.numKvHeads = config.numKvHeads();
        this.headDim = config.headDim();
        this.qDim = numHeads * headDim;
        this.kvDim = config.kvDim();
        this.hiddenDim = config.hiddenDim();
        this.vocabSize = config.vocabSize();
        this.blockSize = blockSize;
        this.f16Cache = kvCacheDtype == KvCacheDtype.F16;
        this.neox = config.ropeLayout() == RopeLayout.NEOX_HALVES;
        this.eps = config.rmsNormEps();
        this.targetAttentionBlocks = AttentionPlan.targetBlocks(numSms);
        if (headDim % 32 != 0 || headDim > 256) {
            throw new IllegalArgumentException("head size " + headDim + ": the CUDA attention kernels take multiples of 32 up to 256");
        }
        if (maxBatchTokens < 1) {
            throw new IllegalArgumentException("maxBatchTokens " + maxBatchTokens + " must be positive");
        }
        device.makeCurrent();
        int numLayers = config.numLayers();

        tokenEmbeddings = DeviceMatrix.upload(memory, PackedMatrix.of(weights.tokenEmbeddings));
        output = weights.output == weights.tokenEmbeddings ? tokenEmbeddings
                : DeviceMatrix.upload(memory, PackedMatrix.of(weights.output));
        wqkv = new DeviceMatrix[numLayers];
        bqkv = new CUdeviceptr[numLayers];
        wo = new DeviceMatrix[numLayers];
        w13 = new DeviceMatrix[numLayers];
        w2 = new DeviceMatrix[numLayers];
        attnNorm = new CUdeviceptr[numLayers];
        ffnNorm = new CUdeviceptr[numLayers];
        keyCache = new CUdeviceptr[numLayers];
        valueCache = new CUdeviceptr[numLayers];
        long cacheBytes = (long) numKvBlocks * blockSize * kvDim * kvCacheDtype.numBytes();
        for (int l = 0; l < numLayers; l++) {
            wqkv[l] = DeviceMatrix.upload(memory, PackedMatrix.of(weights.wq[l]), PackedMatrix.of(weights.wk[l]),
                    PackedMatrix.of(weights.wv[l]));
            if (weights.bq != null) {
                float[] bias = new float[qDim + 2 * kvDim];
                System.arraycopy(weights.bq[l], 0, bias, 0, qDim);
                System.arraycopy(weights.bk[l], 0, bias, qDim, kvDim);
                System.arraycopy(weights.bv[l], 0, bias, qDim + kvDim, kvDim);
                bqkv[l] = memory.upload(bias);
            }
            wo[l] = DeviceMatrix.upload(memory, PackedMatrix.of(weights.wo[l]));
            w13[l] = DeviceMatrix.upload(memory, PackedMatrix.of(weights.w1[l]), PackedMatrix.of(weights.w3[l]));
            w2[l] = DeviceMatrix.upload(memory, PackedMatrix.of(weights.w2[l]));
            attnNorm[l] = memory.upload(weights.attnNorm[l]);
            ffnNorm[l] = memory.upload(weights.ffnNorm[l]);
            keyCache[l] = memory.allocate(cacheBytes);
            valueCache[l] = memory.allocate(cacheBytes);
        }
        outputNorm = memory.upload(weights.outputNorm);
        RopeFrequencies frequencies = RopeFrequencies.of(headDim, config.ropeTheta(), config.ropeFrequencyDivisors());
        float[] inv = new float[headDim / 2];
        for (int i = 0; i < inv.length; i++) {
            inv[i] = frequencies.inverseFrequency(i);
        }
        invFreq = memory.upload(inv);

        int n = maxBatchTokens;
        int maxWidth = Math.max(Math.max(dim, qDim), hiddenDim);
        x = memory.allocate((long) n * dim * Float.BYTES);
        xb = memory.allocate((long) n * dim * Float.BYTES);
        xRows = memory.allocate((long) MAX_LOGITS_ROWS * dim * Float.BYTES);
        qkv = memory.allocate((long) n * (qDim + 2 * kvDim) * Float.BYTES);
        att = memory.allocate((long) n * qDim * Float.BYTES);
        gateUp = memory.allocate((long) n * 2 * hiddenDim * Float.BYTES);
        hb = memory.allocate((long) n * hiddenDim * Float.BYTES);
        xq = memory.allocate((long) n * maxWidth);
        xd = memory.allocate((long) n * (maxWidth / 32) * Float.BYTES);
        // AttentionPlan keeps numTokens * numKvHeads * numSplits <= target + numTokens * numKvHeads
        long partials = ((long) targetAttentionBlocks + (long) n * numKvHeads) * (numHeads / numKvHeads);
        partialAcc = memory.allocate(partials * headDim * Float.BYTES);
        partialMaxSum = memory.allocate(partials * 2 * Float.BYTES);
        logits = memory.allocate((long) MAX_LOGITS_ROWS * vocabSize * Float.BYTES);
        logitsHost = memory.allocatePinned((long) MAX_LOGITS_ROWS * vocabSize * Float.BYTES);
        argmax = memory.allocate((long) MAX_LOGITS_ROWS * Integer.BYTES);
        argmaxHost = memory.allocatePinned((long) MAX_LOGITS_ROWS * Integer.BYTES);

        int stride = Math.min(numKvBlocks, (config.contextLength() + blockSize - 1) / blockSize);
        layout = new BatchLayout(n, n, blockSize, stride, numKvBlocks);
        metaInts = 5 * n + n * stride;
        meta = memory.allocate((long) metaInts * Integer.BYTES);
        metaHost = memory.allocatePinned((long) metaInts * Integer.BYTES);
        tokenIds = meta;
        positions = meta.withByteOffset((long) n * Integer.BYTES);
        slots = meta.withByteOffset(2L * n * Integer.BYTES);
        tokenSeqs = meta.withByteOffset(3L * n * Integer.BYTES);
        logitsIndices = meta.withByteOffset(4L * n * Integer.BYTES);
        blockTables = meta.withByteOffset(5L * n * Integer.BYTES);
        buckets = new GraphBuckets(Math.min(n, MAX_GRAPH_BATCH));
    }

    @Override
    public ModelConfig config() {
        return config;
    }

    @Override
    public int maxBatchTokens() {
        return maxBatchTokens;
    }

    @Override
    public void forward(ForwardBatch batch, float[] logitsOut) {
        check(batch);
        long needed = (long) batch.numLogitsRows() * vocabSize;
        if (logitsOut.length < needed) {
            throw new IllegalArgumentException("logitsOut has " + logitsOut.length + " floats, " + batch.numLogitsRows()
                    + " rows of vocabSize " + vocabSize + " need " + needed);
        }
        run(batch, (firstRow, numRows) -> copyLogits(firstRow, numRows, logitsOut));
    }

    /**
     * As {@link #forward}, but the logits stay on the device: {@code tokensOut[i]} is the argmax of
     * logits row i (the first index on ties, as the CPU's sampler), for greedy decoding without
     * copying (rows, vocabSize) floats to the host (at batch 64 and a 128k vocabulary, 32 MB a step).
     */
    public void forwardArgmax(ForwardBatch batch, int[] tokensOut) {
        check(batch);
        if (tokensOut.length < batch.numLogitsRows()) {
            throw new IllegalArgumentException("tokensOut has " + tokensOut.length + " ints for " + batch.numLogitsRows() + " rows");
        }
        run(batch, (firstRow, numRows) -> copyArgmax(firstRow, numRows, tokensOut));
    }

    /** What a step does with each chunk of its logits rows once the LM head has queued them. */
    private interface RowsOut {
        void take(int firstRow, int numRows);
    }

    private void run(ForwardBatch batch, RowsOut rowsOut) {
        device.makeCurrent();
        int n = batch.numTokens();
        int bucket = isDecode(batch) ? buckets.bucketFor(n) : -1;
        int numTokens = bucket > 0 ? bucket : n;
        layout.fill(batch, numTokens);
        copyMetadata(numTokens);
        if (bucket > 0) {
            CUgraphExec graph = graphs.get(bucket);
            if (graph == null) {
                device.beginCapture();
                layers(bucket, AttentionPlan.of(layout.blockTableStride() * blockSize, bucket, numKvHeads, blockSize,
                        targetAttentionBlocks));
                lmHead(0, bucket);
                graph = device.endCapture();
                graphs.put(bucket, graph);
            }
            device.launch(graph);
            rowsOut.take(0, n);
            return;
        }
        layers(n, AttentionPlan.of(layout.maxContextLen(), n, numKvHeads, blockSize, targetAttentionBlocks));
        for (int row = 0; row < layout.numLogitsRows(); row += MAX_LOGITS_ROWS) {
            int rows = Math.min(MAX_LOGITS_ROWS, layout.numLogitsRows() - row);
            lmHead(row, rows);
            rowsOut.take(row, rows);
        }
    }

    /** One new token per sequence, each with its logits row, in order: a step a graph can replay. */
    private static boolean isDecode(ForwardBatch batch) {
        if (batch.numTokens() != batch.numSeqs() || batch.numLogitsRows() != batch.numTokens()) {
            return false;
        }
        for (int i = 0; i < batch.numLogitsRows(); i++) {
            if (batch.logitsIndices()[i] != i) {
                return false;
            }
        }
        return true;
    }

    private void copyMetadata(int numTokens) {
        // metaHost is the source of the previous step's queued copy. A step with logits rows waited
        // for the stream (copyLogits); one without (a step of only partial prefill chunks) returned
        // right after queueing, and its copy can still wait behind earlier kernels: writing the
        // buffer now would make that step run on this step's metadata (its KV never written).
        device.synchronize();
        IntBuffer ints = metaHost.buffer().asIntBuffer();
        int n = maxBatchTokens;
        ints.put(0, layout.tokenIds, 0, numTokens);
        ints.put(n, layout.positions, 0, numTokens);
        ints.put(2 * n, layout.slots, 0, numTokens);
        ints.put(3 * n, layout.tokenSeqs, 0, numTokens);
        ints.put(4 * n, layout.logitsIndices, 0, layout.numLogitsRowsPadded());
        ints.put(5 * n, layout.blockTables, 0, layout.numSeqs() * layout.blockTableStride());
        device.copyAsync(metaHost, meta, (long) metaInts * Integer.BYTES);
    }

    /** Queues the embedding and every layer for {@code numTokens} tokens. */
    private void layers(int numTokens, AttentionPlan plan) {
        int qkvStride = qDim + 2 * kvDim;
        float scale = (float) (1.0 / Math.sqrt(headDim));
        kernels.embed(x, tokenEmbeddings, tokenIds, numTokens);
        for (int l = 0; l < config.numLayers(); l++) {
            kernels.rmsNorm(xb, x, attnNorm[l], numTokens, dim, eps);
            kernels.matmul(qkv, wqkv[l], xb, bqkv[l], numTokens, false, xq, xd);
            kernels.ropeStoreKv(qkv, qkvStride, 0, qDim, qDim + kvDim, positions, slots, invFreq, numHeads, numKvHeads,
                    headDim, neox, f16Cache, keyCache[l], valueCache[l], blockSize, numTokens);
            kernels.attention(att, qkv, qkvStride, 0, f16Cache, keyCache[l], valueCache[l], blockTables,
                    layout.blockTableStride(), tokenSeqs, positions, numHeads, numKvHeads, headDim, blockSize, scale, plan,
                    partialAcc, partialMaxSum, numTokens);
            kernels.matmul(x, wo[l], att, null, numTokens, true, xq, xd);
            kernels.rmsNorm(xb, x, ffnNorm[l], numTokens, dim, eps);
            kernels.matmul(gateUp, w13[l], xb, null, numTokens, false, xq, xd);
            kernels.siluMul(hb, gateUp, hiddenDim, numTokens);
            kernels.matmul(x, w2[l], hb, null, numTokens, true, xq, xd);
        }
    }

    /** Queues the LM head for logits rows {@code firstRow..firstRow+numRows-1} of the batch. */
    private void lmHead(int firstRow, int numRows) {
        kernels.gatherRows(xRows, x, logitsIndices.withByteOffset((long) firstRow * Integer.BYTES), numRows, dim);
        kernels.rmsNorm(xRows, xRows, outputNorm, numRows, dim, eps);
        kernels.matmul(logits, output, xRows, null, numRows, false, xq, xd);
    }

    private void copyLogits(int firstRow, int numRows, float[] logitsOut) {
        long floats = (long) numRows * vocabSize;
        device.copyAsync(logits, logitsHost, floats * Float.BYTES);
        device.synchronize();
        FloatBuffer host = logitsHost.buffer().asFloatBuffer();
        host.get(0, logitsOut, firstRow * vocabSize, Math.toIntExact(floats));
    }

    private void copyArgmax(int firstRow, int numRows, int[] tokensOut) {
        kernels.argmaxRows(argmax, logits, numRows, vocabSize);
        device.copyAsync(argmax, argmaxHost, (long) numRows * Integer.BYTES);
        device.synchronize();
        argmaxHost.buffer().asIntBuffer().get(0, tokensOut, firstRow, numRows);
    }

    private void check(ForwardBatch batch) {
        if (batch.numTokens() > maxBatchTokens) {
            throw new IllegalArgumentException(batch.numTokens() + " tokens in one call, the buffers hold " + maxBatchTokens
                    + "; feed them in chunks of at most " + maxBatchTokens);
        }
        for (int t = 0; t < batch.numTokens(); t++) {
            int id = batch.tokenIds()[t];
            if (id < 0 || id >= vocabSize) {
                throw new IllegalArgumentException("token id " + id + " at index " + t + " is out of range 0.." + (vocabSize - 1));
            }
        }
    }

    @Override
    public void close() {
        device.makeCurrent();
        graphs.values().forEach(CudaDevice::destroy);
        graphs.clear();
        memory.close();
    }

    /** Device memory this runner holds (weights, KV cache, activations). */
    public long numDeviceBytes() {
        return memory.numDeviceBytes();
    }
}
