package io.kvserve.engine.ops;

import io.kvserve.common.gguf.GgmlType;
import io.kvserve.common.model.RopeLayout;
import io.kvserve.engine.model.KvCacheDtype;
import io.kvserve.engine.model.PagedKvCache;
import io.kvserve.engine.model.WeightMatrix;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Kernels on the Vector API ({@code jdk.incubator.vector}), matmul split by rows over a
 * {@link WorkerPool}.
 *
 * <h2>Matmul</h2>
 * Weights stay in their ggml blocks and are decoded in registers as they stream in (float
 * dequantize-on-the-fly: Q8_0/Q4_0 nibbles and bytes widen to float lanes, are scaled by the block
 * scale and meet the float activations in an FMA). Rows are split statically over the threads;
 * each thread, for each of its rows:
 * <pre>
 *   numTokens == 1 (decode):  acc += decode(w row r, chunk) * x[chunk]      one pass, no stores
 *                             (F16: row := decode(w row r), then dot; see below)
 *   numTokens  > 1 (prefill): row := decode(w row r)   (rowLength floats, per-thread scratch, L1/L2)
 *                             for tokens in tiles of 4: 4 accumulators over row and x[t..t+3]
 * </pre>
 * so every weight byte comes from memory once per call whatever numTokens is; the batched path
 * pays one decode per row for all tokens.
 *
 * <p>Q8_0/Q4_0 numerics therefore differ from llama.cpp's: llama.cpp quantizes the activations to
 * Q8_0 per 32-block and takes integer dot products ({@code ggml_vec_dot_q4_0_q8_0}), which adds an
 * activation rounding error of up to amax/254 per element; here activations stay float, closer to
 * the exact product. Greedy tokens may therefore differ from llama.cpp's where two logits are
 * within that error. The float path was chosen by measurement: JDK 25's Vector API has no int8
 * dot-product instruction (no VNNI {@code vpdpbusd}), so the integer path widens byte to short to
 * int and loses, 2048x2048, one thread, one token ({@code Q8ActivationBenchmark}):
 * Q8_0 305 us float vs 482 us int8; Q4_0 401 us vs 525 us.
 *
 * <p>F16 rows are decoded by a plain {@code Float.float16ToFloat} loop, which C2 compiles to
 * {@code vcvtph2ps}; the Vector API has no half-float lanes yet.
 *
 * <h2>Threading</h2>
 * One caller thread; the ops object owns its pool and scratch (no allocation per call once the
 * scratch has grown to the largest row). {@link #close()} stops the workers.
 *
 * <p>References: [1] ggml-common.h block layouts (see {@code GgmlQuants}); [2] llama3.java's
 * vectorised Q4_0/Q8_0 dot products, which decode in registers the same way; [3]
 * ggml-cpu/arch/x86/quants.c {@code ggml_vec_dot_q4_0_q8_0}, the integer path not taken.
 */
public final class VectorTensorOps implements TensorOps {

    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int L = F.length();
    /** Bytes with as many lanes as F. */
    static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(L * 8));
    /** Shorts with as many lanes as F. */
    static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(L * 16));
    static final VectorSpecies<Integer> I = F.withLanes(int.class);
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfFloat FLOAT_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);
    private static final int TOKEN_TILE = 4;
    private static final int ROW_TILE = 4;
    /**
     * Activation bytes a batched matmul keeps hot per token chunk: half of a 1 MiB L2, the rest for
     * the decoded row tile. Without chunks, every 4-row tile streamed all tokens' activations (3 MiB
     * for 512 tokens of a 1536-wide row) from L3 or memory.
     */
    private static final int X_CHUNK_BYTES = 512 * 1024;

    /** Tokens per chunk for rows of n floats: a multiple of TOKEN_TILE, at least one tile. */
    static int tokenChunk(int n) {
        return Math.max(TOKEN_TILE, X_CHUNK_BYTES / (n * Float.BYTES) / TOKEN_TILE * TOKEN_TILE);
    }

    /** A sequence with at least this many new tokens in an attention call has its K/V gathered first. */
    static final int GATHER_MIN_TOKENS = 4;

    static {
        if (L < 4 || L > 16) {
            throw new ExceptionInInitializerError("float vectors of " + L + " lanes: the block kernels need 4..16");
        }
    }

    private final WorkerPool pool;
    private final WorkerPool.RangeKernel matmulRows = this::matmulRows;
    private final WorkerPool.RangeKernel matmulManyRows = this::matmulManyRows;
    private final WorkerPool.RangeKernel matmulSiluRows = this::matmulSiluRows;
    private final WorkerPool.RangeKernel attentionItems = this::attentionItems;
    private final WorkerPool.RangeKernel gatherItems = this::gatherItems;
    private final float[][][] rowScratch; // (numThreads, ROW_TILE, >= rowLength): decoded weight rows per thread
    private float[] ropeCos = new float[0]; // (numTokens, headDim / 2): cos of each token's angles
    private float[] ropeSin = new float[0]; // (numTokens, headDim / 2)
    private int[] ropePositions = new int[0]; // (numTokens): the positions ropeCos/ropeSin hold
    private int ropeNumTokens = -1;
    private RopeFrequencies ropeFreqs;

    // the current matmul, published to workers by WorkerPool.parallelFor
    private WeightMatrix w;
    private float[] x; // (numTokens, rowLength)
    private int numTokens;
    private float[] out; // (numTokens, numRows)
    private WeightMatrix[] ws; // matmul of several matrices
    private float[][] outs; // (ws.length): (numTokens, ws[i].numRows())
    private WeightMatrix w3; // the up projection of matmulSiluMul
    private float[] up; // (numTokens, w3.numRows())

    // the current attention call, published the same way
    private float[][] attScores; // (numThreads, group * numPositions): one kv head's scores for its query heads
    private float[][] attValueBlock; // (numThreads, blockSize * headDim): a block's F16 value rows widened to float
    private float[][] attKeyBlock; // (numThreads, headDim * blockSize): a block's F16 keys of one kv head, widened
    // per sequence of the current call, for sequences with >= GATHER_MIN_TOKENS new tokens (else null):
    private float[][] seqKeysT = new float[0][];   // (numSeqs): (numKvHeads, headDim, paddedPositions) keys, transposed
    private float[][] seqValues = new float[0][];  // (numSeqs): (numKvHeads, paddedPositions, headDim) values
    private int[] seqNumNew = new int[0];          // (numSeqs): new tokens of the sequence in this call
    private int[] seqNumPositions = new int[0];    // (numSeqs): positions 0..last the call attends to
    private int[] seqPadded = new int[0];          // (numSeqs): seqNumPositions rounded up to L
    private boolean[] seqGathered = new boolean[0]; // (numSeqs): whether seqKeysT/seqValues hold this call's copy
    private int[] gatherSeqs = new int[0];         // the gathered sequences' indices
    private float[] attOut;
    private float[] attQ;
    private int[] attPositions;
    private int[] attTokenSeqs;
    private int[][] attBlockTables;
    private PagedKvCache attCache;
    private int attLayer;
    private int attNumHeads;
    private int attHeadDim;
    private float attScale;
    private int attNumTokens;

    /** Ops on {@link Runtime#availableProcessors()} threads. */
    public VectorTensorOps() {
        this(Runtime.getRuntime().availableProcessors());
    }

    /** Ops on {@code numThreads} threads, the caller's included. */
    public VectorTensorOps(int numThreads) {
        this.pool = new WorkerPool(numThreads);
        this.rowScratch = new float[numThreads][ROW_TILE][0];
        this.attScores = new float[numThreads][0];
        this.attValueBlock = new float[numThreads][0];
        this.attKeyBlock = new float[numThreads][0];
    }

    public int numThreads() {
        return pool.numThreads();
    }

    @Override
    public void close() {
        pool.close();
    }

    // ------------------------------------------------------------------ matmul

    @Override
    public void matmul(WeightMatrix w, float[] x, int numTokens, float[] out) {
        ScalarTensorOps.checkMatmul(w, x, numTokens, out);
        if (numTokens == 0) {
            return;
        }
        growRowScratch(w, numTokens);
        this.w = w;
        this.x = x;
        this.numTokens = numTokens;
        this.out = out;
        try {
            pool.parallelFor(numTiles(w), matmulRows);
        } finally {
            this.w = null;
            this.x = null;
            this.out = null;
        }
    }

    /**
     * The row tiles of all matrices laid end to end and split over the threads as one range, so
     * the threads meet at one barrier:
     * <pre>
     *   item  0 .. tiles0-1 | tiles0 .. tiles0+tiles1-1 | ...      tilesI = ceil(ws[i].numRows() / 4)
     *   rows  ws[0] 0..     | ws[1] 0..                 | ...
     * </pre>
     */
    @Override
    public void matmul(WeightMatrix[] ws, float[] x, int numTokens, float[][] outs) {
        int numItems = 0;
        for (int i = 0; i < ws.length; i++) {
            ScalarTensorOps.checkMatmul(ws[i], x, numTokens, outs[i]);
            growRowScratch(ws[i], numTokens);
            numItems += numTiles(ws[i]);
        }
        if (numTokens == 0) {
            return;
        }
        this.ws = ws;
        this.x = x;
        this.numTokens = numTokens;
        this.outs = outs;
        try {
            pool.parallelFor(numItems, matmulManyRows);
        } finally {
            this.ws = null;
            this.x = null;
            this.outs = null;
        }
    }

    /** Each thread computes its rows of w1 and of w3, then the SiLU product of those rows. */
    @Override
    public void matmulSiluMul(WeightMatrix w1, WeightMatrix w3, float[] x, int numTokens, float[] gate, float[] up) {
        ScalarTensorOps.checkMatmul(w1, x, numTokens, gate);
        ScalarTensorOps.checkMatmul(w3, x, numTokens, up);
        if (w1.numRows() != w3.numRows()) {
            throw new IllegalArgumentException("gate has " + w1.numRows() + " rows, up " + w3.numRows());
        }
        if (numTokens == 0) {
            return;
        }
        growRowScratch(w1, numTokens);
        growRowScratch(w3, numTokens);
        this.w = w1;
        this.w3 = w3;
        this.x = x;
        this.numTokens = numTokens;
        this.out = gate;
        this.up = up;
        try {
            pool.parallelFor(numTiles(w1), matmulSiluRows);
        } finally {
            this.w = null;
            this.w3 = null;
            this.x = null;
            this.out = null;
            this.up = null;
        }
    }

    private void growRowScratch(WeightMatrix w, int numTokens) {
        if (numTokens > 1 || w.type() == GgmlType.F16) {
            for (float[][] rows : rowScratch) {
                for (int k = 0; k < ROW_TILE; k++) {
                    if (rows[k].length < w.rowLength()) {
                        rows[k] = new float[w.rowLength()];
                    }
                }
            }
        }
    }

    /**
     * The threads split a matrix by tiles of {@link #ROW_TILE} rows, not by rows, so the kernel that
     * computes a row (the 4x4 register tile or the one-row remainder) does not depend on the thread
     * count, and neither do the result's bits.
     */
    private static int numTiles(WeightMatrix w) {
        return (w.numRows() + ROW_TILE - 1) / ROW_TILE;
    }

    private void matmulRows(int startTile, int endTile, int threadIndex) {
        matmulRows(w, x, numTokens, out, startTile * ROW_TILE, Math.min(endTile * ROW_TILE, w.numRows()), threadIndex);
    }

    /** Tiles of all matrices laid end to end: {@code ws[0]}'s, then {@code ws[1]}'s, ... */
    private void matmulManyRows(int startTile, int endTile, int threadIndex) {
        int first = 0;
        for (int i = 0; i < ws.length && startTile < endTile; i++) {
            int numTiles = numTiles(ws[i]);
            int from = Math.max(startTile, first);
            int to = Math.min(endTile, first + numTiles);
            if (from < to) {
                matmulRows(ws[i], x, numTokens, outs[i], (from - first) * ROW_TILE,
                        Math.min((to - first) * ROW_TILE, ws[i].numRows()), threadIndex);
            }
            first += numTiles;
        }
    }

    private void matmulSiluRows(int startTile, int endTile, int threadIndex) {
        int start = startTile * ROW_TILE;
        int end = Math.min(endTile * ROW_TILE, w.numRows());
        matmulRows(w, x, numTokens, out, start, end, threadIndex);
        matmulRows(w3, x, numTokens, up, start, end, threadIndex);
        int numRows = w.numRows();
        for (int t = 0; t < numTokens; t++) {
            siluMul(out, up, t * numRows + start, end - start);
        }
    }

    private void matmulRows(WeightMatrix w, float[] x, int numTokens, float[] out, int start, int end, int threadIndex) {
        MemorySegment data = w.data();
        long rowBytes = w.rowBytes();
        int n = w.rowLength();
        GgmlType type = w.type();
        if (numTokens == 1 && type != GgmlType.F16) {
            for (int r = start; r < end; r++) {
                out[r] = dotRow(type, data, r * rowBytes, x, n);
            }
            return;
        }
        float[][] rows = rowScratch[threadIndex]; // (ROW_TILE, >= n): decoded weight rows
        int numRows = w.numRows();
        int r = start;
        if (numTokens > 1) {
            // tokens in chunks whose activations stay in L2 while every row tile of this thread
            // passes over them; each chunk decodes the rows again (see X_CHUNK_BYTES)
            int chunk = tokenChunk(n);
            int numFullTiles = (end - start) / ROW_TILE;
            for (int t0 = 0; t0 < numTokens; t0 += chunk) {
                int t1 = Math.min(numTokens, t0 + chunk);
                for (int tile = 0; tile < numFullTiles; tile++) {
                    int rt = start + tile * ROW_TILE;
                    for (int k = 0; k < ROW_TILE; k++) {
                        decodeRow(type, data, (rt + k) * rowBytes, rows[k], n);
                    }
                    int t = t0;
                    for (; t + TOKEN_TILE <= t1; t += TOKEN_TILE) {
                        tile4x4(rows[0], rows[1], rows[2], rows[3], n, x, t * n, out, t * numRows + rt, numRows);
                    }
                    switch (t1 - t) {
                        case 3 -> tile4x3(rows[0], rows[1], rows[2], rows[3], n, x, t * n, out, t * numRows + rt, numRows);
                        case 2 -> tile4x2(rows[0], rows[1], rows[2], rows[3], n, x, t * n, out, t * numRows + rt, numRows);
                        case 1 -> tile4x1(rows[0], rows[1], rows[2], rows[3], n, x, t * n, out, t * numRows + rt);
                        default -> { }
                    }
                }
            }
            r = start + numFullTiles * ROW_TILE;
        }
        float[] row = rows[0];
        for (; r < end; r++) {
            decodeRow(type, data, r * rowBytes, row, n);
            int t = 0;
            for (; t + TOKEN_TILE <= numTokens; t += TOKEN_TILE) {
                dot4(row, x, t * n, n, out, t * numRows + r, numRows);
            }
            for (; t < numTokens; t++) {
                out[t * numRows + r] = dot(row, x, t * n, n);
            }
        }
    }

    /**
     * The register tile of the batched matmul: 4 decoded weight rows against 4 tokens, 16
     * accumulators, so each step loads 8 vectors for 16 FMAs (a 1-row x 4-token dot loads 5 for 4).
     * <pre>
     *   rows r0..r3 (n each)                 x (tokens, n) from xOffset
     *   out[outOffset + j * outStride + k] = r_k . x[t + j]    j, k in 0..3; outOffset = t * stride + r
     * </pre>
     */
    static void tile4x4(float[] r0, float[] r1, float[] r2, float[] r3, int n, float[] x, int xOffset, float[] out, int outOffset, int outStride) {
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00;
        FloatVector a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        int x1 = xOffset + n;
        int x2 = x1 + n;
        int x3 = x2 + n;
        int i = 0;
        for (; i + L <= n; i += L) {
            FloatVector w0 = FloatVector.fromArray(F, r0, i);
            FloatVector w1 = FloatVector.fromArray(F, r1, i);
            FloatVector w2 = FloatVector.fromArray(F, r2, i);
            FloatVector w3 = FloatVector.fromArray(F, r3, i);
            FloatVector v = FloatVector.fromArray(F, x, xOffset + i);
            a00 = w0.fma(v, a00);
            a10 = w1.fma(v, a10);
            a20 = w2.fma(v, a20);
            a30 = w3.fma(v, a30);
            v = FloatVector.fromArray(F, x, x1 + i);
            a01 = w0.fma(v, a01);
            a11 = w1.fma(v, a11);
            a21 = w2.fma(v, a21);
            a31 = w3.fma(v, a31);
            v = FloatVector.fromArray(F, x, x2 + i);
            a02 = w0.fma(v, a02);
            a12 = w1.fma(v, a12);
            a22 = w2.fma(v, a22);
            a32 = w3.fma(v, a32);
            v = FloatVector.fromArray(F, x, x3 + i);
            a03 = w0.fma(v, a03);
            a13 = w1.fma(v, a13);
            a23 = w2.fma(v, a23);
            a33 = w3.fma(v, a33);
        }
        int o1 = outOffset + outStride;
        int o2 = o1 + outStride;
        int o3 = o2 + outStride;
        store4(out, outOffset, a00, a10, a20, a30, r0, r1, r2, r3, x, xOffset, i, n);
        store4(out, o1, a01, a11, a21, a31, r0, r1, r2, r3, x, x1, i, n);
        store4(out, o2, a02, a12, a22, a32, r0, r1, r2, r3, x, x2, i, n);
        store4(out, o3, a03, a13, a23, a33, r0, r1, r2, r3, x, x3, i, n);
    }

    /** 4 rows against 3 tokens, summed as in {@link #tile4x4}. */
    static void tile4x3(float[] r0, float[] r1, float[] r2, float[] r3, int n, float[] x, int xOffset, float[] out,
                        int outOffset, int outStride) {
        FloatVector a00 = FloatVector.zero(F), a10 = a00, a20 = a00, a30 = a00;
        FloatVector a01 = a00, a11 = a00, a21 = a00, a31 = a00;
        FloatVector a02 = a00, a12 = a00, a22 = a00, a32 = a00;
        int x1 = xOffset + n;
        int x2 = x1 + n;
        int i = 0;
        for (; i + L <= n; i += L) {
            FloatVector w0 = FloatVector.fromArray(F, r0, i);
            FloatVector w1 = FloatVector.fromArray(F, r1, i);
            FloatVector w2 = FloatVector.fromArray(F, r2, i);
            FloatVector w3 = FloatVector.fromArray(F, r3, i);
            FloatVector v = FloatVector.fromArray(F, x, xOffset + i);
            a00 = w0.fma(v, a00);
            a10 = w1.fma(v, a10);
            a20 = w2.fma(v, a20);
            a30 = w3.fma(v, a30);
            v = FloatVector.fromArray(F, x, x1 + i);
            a01 = w0.fma(v, a01);
            a11 = w1.fma(v, a11);
            a21 = w2.fma(v, a21);
            a31 = w3.fma(v, a31);
            v = FloatVector.fromArray(F, x, x2 + i);
            a02 = w0.fma(v, a02);
            a12 = w1.fma(v, a12);
            a22 = w2.fma(v, a22);
            a32 = w3.fma(v, a32);
        }
        int o1 = outOffset + outStride;
        int o2 = o1 + outStride;
        store4(out, outOffset, a00, a10, a20, a30, r0, r1, r2, r3, x, xOffset, i, n);
        store4(out, o1, a01, a11, a21, a31, r0, r1, r2, r3, x, x1, i, n);
        store4(out, o2, a02, a12, a22, a32, r0, r1, r2, r3, x, x2, i, n);
    }

    /**
     * 4 rows against 2 tokens, the remainder of a token count that is not a multiple of 4; each
     * output is summed in the same order as in {@link #tile4x4}, so a token's results do not depend
     * on which tile it fell in.
     */
    static void tile4x2(float[] r0, float[] r1, float[] r2, float[] r3, int n, float[] x, int xOffset, float[] out,
                        int outOffset, int outStride) {
        FloatVector a00 = FloatVector.zero(F), a10 = a00, a20 = a00, a30 = a00;
        FloatVector a01 = a00, a11 = a00, a21 = a00, a31 = a00;
        int x1 = xOffset + n;
        int i = 0;
        for (; i + L <= n; i += L) {
            FloatVector w0 = FloatVector.fromArray(F, r0, i);
            FloatVector w1 = FloatVector.fromArray(F, r1, i);
            FloatVector w2 = FloatVector.fromArray(F, r2, i);
            FloatVector w3 = FloatVector.fromArray(F, r3, i);
            FloatVector v = FloatVector.fromArray(F, x, xOffset + i);
            a00 = w0.fma(v, a00);
            a10 = w1.fma(v, a10);
            a20 = w2.fma(v, a20);
            a30 = w3.fma(v, a30);
            v = FloatVector.fromArray(F, x, x1 + i);
            a01 = w0.fma(v, a01);
            a11 = w1.fma(v, a11);
            a21 = w2.fma(v, a21);
            a31 = w3.fma(v, a31);
        }
        int o1 = outOffset + outStride;
        store4(out, outOffset, a00, a10, a20, a30, r0, r1, r2, r3, x, xOffset, i, n);
        store4(out, o1, a01, a11, a21, a31, r0, r1, r2, r3, x, x1, i, n);
    }

    /** 4 rows against 1 token, summed as in {@link #tile4x4}. */
    static void tile4x1(float[] r0, float[] r1, float[] r2, float[] r3, int n, float[] x, int xOffset, float[] out,
                        int outOffset) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        int i = 0;
        for (; i + L <= n; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, xOffset + i);
            a0 = FloatVector.fromArray(F, r0, i).fma(v, a0);
            a1 = FloatVector.fromArray(F, r1, i).fma(v, a1);
            a2 = FloatVector.fromArray(F, r2, i).fma(v, a2);
            a3 = FloatVector.fromArray(F, r3, i).fma(v, a3);
        }
        store4(out, outOffset, a0, a1, a2, a3, r0, r1, r2, r3, x, xOffset, i, n);
    }

    /**
     * One token's results of a 4-row tile: {@code out[o + k] = } the lane sum of {@code ak} plus the
     * scalar rest of row k against the token's activations at xOffset.
     */
    private static void store4(float[] out, int o, FloatVector a0, FloatVector a1, FloatVector a2, FloatVector a3,
                               float[] r0, float[] r1, float[] r2, float[] r3, float[] x, int xOffset, int i, int n) {
        out[o] = tail(a0.reduceLanes(VectorOperators.ADD), r0, x, xOffset, i, n);
        out[o + 1] = tail(a1.reduceLanes(VectorOperators.ADD), r1, x, xOffset, i, n);
        out[o + 2] = tail(a2.reduceLanes(VectorOperators.ADD), r2, x, xOffset, i, n);
        out[o + 3] = tail(a3.reduceLanes(VectorOperators.ADD), r3, x, xOffset, i, n);
    }

    /**
     * Adds the scalar rest {@code i..n-1} of a dot product to the vector part's sum, in the order
     * {@link #dot4} adds it, so a row gives the same bits whichever kernel computes it (the thread
     * split decides that).
     */
    private static float tail(float sum, float[] a, float[] x, int xOffset, int i, int n) {
        for (; i < n; i++) {
            sum += a[i] * x[xOffset + i];
        }
        return sum;
    }

    /** One row against one token, decoding in registers; F16 goes through {@link #decodeRow} instead. */
    static float dotRow(GgmlType type, MemorySegment w, long offset, float[] x, int n) {
        return switch (type) {
            case F32 -> dotF32(w, offset, x, n);
            case BF16 -> dotBF16(w, offset, x, n);
            case Q8_0 -> dotQ8_0(w, offset, x, n);
            case Q4_0 -> dotQ4_0(w, offset, x, n);
            case Q4_K -> dotQ4_K(w, offset, x, n);
            case Q6_K -> dotQ6_K(w, offset, x, n);
            default -> throw new IllegalArgumentException("no kernel for " + type);
        };
    }

    static void decodeRow(GgmlType type, MemorySegment w, long offset, float[] row, int n) {
        switch (type) {
            case F32 -> decodeF32(w, offset, row, n);
            case F16 -> decodeF16(w, offset, row, n);
            case BF16 -> decodeBF16(w, offset, row, n);
            case Q8_0 -> decodeQ8_0(w, offset, row, n);
            case Q4_0 -> decodeQ4_0(w, offset, row, n);
            case Q4_K -> decodeQ4_K(w, offset, row, n);
            case Q6_K -> decodeQ6_K(w, offset, row, n);
            default -> throw new IllegalArgumentException("no kernel for " + type);
        }
    }

    // ---- plain floats over a decoded row

    static float dot(float[] a, float[] x, int xOffset, int n) {
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        int i = 0;
        for (; i + 2 * L <= n; i += 2 * L) {
            acc0 = FloatVector.fromArray(F, a, i).fma(FloatVector.fromArray(F, x, xOffset + i), acc0);
            acc1 = FloatVector.fromArray(F, a, i + L).fma(FloatVector.fromArray(F, x, xOffset + i + L), acc1);
        }
        for (; i + L <= n; i += L) {
            acc0 = FloatVector.fromArray(F, a, i).fma(FloatVector.fromArray(F, x, xOffset + i), acc0);
        }
        float sum = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            sum += a[i] * x[xOffset + i];
        }
        return sum;
    }

    /** Four tokens at once: x rows at xOffset + k * n, results at out[outOffset + k * outStride]. */
    static void dot4(float[] a, float[] x, int xOffset, int n, float[] out, int outOffset, int outStride) {
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        FloatVector acc2 = FloatVector.zero(F);
        FloatVector acc3 = FloatVector.zero(F);
        int x1 = xOffset + n;
        int x2 = x1 + n;
        int x3 = x2 + n;
        int i = 0;
        for (; i + L <= n; i += L) {
            FloatVector av = FloatVector.fromArray(F, a, i);
            acc0 = av.fma(FloatVector.fromArray(F, x, xOffset + i), acc0);
            acc1 = av.fma(FloatVector.fromArray(F, x, x1 + i), acc1);
            acc2 = av.fma(FloatVector.fromArray(F, x, x2 + i), acc2);
            acc3 = av.fma(FloatVector.fromArray(F, x, x3 + i), acc3);
        }
        float s0 = acc0.reduceLanes(VectorOperators.ADD);
        float s1 = acc1.reduceLanes(VectorOperators.ADD);
        float s2 = acc2.reduceLanes(VectorOperators.ADD);
        float s3 = acc3.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            s0 += a[i] * x[xOffset + i];
            s1 += a[i] * x[x1 + i];
            s2 += a[i] * x[x2 + i];
            s3 += a[i] * x[x3 + i];
        }
        out[outOffset] = s0;
        out[outOffset + outStride] = s1;
        out[outOffset + 2 * outStride] = s2;
        out[outOffset + 3 * outStride] = s3;
    }

    // ---- F32

    static float dotF32(MemorySegment w, long offset, float[] x, int n) {
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        int i = 0;
        for (; i + 2 * L <= n; i += 2 * L) {
            acc0 = FloatVector.fromMemorySegment(F, w, offset + 4L * i, LE).fma(FloatVector.fromArray(F, x, i), acc0);
            acc1 = FloatVector.fromMemorySegment(F, w, offset + 4L * (i + L), LE)
                    .fma(FloatVector.fromArray(F, x, i + L), acc1);
        }
        for (; i + L <= n; i += L) {
            acc0 = FloatVector.fromMemorySegment(F, w, offset + 4L * i, LE).fma(FloatVector.fromArray(F, x, i), acc0);
        }
        float sum = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            sum += w.get(FLOAT_LE, offset + 4L * i) * x[i];
        }
        return sum;
    }

    static void decodeF32(MemorySegment w, long offset, float[] row, int n) {
        MemorySegment.copy(w, FLOAT_LE, offset, row, 0, n);
    }

    // ---- F16: JDK 25's Vector API has no half-float lanes and widening the bits by hand costs ~8
    // lane ops; C2 auto-vectorizes this plain loop to vcvtph2ps instead (1.9x faster at decode, see
    // inference-service/engine/README.md), so F16 rows are always decoded to the row scratch and then dotted.

    static void decodeF16(MemorySegment w, long offset, float[] row, int n) {
        for (int i = 0; i < n; i++) {
            row[i] = Float.float16ToFloat(w.get(SHORT_LE, offset + 2L * i));
        }
    }

    // ---- BF16: the top half of a float

    private static FloatVector loadBF16(MemorySegment w, long byteOffset) {
        return ((IntVector) ShortVector.fromMemorySegment(S, w, byteOffset, LE).convertShape(VectorOperators.S2I, I, 0))
                .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    private static float bf16(MemorySegment w, long byteOffset) {
        return Float.intBitsToFloat((w.get(SHORT_LE, byteOffset) & 0xFFFF) << 16);
    }

    static float dotBF16(MemorySegment w, long offset, float[] x, int n) {
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        int i = 0;
        for (; i + 2 * L <= n; i += 2 * L) {
            acc0 = loadBF16(w, offset + 2L * i).fma(FloatVector.fromArray(F, x, i), acc0);
            acc1 = loadBF16(w, offset + 2L * (i + L)).fma(FloatVector.fromArray(F, x, i + L), acc1);
        }
        for (; i + L <= n; i += L) {
            acc0 = loadBF16(w, offset + 2L * i).fma(FloatVector.fromArray(F, x, i), acc0);
        }
        float sum = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            sum += bf16(w, offset + 2L * i) * x[i];
        }
        return sum;
    }

    static void decodeBF16(MemorySegment w, long offset, float[] row, int n) {
        int i = 0;
        for (; i + L <= n; i += L) {
            loadBF16(w, offset + 2L * i).intoArray(row, i);
        }
        for (; i < n; i++) {
            row[i] = bf16(w, offset + 2L * i);
        }
    }

    // ---- Q8_0: [d f16][32 x int8]

    private static FloatVector loadQ8(MemorySegment w, long byteOffset) {
        return (FloatVector) ByteVector.fromMemorySegment(B, w, byteOffset, LE).convertShape(VectorOperators.B2F, F, 0);
    }

    static float dotQ8_0(MemorySegment w, long offset, float[] x, int n) {
        FloatVector acc = FloatVector.zero(F);
        long block = offset;
        for (int i = 0; i < n; i += 32, block += 34) {
            float d = Float.float16ToFloat(w.get(SHORT_LE, block));
            FloatVector blockAcc = loadQ8(w, block + 2).mul(FloatVector.fromArray(F, x, i));
            for (int j = L; j < 32; j += L) {
                blockAcc = loadQ8(w, block + 2 + j).fma(FloatVector.fromArray(F, x, i + j), blockAcc);
            }
            acc = blockAcc.fma(FloatVector.broadcast(F, d), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    static void decodeQ8_0(MemorySegment w, long offset, float[] row, int n) {
        long block = offset;
        for (int i = 0; i < n; i += 32, block += 34) {
            float d = Float.float16ToFloat(w.get(SHORT_LE, block));
            for (int j = 0; j < 32; j += L) {
                loadQ8(w, block + 2 + j).mul(d).intoArray(row, i + j);
            }
        }
    }

    // ---- Q4_0: [d f16][16 bytes: element j in the low nibble of byte j, element j + 16 in the high]

    static float dotQ4_0(MemorySegment w, long offset, float[] x, int n) {
        FloatVector acc = FloatVector.zero(F);
        long block = offset;
        for (int i = 0; i < n; i += 32, block += 18) {
            float d = Float.float16ToFloat(w.get(SHORT_LE, block));
            FloatVector blockAcc = FloatVector.zero(F);
            for (int j = 0; j < 16; j += L) {
                ByteVector q = ByteVector.fromMemorySegment(B, w, block + 2 + j, LE);
                FloatVector lo = (FloatVector) q.and((byte) 0xF).sub((byte) 8).convertShape(VectorOperators.B2F, F, 0);
                FloatVector hi = (FloatVector) shiftRight(q, 4).and((byte) 0xF).sub((byte) 8)
                        .convertShape(VectorOperators.B2F, F, 0);
                blockAcc = lo.fma(FloatVector.fromArray(F, x, i + j), blockAcc);
                blockAcc = hi.fma(FloatVector.fromArray(F, x, i + 16 + j), blockAcc);
            }
            acc = blockAcc.fma(FloatVector.broadcast(F, d), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    static void decodeQ4_0(MemorySegment w, long offset, float[] row, int n) {
        long block = offset;
        for (int i = 0; i < n; i += 32, block += 18) {
            float d = Float.float16ToFloat(w.get(SHORT_LE, block));
            for (int j = 0; j < 16; j += L) {
                ByteVector q = ByteVector.fromMemorySegment(B, w, block + 2 + j, LE);
                ((FloatVector) q.and((byte) 0xF).sub((byte) 8).convertShape(VectorOperators.B2F, F, 0))
                        .mul(d).intoArray(row, i + j);
                ((FloatVector) shiftRight(q, 4).and((byte) 0xF).sub((byte) 8).convertShape(VectorOperators.B2F, F, 0))
                        .mul(d).intoArray(row, i + 16 + j);
            }
        }
    }

    // ---- Q4_K: [d f16][dmin f16][12 bytes of 6-bit scales and mins][128 bytes of nibbles]

    private static final ValueLayout.OfLong LONG_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfInt INT_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(LE);

    /**
     * Sub-block {@code j}'s 6-bit scale (bits 0..7) and min (bits 8..15) from the 12 scale bytes
     * q[0..11] held as {@code lo} = q[0..7] and {@code hi} = q[8..11] (get_scale_min_k4).
     */
    private static int scaleMinK4(long lo, int hi, int j) {
        if (j < 4) {
            int sc = (int) (lo >>> (8 * j)) & 63;
            int m = (int) (lo >>> (8 * (j + 4))) & 63;
            return sc | (m << 8);
        }
        int qj4 = (hi >>> (8 * (j - 4))) & 0xFF; // q[j + 4]
        int qjm4 = (int) (lo >>> (8 * (j - 4))) & 0xFF; // q[j - 4]
        int qj = (int) (lo >>> (8 * j)) & 0xFF; // q[j]
        int sc = (qj4 & 0xF) | ((qjm4 >>> 6) << 4);
        int m = (qj4 >>> 4) | ((qj >>> 6) << 4);
        return sc | (m << 8);
    }

    static float dotQ4_K(MemorySegment w, long offset, float[] x, int n) {
        FloatVector acc = FloatVector.zero(F);
        long block = offset;
        for (int i = 0; i < n; i += 256, block += 144) {
            float d = Float.float16ToFloat(w.get(SHORT_LE, block));
            float dmin = Float.float16ToFloat(w.get(SHORT_LE, block + 2));
            long scalesLo = w.get(LONG_LE, block + 4);
            int scalesHi = w.get(INT_LE, block + 12);
            long qs = block + 16;
            for (int group = 0; group < 4; group++) {
                int sm1 = scaleMinK4(scalesLo, scalesHi, 2 * group);
                int sm2 = scaleMinK4(scalesLo, scalesHi, 2 * group + 1);
                FloatVector d1 = FloatVector.broadcast(F, d * (sm1 & 0xFF));
                FloatVector m1 = FloatVector.broadcast(F, -dmin * (sm1 >>> 8));
                FloatVector d2 = FloatVector.broadcast(F, d * (sm2 & 0xFF));
                FloatVector m2 = FloatVector.broadcast(F, -dmin * (sm2 >>> 8));
                int e = i + 64 * group;
                for (int l = 0; l < 32; l += L) {
                    ByteVector q = ByteVector.fromMemorySegment(B, w, qs + 32L * group + l, LE);
                    FloatVector lo = (FloatVector) q.and((byte) 0xF).convertShape(VectorOperators.B2F, F, 0);
                    FloatVector hi = (FloatVector) shiftRight(q, 4).and((byte) 0xF).convertShape(VectorOperators.B2F, F, 0);
                    acc = lo.fma(d1, m1).fma(FloatVector.fromArray(F, x, e + l), acc);
                    acc = hi.fma(d2, m2).fma(FloatVector.fromArray(F, x, e + 32 + l), acc);
                }
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    static void decodeQ4_K(MemorySegment w, long offset, float[] row, int n) {
        long block = offset;
        for (int i = 0; i < n; i += 256, block += 144) {
            float d = Float.float16ToFloat(w.get(SHORT_LE, block));
            float dmin = Float.float16ToFloat(w.get(SHORT_LE, block + 2));
            long scalesLo = w.get(LONG_LE, block + 4);
            int scalesHi = w.get(INT_LE, block + 12);
            long qs = block + 16;
            for (int group = 0; group < 4; group++) {
                int sm1 = scaleMinK4(scalesLo, scalesHi, 2 * group);
                int sm2 = scaleMinK4(scalesLo, scalesHi, 2 * group + 1);
                FloatVector d1 = FloatVector.broadcast(F, d * (sm1 & 0xFF));
                FloatVector m1 = FloatVector.broadcast(F, -dmin * (sm1 >>> 8));
                FloatVector d2 = FloatVector.broadcast(F, d * (sm2 & 0xFF));
                FloatVector m2 = FloatVector.broadcast(F, -dmin * (sm2 >>> 8));
                int e = i + 64 * group;
                for (int l = 0; l < 32; l += L) {
                    ByteVector q = ByteVector.fromMemorySegment(B, w, qs + 32L * group + l, LE);
                    ((FloatVector) q.and((byte) 0xF).convertShape(VectorOperators.B2F, F, 0)).fma(d1, m1)
                            .intoArray(row, e + l);
                    ((FloatVector) shiftRight(q, 4).and((byte) 0xF).convertShape(VectorOperators.B2F, F, 0))
                            .fma(d2, m2).intoArray(row, e + 32 + l);
                }
            }
        }
    }

    // ---- Q6_K: [ql 128 B][qh 64 B][16 x int8 scales][d f16]; see GgmlQuants for the bit layout

    static float dotQ6_K(MemorySegment w, long offset, float[] x, int n) {
        FloatVector acc = FloatVector.zero(F);
        long block = offset;
        for (int i = 0; i < n; i += 256, block += 210) {
            float d = Float.float16ToFloat(w.get(SHORT_LE, block + 208));
            for (int half = 0; half < 2; half++) {
                long scales = w.get(LONG_LE, block + 192 + 8L * half); // 8 int8 sub-block scales
                for (int k = 0; k < 4; k++) {
                    long ql = block + 64L * half + 32L * (k & 1);
                    long qh = block + 128 + 32L * half;
                    int e = i + 128 * half + 32 * k;
                    for (int l = 0; l < 32; l += L) {
                        float scale = d * (byte) (scales >>> (8 * (l / 16 + 2 * k)));
                        acc = q6(w, ql + l, qh + l, k).mul(scale).fma(FloatVector.fromArray(F, x, e + l), acc);
                    }
                }
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /**
     * Level k (0..3) of a Q6_K half for L consecutive l, as floats q - 32: the low nibble
     * (k = 0, 1) or high nibble (k = 2, 3) of ql[l + 32 (k & 1)], and bits 2k..2k+1 of qh[l] on top.
     */
    private static FloatVector q6(MemorySegment w, long ql, long qh, int k) {
        ByteVector lo = shiftRight(ByteVector.fromMemorySegment(B, w, ql, LE), 4 * (k >> 1)).and((byte) 0xF);
        ByteVector hi = shiftLeft(shiftRight(ByteVector.fromMemorySegment(B, w, qh, LE), 2 * k).and((byte) 3), 4);
        return (FloatVector) lo.or(hi).sub((byte) 32).convertShape(VectorOperators.B2F, F, 0);
    }

    static void decodeQ6_K(MemorySegment w, long offset, float[] row, int n) {
        long block = offset;
        for (int i = 0; i < n; i += 256, block += 210) {
            float d = Float.float16ToFloat(w.get(SHORT_LE, block + 208));
            for (int half = 0; half < 2; half++) {
                long scales = w.get(LONG_LE, block + 192 + 8L * half); // 8 int8 sub-block scales
                for (int k = 0; k < 4; k++) {
                    long ql = block + 64L * half + 32L * (k & 1);
                    long qh = block + 128 + 32L * half;
                    int e = i + 128 * half + 32 * k;
                    for (int l = 0; l < 32; l += L) {
                        float scale = d * (byte) (scales >>> (8 * (l / 16 + 2 * k)));
                        q6(w, ql + l, qh + l, k).mul(scale).intoArray(row, e + l);
                    }
                }
            }
        }
    }

    /**
     * Bytes shifted within 32-bit lanes: x86 has no byte shift, and an int shift is the same for
     * the bits a caller keeps with its mask (those that stay inside their byte).
     */
    private static ByteVector shiftRight(ByteVector v, int n) {
        return v.reinterpretAsInts().lanewise(VectorOperators.LSHR, n).reinterpretAsBytes();
    }

    private static ByteVector shiftLeft(ByteVector v, int n) {
        return v.reinterpretAsInts().lanewise(VectorOperators.LSHL, n).reinterpretAsBytes();
    }

    // ------------------------------------------------------------------ attention

    /**
     * Paged attention, split over (token, kv head) items: an item computes the G = numHeads /
     * numKvHeads query heads that share one kv head, so each key and value is read once for all G of
     * them (GQA). Per item, two passes over the sequence's positions:
     * <pre>
     *   pass 1: scores[g][j] = scale * q[t, kvh*G + g] . K[slot(j), kvh]    (G, numPositions rounded up to L)
     *           softmax of each row g
     *   pass 2: out[t, kvh*G + g] = sum_j scores[g][j] * V[slot(j), kvh]
     * </pre>
     * Keys are stored transposed inside a block ({@link PagedKvCache}), so pass 1 builds the scores of
     * L positions from headDim broadcast FMAs, with no sum across lanes per position; pass 2 sums
     * values in registers ({@link #weightedValues}). Two paths:
     * <ul>
     *   <li>a sequence with {@link #GATHER_MIN_TOKENS} or more new tokens (a prefill chunk) first
     *       copies its keys and values, widened to float, into contiguous buffers, once for all its
     *       tokens ({@link #gatherItems}, then {@link #attendGathered});</li>
     *   <li>other tokens (decodes) read the blocks in place, F16 blocks widened into a per-thread
     *       scratch block once for the G query heads.</li>
     * </ul>
     * Items are taken in {@link #zigzag} token order so that a static split gives the threads equal
     * causal work.
     */
    @Override
    public void attention(float[] out, float[] q, int numTokens, int[] positions, int[] tokenSeqs, int[][] blockTables,
                          PagedKvCache cache, int layer, int numHeads, int headDim, float scale) {
        int numKvHeads = cache.kvDim() / headDim;
        int group = numHeads / numKvHeads;
        int maxPositions = 0;
        int numSeqs = 0;
        for (int t = 0; t < numTokens; t++) {
            maxPositions = Math.max(maxPositions, positions[t] + 1);
            numSeqs = Math.max(numSeqs, tokenSeqs[t] + 1);
        }
        int scoresLength = group * roundUp(maxPositions, L);
        for (int i = 0; i < attScores.length; i++) {
            if (attScores[i].length < scoresLength) {
                attScores[i] = new float[Math.max(scoresLength, 2 * attScores[i].length)];
            }
            if (attValueBlock[i].length < cache.blockSize() * headDim) {
                attValueBlock[i] = new float[cache.blockSize() * headDim];
                attKeyBlock[i] = new float[cache.blockSize() * headDim];
            }
        }
        int numGathered = planGather(numTokens, positions, tokenSeqs, numSeqs, cache.kvDim());
        attOut = out;
        attQ = q;
        attPositions = positions;
        attTokenSeqs = tokenSeqs;
        attBlockTables = blockTables;
        attCache = cache;
        attLayer = layer;
        attNumHeads = numHeads;
        attHeadDim = headDim;
        attScale = scale;
        attNumTokens = numTokens;
        try {
            if (numGathered > 0) {
                pool.parallelFor(numGathered * numKvHeads, gatherItems);
            }
            pool.parallelFor(numTokens * numKvHeads, attentionItems);
        } finally {
            attOut = null;
            attQ = null;
            attPositions = null;
            attTokenSeqs = null;
            attBlockTables = null;
            attCache = null;
        }
    }

    /**
     * Decides which sequences get their K/V gathered: those with at least
     * {@link #GATHER_MIN_TOKENS} new tokens (prefill chunks), whose keys every new token reads
     * again. Sizes their buffers; returns how many.
     */
    private int planGather(int numTokens, int[] positions, int[] tokenSeqs, int numSeqs, int kvDim) {
        if (seqNumNew.length < numSeqs) {
            seqKeysT = Arrays.copyOf(seqKeysT, numSeqs);
            seqValues = Arrays.copyOf(seqValues, numSeqs);
            seqNumNew = new int[numSeqs];
            seqNumPositions = new int[numSeqs];
            seqPadded = new int[numSeqs];
            seqGathered = new boolean[numSeqs];
            gatherSeqs = new int[numSeqs];
        }
        Arrays.fill(seqNumNew, 0, numSeqs, 0);
        Arrays.fill(seqNumPositions, 0, numSeqs, 0);
        for (int t = 0; t < numTokens; t++) {
            int seq = tokenSeqs[t];
            seqNumNew[seq]++;
            seqNumPositions[seq] = Math.max(seqNumPositions[seq], positions[t] + 1);
        }
        int numGathered = 0;
        for (int seq = 0; seq < numSeqs; seq++) {
            seqGathered[seq] = seqNumNew[seq] >= GATHER_MIN_TOKENS;
            if (seqGathered[seq]) {
                int padded = roundUp(seqNumPositions[seq], L);
                seqPadded[seq] = padded;
                int length = padded * kvDim;
                if (seqKeysT[seq] == null || seqKeysT[seq].length < length) {
                    seqKeysT[seq] = new float[length];
                    seqValues[seq] = new float[length];
                }
                gatherSeqs[numGathered++] = seq;
            }
        }
        return numGathered;
    }

    /**
     * Item (gathered sequence, kv head): copies the head's keys transposed and its values, widened
     * to float, out of the sequence's blocks:
     * <pre>
     *   keysT[(kvHead * headDim + i) * padded + p] = K[slot(p), kvHead, i]     p in 0..numPositions-1
     *   values[(kvHead * padded + p) * headDim + i] = V[slot(p), kvHead, i]
     * </pre>
     * Transposed keys let the scores of L positions come from headDim broadcast FMAs, with no
     * horizontal sum per position.
     */
    private void gatherItems(int start, int end, int threadIndex) {
        PagedKvCache cache = attCache;
        int headDim = attHeadDim;
        int kvDim = cache.kvDim();
        int numKvHeads = kvDim / headDim;
        int blockSize = cache.blockSize();
        boolean f32 = cache.dtype() == KvCacheDtype.F32;
        float[] keys = f32 ? cache.keysF32(attLayer) : null;
        float[] values = f32 ? cache.valuesF32(attLayer) : null;
        short[] keys16 = f32 ? null : cache.keysF16(attLayer);
        short[] values16 = f32 ? null : cache.valuesF16(attLayer);
        for (int item = start; item < end; item++) {
            int seq = gatherSeqs[item / numKvHeads];
            int kvHead = item % numKvHeads;
            int[] blockTable = attBlockTables[seq];
            int numPositions = seqNumPositions[seq];
            int padded = seqPadded[seq];
            float[] keysT = seqKeysT[seq];
            float[] vals = seqValues[seq];
            int kBase = kvHead * headDim * padded;
            for (int j0 = 0, b = 0; j0 < numPositions; j0 += blockSize, b++) {
                int block = blockTable[b];
                int numInBlock = Math.min(blockSize, numPositions - j0);
                // keys: each element's run of the block's positions is already contiguous
                int keyRun = (block * kvDim + kvHead * headDim) * blockSize;
                for (int i = 0; i < headDim; i++) {
                    if (f32) {
                        System.arraycopy(keys, keyRun + i * blockSize, keysT, kBase + i * padded + j0, numInBlock);
                    } else {
                        widen(keys16, keyRun + i * blockSize, keysT, kBase + i * padded + j0, numInBlock);
                    }
                }
                for (int o = 0; o < numInBlock; o++) {
                    int src = (block * blockSize + o) * kvDim + kvHead * headDim;
                    int vDst = (kvHead * padded + j0 + o) * headDim;
                    if (f32) {
                        System.arraycopy(values, src, vals, vDst, headDim);
                    } else {
                        widen(values16, src, vals, vDst, headDim);
                    }
                }
            }
        }
    }

    /** One (token, kv head) item over its sequence's gathered K/V; see {@link #gatherItems}. */
    private void attendGathered(int t, int kvHead, int group, int headDim, float[] scores) {
        int seq = attTokenSeqs[t];
        float[] keysT = seqKeysT[seq];
        float[] vals = seqValues[seq];
        int padded = seqPadded[seq];
        int numPositions = attPositions[t] + 1;
        int stride = roundUp(numPositions, L);
        float[] q = attQ;
        float[] out = attOut;
        int qBase = (t * attNumHeads + kvHead * group) * headDim;
        int kBase = kvHead * headDim * padded;
        int vBase = kvHead * padded * headDim;
        for (int g = 0; g < group; g++) {
            int qOffset = qBase + g * headDim;
            int sOffset = g * stride;
            // scores of 4 x L positions at a time: 4 independent FMA chains (one chain would wait on
            // the FMA latency at every step)
            int p0 = 0;
            for (; p0 + 3 * L < numPositions; p0 += 4 * L) {
                FloatVector a0 = FloatVector.zero(F);
                FloatVector a1 = a0;
                FloatVector a2 = a0;
                FloatVector a3 = a0;
                for (int i = 0, k = kBase + p0; i < headDim; i++, k += padded) {
                    FloatVector qi = FloatVector.broadcast(F, q[qOffset + i]);
                    a0 = FloatVector.fromArray(F, keysT, k).fma(qi, a0);
                    a1 = FloatVector.fromArray(F, keysT, k + L).fma(qi, a1);
                    a2 = FloatVector.fromArray(F, keysT, k + 2 * L).fma(qi, a2);
                    a3 = FloatVector.fromArray(F, keysT, k + 3 * L).fma(qi, a3);
                }
                a0.mul(attScale).intoArray(scores, sOffset + p0);
                a1.mul(attScale).intoArray(scores, sOffset + p0 + L);
                a2.mul(attScale).intoArray(scores, sOffset + p0 + 2 * L);
                a3.mul(attScale).intoArray(scores, sOffset + p0 + 3 * L);
            }
            for (; p0 < numPositions; p0 += L) {
                FloatVector acc = FloatVector.zero(F);
                for (int i = 0, k = kBase + p0; i < headDim; i++, k += padded) {
                    acc = FloatVector.fromArray(F, keysT, k).fma(FloatVector.broadcast(F, q[qOffset + i]), acc);
                }
                acc.mul(attScale).intoArray(scores, sOffset + p0);
            }
            softmax(scores, sOffset, numPositions);
            weightedValues(scores, sOffset, numPositions, vals, vBase, headDim, headDim, out, qOffset, false);
        }
    }

    /**
     * {@code out[i] (+)= sum_p w[p] * values[vBase + p * stride + i]} for i in 0..headDim-1: the output
     * row held in registers 2L elements at a time, two positions per step (4 independent FMA chains),
     * read from and written to memory once. {@code accumulate} adds to out instead of overwriting it.
     */
    private static void weightedValues(float[] w, int wOffset, int numPositions, float[] values, int vBase, int stride,
                                       int headDim, float[] out, int outOffset, boolean accumulate) {
        int i0 = 0;
        for (; i0 + 2 * L <= headDim; i0 += 2 * L) {
            FloatVector a0 = accumulate ? FloatVector.fromArray(F, out, outOffset + i0) : FloatVector.zero(F);
            FloatVector a1 = accumulate ? FloatVector.fromArray(F, out, outOffset + i0 + L) : FloatVector.zero(F);
            FloatVector b0 = FloatVector.zero(F);
            FloatVector b1 = b0;
            int p = 0;
            int v = vBase + i0;
            for (; p + 1 < numPositions; p += 2, v += 2 * stride) {
                FloatVector w0 = FloatVector.broadcast(F, w[wOffset + p]);
                FloatVector w1 = FloatVector.broadcast(F, w[wOffset + p + 1]);
                a0 = FloatVector.fromArray(F, values, v).fma(w0, a0);
                a1 = FloatVector.fromArray(F, values, v + L).fma(w0, a1);
                b0 = FloatVector.fromArray(F, values, v + stride).fma(w1, b0);
                b1 = FloatVector.fromArray(F, values, v + stride + L).fma(w1, b1);
            }
            if (p < numPositions) {
                FloatVector w0 = FloatVector.broadcast(F, w[wOffset + p]);
                a0 = FloatVector.fromArray(F, values, v).fma(w0, a0);
                a1 = FloatVector.fromArray(F, values, v + L).fma(w0, a1);
            }
            a0.add(b0).intoArray(out, outOffset + i0);
            a1.add(b1).intoArray(out, outOffset + i0 + L);
        }
        for (int i = i0; i < headDim; i++) {
            float acc = accumulate ? out[outOffset + i] : 0;
            for (int p = 0, v = vBase + i; p < numPositions; p++, v += stride) {
                acc += w[wOffset + p] * values[v];
            }
            out[outOffset + i] = acc;
        }
    }

    /**
     * Scores of one query row against one block's keys of one kv head, laid out (headDim,
     * blockSize) from kBase: {@code scores[sOffset + o] = scale * sum_i q[qOffset + i] * k[kBase + i
     * * blockSize + o]} for o in 0..numInBlock-1. With blockSize a multiple of L, L positions per
     * vector, the headDim terms split over 4 accumulators (4 FMA chains); the vector may compute
     * positions past numInBlock (stale slots of the block), whose scores land in the padding of the
     * caller's row and are never read.
     */
    private static void blockScores(float[] q, int qOffset, float[] k, int kBase, int blockSize, int numInBlock,
                                    int headDim, float scale, float[] scores, int sOffset) {
        if (blockSize % L == 0) {
            for (int o0 = 0; o0 < numInBlock; o0 += L) {
                FloatVector a0 = FloatVector.zero(F);
                FloatVector a1 = a0;
                FloatVector a2 = a0;
                FloatVector a3 = a0;
                int i = 0;
                for (int r = kBase + o0; i + 4 <= headDim; i += 4, r += 4 * blockSize) {
                    a0 = FloatVector.fromArray(F, k, r).fma(FloatVector.broadcast(F, q[qOffset + i]), a0);
                    a1 = FloatVector.fromArray(F, k, r + blockSize).fma(FloatVector.broadcast(F, q[qOffset + i + 1]), a1);
                    a2 = FloatVector.fromArray(F, k, r + 2 * blockSize).fma(FloatVector.broadcast(F, q[qOffset + i + 2]), a2);
                    a3 = FloatVector.fromArray(F, k, r + 3 * blockSize).fma(FloatVector.broadcast(F, q[qOffset + i + 3]), a3);
                }
                for (int r = kBase + o0 + i * blockSize; i < headDim; i++, r += blockSize) {
                    a0 = FloatVector.fromArray(F, k, r).fma(FloatVector.broadcast(F, q[qOffset + i]), a0);
                }
                a0.add(a1).add(a2.add(a3)).mul(scale).intoArray(scores, sOffset + o0);
            }
            return;
        }
        for (int o = 0; o < numInBlock; o++) {
            float dot = 0;
            for (int i = 0, r = kBase + o; i < headDim; i++, r += blockSize) {
                dot += q[qOffset + i] * k[r];
            }
            scores[sOffset + o] = dot * scale;
        }
    }

    /**
     * The token of the k-th item rank: 0, n-1, 1, n-2, 2, ... A prefill chunk's token t attends to
     * t + 1 positions, so in token order the last thread's share would cost ~3x the first's (2
     * threads); in this order every contiguous share pairs cheap and dear tokens.
     */
    static int zigzag(int k, int n) {
        return (k & 1) == 0 ? k >> 1 : n - 1 - (k >> 1);
    }

    private static int roundUp(int n, int multiple) {
        return (n + multiple - 1) / multiple * multiple;
    }

    private void attentionItems(int start, int end, int threadIndex) {
        PagedKvCache cache = attCache;
        int headDim = attHeadDim;
        int numHeads = attNumHeads;
        int kvDim = cache.kvDim();
        int numKvHeads = kvDim / headDim;
        int group = numHeads / numKvHeads;
        int blockSize = cache.blockSize();
        boolean f32 = cache.dtype() == KvCacheDtype.F32;
        float[] keys = f32 ? cache.keysF32(attLayer) : null;
        float[] values = f32 ? cache.valuesF32(attLayer) : null;
        short[] keys16 = f32 ? null : cache.keysF16(attLayer);
        short[] values16 = f32 ? null : cache.valuesF16(attLayer);
        float[] scores = attScores[threadIndex];
        float[] valueBlock = attValueBlock[threadIndex];
        float[] keyBlock = attKeyBlock[threadIndex];
        float[] q = attQ;
        float[] out = attOut;
        int numTokens = attNumTokens;
        for (int item = start; item < end; item++) {
            int t = zigzag(item / numKvHeads, numTokens);
            int kvHead = item % numKvHeads;
            if (seqGathered[attTokenSeqs[t]]) {
                attendGathered(t, kvHead, group, headDim, scores);
                continue;
            }
            int[] blockTable = attBlockTables[attTokenSeqs[t]];
            int numPositions = attPositions[t] + 1;
            int qBase = (t * numHeads + kvHead * group) * headDim; // the group's query heads are contiguous
            int kvHeadOffset = kvHead * headDim;

            // keys block by block: this kv head's part of a block is (headDim, blockSize), contiguous
            // (F16 widened once into a scratch block for all query heads of the group); the scores
            // of L positions of the block come from headDim broadcast FMAs in 4 independent chains
            int stride = roundUp(numPositions, L); // scores of query head g at g * stride
            for (int j0 = 0, b = 0; j0 < numPositions; j0 += blockSize, b++) {
                int numInBlock = Math.min(blockSize, numPositions - j0);
                float[] k = keys;
                int kBase = (blockTable[b] * kvDim + kvHeadOffset) * blockSize;
                if (!f32) {
                    widen(keys16, kBase, keyBlock, 0, headDim * blockSize);
                    k = keyBlock;
                    kBase = 0;
                }
                for (int g = 0; g < group; g++) {
                    blockScores(q, qBase + g * headDim, k, kBase, blockSize, numInBlock, headDim, attScale, scores,
                            g * stride + j0);
                }
            }
            for (int g = 0; g < group; g++) {
                softmax(scores, g * stride, numPositions);
            }

            // values block by block: the block's rows (F16 widened once into a scratch block) summed
            // in registers for each query head, out touched once per block
            Arrays.fill(out, qBase, qBase + group * headDim, 0f);
            for (int j0 = 0, b = 0; j0 < numPositions; j0 += blockSize, b++) {
                int slotBase = blockTable[b] * blockSize;
                int numInBlock = Math.min(blockSize, numPositions - j0);
                float[] v = values;
                int vBase = slotBase * kvDim + kvHeadOffset;
                int vStride = kvDim;
                if (!f32) {
                    for (int o = 0; o < numInBlock; o++) {
                        widen(values16, (slotBase + o) * kvDim + kvHeadOffset, valueBlock, o * headDim, headDim);
                    }
                    v = valueBlock;
                    vBase = 0;
                    vStride = headDim;
                }
                for (int g = 0; g < group; g++) {
                    weightedValues(scores, g * stride + j0, numInBlock, v, vBase, vStride, headDim, out,
                            qBase + g * headDim, true);
                }
            }
        }
    }

    private static void widen(short[] half, int offset, float[] dst, int dstOffset, int n) {
        for (int i = 0; i < n; i++) {
            dst[dstOffset + i] = Float.float16ToFloat(half[offset + i]);
        }
    }

    // ------------------------------------------------------------------ element-wise kernels

    @Override
    public void rmsNorm(float[] out, float[] x, float[] weight, int numTokens, int dim, float eps) {
        for (int t = 0; t < numTokens; t++) {
            int base = t * dim;
            float ss = dot(x, x, base, base, dim);
            float scale = (float) (1.0 / Math.sqrt(ss / dim + eps));
            int i = 0;
            for (; i + L <= dim; i += L) {
                FloatVector.fromArray(F, x, base + i).mul(scale).mul(FloatVector.fromArray(F, weight, i))
                        .intoArray(out, base + i);
            }
            for (; i < dim; i++) {
                out[base + i] = x[base + i] * scale * weight[i];
            }
        }
    }

    private static float dot(float[] a, float[] b, int aOffset, int bOffset, int n) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (; i + L <= n; i += L) {
            acc = FloatVector.fromArray(F, a, aOffset + i).fma(FloatVector.fromArray(F, b, bOffset + i), acc);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            sum += a[aOffset + i] * b[bOffset + i];
        }
        return sum;
    }

    /**
     * Angles in double for each token (shared by its heads), then a scalar rotation: RoPE is
     * O(numTokens * numHeads * headDim), noise next to the matmuls. The cos/sin table is kept for the
     * next call when the positions repeat: a forward pass rotates q and k of every layer at the same
     * positions (2 * numLayers calls), so the angles are computed once per pass.
     */
    @Override
    public void rope(float[] x, int numTokens, int numHeads, int headDim, int[] positions, RopeFrequencies freqs,
                     RopeLayout layout) {
        int half = headDim / 2;
        if (freqs != ropeFreqs || numTokens != ropeNumTokens
                || !Arrays.equals(positions, 0, numTokens, ropePositions, 0, numTokens)) {
            if (ropeCos.length < numTokens * half) {
                ropeCos = new float[numTokens * half];
                ropeSin = new float[numTokens * half];
            }
            if (ropePositions.length < numTokens) {
                ropePositions = new int[numTokens];
            }
            for (int t = 0; t < numTokens; t++) {
                for (int i = 0; i < half; i++) {
                    double angle = (double) positions[t] * freqs.inverseFrequency(i);
                    ropeCos[t * half + i] = (float) Math.cos(angle);
                    ropeSin[t * half + i] = (float) Math.sin(angle);
                }
            }
            System.arraycopy(positions, 0, ropePositions, 0, numTokens);
            ropeNumTokens = numTokens;
            ropeFreqs = freqs;
        }
        float[] cos = ropeCos;
        float[] sin = ropeSin;
        boolean interleaved = layout == RopeLayout.INTERLEAVED_PAIRS;
        for (int t = 0; t < numTokens; t++) {
            int angles = t * half;
            for (int h = 0; h < numHeads; h++) {
                int base = (t * numHeads + h) * headDim;
                for (int i = 0; i < half; i++) {
                    int a = interleaved ? base + 2 * i : base + i;
                    int b = interleaved ? a + 1 : a + half;
                    float x0 = x[a];
                    float x1 = x[b];
                    x[a] = x0 * cos[angles + i] - x1 * sin[angles + i];
                    x[b] = x0 * sin[angles + i] + x1 * cos[angles + i];
                }
            }
        }
    }

    @Override
    public void siluMul(float[] gate, float[] up, int n) {
        siluMul(gate, up, 0, n);
    }

    private static void siluMul(float[] gate, float[] up, int offset, int n) {
        int i = offset;
        int end = offset + n;
        for (; i + L <= end; i += L) {
            FloatVector g = FloatVector.fromArray(F, gate, i);
            FloatVector silu = g.div(g.neg().lanewise(VectorOperators.EXP).add(1f));
            silu.mul(FloatVector.fromArray(F, up, i)).intoArray(gate, i);
        }
        for (; i < end; i++) {
            float g = gate[i];
            gate[i] = g / (1f + (float) Math.exp(-g)) * up[i];
        }
    }

    @Override
    public void softmax(float[] x, int offset, int n) {
        if (n == 0) {
            return;
        }
        int i = 0;
        FloatVector maxV = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        for (; i + L <= n; i += L) {
            maxV = maxV.max(FloatVector.fromArray(F, x, offset + i));
        }
        float max = maxV.reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) {
            max = Math.max(max, x[offset + i]);
        }
        FloatVector sumV = FloatVector.zero(F);
        i = 0;
        for (; i + L <= n; i += L) {
            FloatVector e = FloatVector.fromArray(F, x, offset + i).sub(max).lanewise(VectorOperators.EXP);
            e.intoArray(x, offset + i);
            sumV = sumV.add(e);
        }
        float sum = sumV.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            float e = (float) Math.exp(x[offset + i] - max);
            x[offset + i] = e;
            sum += e;
        }
        float inv = 1f / sum;
        i = 0;
        for (; i + L <= n; i += L) {
            FloatVector.fromArray(F, x, offset + i).mul(inv).intoArray(x, offset + i);
        }
        for (; i < n; i++) {
            x[offset + i] *= inv;
        }
    }

    @Override
    public void add(float[] dst, float[] src, int n) {
        int i = 0;
        for (; i + L <= n; i += L) {
            FloatVector.fromArray(F, dst, i).add(FloatVector.fromArray(F, src, i)).intoArray(dst, i);
        }
        for (; i < n; i++) {
            dst[i] += src[i];
        }
    }

    /** A vector max finds the value, a scalar scan its first index. */
    @Override
    public int argmax(float[] x, int offset, int n) {
        if (n <= 0) {
            throw new IllegalArgumentException("argmax of " + n + " elements");
        }
        int i = 0;
        FloatVector maxV = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        for (; i + L <= n; i += L) {
            maxV = maxV.max(FloatVector.fromArray(F, x, offset + i));
        }
        float max = maxV.reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) {
            max = Math.max(max, x[offset + i]);
        }
        for (int j = 0; j < n; j++) {
            if (x[offset + j] == max) {
                return j;
            }
        }
        return 0; // all NaN
    }
}
