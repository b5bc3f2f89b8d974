package io.kvserve.cuda;

import io.kvserve.common.gguf.GgmlType;
import io.kvserve.common.model.RopeLayout;
import io.kvserve.engine.model.KvCacheDtype;
import io.kvserve.engine.model.PagedKvCache;
import io.kvserve.engine.model.WeightMatrix;
import io.kvserve.engine.ops.RopeFrequencies;
import io.kvserve.engine.ops.ScalarTensorOps;
import jcuda.driver.CUdeviceptr;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every kernel against the scalar CPU reference ({@link ScalarTensorOps}) on random inputs, on the
 * GPU machine (skipped without a device). Tolerances, relative to the reference's RMS:
 * float paths 1e-4 (float vs double accumulation), half-rounded GEMM inputs 1e-2 (bf16-rounded 3e-2),
 * int8 paths 1e-4 against a reference fed the same q8-quantized activations.
 */
@EnabledIf("io.kvserve.cuda.Gpu#available")
class CudaKernelsGpuTest {

    static CudaDevice device;
    static CudaKernels kernels;
    static DeviceMemory memory;
    final ScalarTensorOps reference = new ScalarTensorOps();
    final Random random = new Random(42);

    @BeforeAll
    static void open() {
        device = new CudaDevice();
        kernels = new CudaKernels(device);
        memory = new DeviceMemory(device);
    }

    @AfterAll
    static void close() {
        if (device != null) {
            memory.close();
            device.close();
        }
    }

    float[] gaussian(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return v;
    }

    static float[] download(CUdeviceptr ptr, int n) {
        float[] out = new float[n];
        device.download(ptr, out, n);
        return out;
    }

    static void assertClose(float[] actual, float[] expected, double relativeTolerance, String what) {
        double sumSquares = 0;
        for (float e : expected) {
            sumSquares += (double) e * e;
        }
        double rms = Math.sqrt(sumSquares / expected.length);
        double worst = 0;
        int worstAt = -1;
        for (int i = 0; i < expected.length; i++) {
            double d = Math.abs(actual[i] - expected[i]);
            if (!(d <= worst)) {
                worst = d;
                worstAt = i;
            }
        }
        assertThat(worst).as("%s: worst |diff| %s at %d (got %s, want %s), rms %s", what, worst, worstAt,
                worstAt < 0 ? 0 : actual[worstAt], worstAt < 0 ? 0 : expected[worstAt], rms)
                .isLessThanOrEqualTo(relativeTolerance * Math.max(rms, 1e-6));
    }

    static Stream<Arguments> matmulShapes() {
        List<Arguments> shapes = new ArrayList<>();
        for (GgmlType type : new GgmlType[] {GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0}) {
            for (int numTokens : new int[] {1, 3, 8, 9, 16, 17, 64, 130}) {
                shapes.add(Arguments.of(type, 203, 256, numTokens));
            }
            shapes.add(Arguments.of(type, 1024, 2048, 1));
            shapes.add(Arguments.of(type, 1024, 2048, 96));
        }
        return shapes.stream();
    }

    @ParameterizedTest(name = "{0} ({1}, {2}) x {3} tokens")
    @MethodSource("matmulShapes")
    void matmul_everyTypeAndPath_matchesTheScalarReference(GgmlType type, int rows, int cols, int numTokens) {
        WeightMatrix w = WeightMatrix.quantize(type, rows, cols, gaussian(rows * cols));
        float[] x = gaussian(numTokens * cols);
        float[] bias = gaussian(rows);
        float[] prior = gaussian(numTokens * rows);
        float[] expected = new float[numTokens * rows];
        KernelWeightType kt = KernelWeightType.of(type);
        // the int8 (dp4a) paths see x quantized per 32 values: the reference gets the same x, so the
        // comparison is tight (an unquantized reference differs by ~0.6% of the rms per output, whose
        // worst over a few thousand outputs is ~2-3%)
        boolean int8 = kt.quantized() && !Launch.usesGemm(kt, numTokens);
        reference.matmul(w, int8 ? quantizeActivationsLikeTheKernel(x) : x, numTokens, expected);
        for (int t = 0; t < numTokens; t++) {
            for (int r = 0; r < rows; r++) {
                expected[t * rows + r] += bias[r] + prior[t * rows + r];
            }
        }
        DeviceMatrix dw = DeviceMatrix.upload(memory, PackedMatrix.of(w));
        CUdeviceptr out = memory.upload(prior);
        CUdeviceptr xq = memory.allocate((long) numTokens * cols);
        CUdeviceptr xd = memory.allocate((long) numTokens * cols / 32 * Float.BYTES);

        kernels.matmul(out, dw, memory.upload(x), memory.upload(bias), numTokens, true, xq, xd);

        // the GEMM rounds x to half (bf16 for bf16 weights: 8 bits of mantissa)
        double tolerance = Launch.usesGemm(kt, numTokens) ? (kt == KernelWeightType.BF16 ? 3e-2 : 1e-2) : 1e-4;
        assertClose(download(out, numTokens * rows), expected, tolerance, "matmul " + type + " x" + numTokens);
    }

    /**
     * x as quantize_act_q8 leaves it, dequantized: per 32 values d = max|x| / 127, q = roundf(x * (127 / max|x|))
     * (half away from zero, clamped to +-127), value q * d; float arithmetic as the kernel's.
     */
    static float[] quantizeActivationsLikeTheKernel(float[] x) {
        float[] out = new float[x.length];
        for (int b = 0; b < x.length; b += 32) {
            float amax = 0;
            for (int i = 0; i < 32; i++) {
                amax = Math.max(amax, Math.abs(x[b + i]));
            }
            float d = amax / 127.0f;
            float id = amax > 0 ? 127.0f / amax : 0.0f;
            for (int i = 0; i < 32; i++) {
                float v = x[b + i] * id;
                double q = Math.signum(v) * Math.floor(Math.abs((double) v) + 0.5);
                out[b + i] = (float) Math.max(-127, Math.min(127, q)) * d;
            }
        }
        return out;
    }

    @Test
    void rmsNorm_matchesTheScalarReference() {
        int numTokens = 5;
        int dim = 2048;
        float[] x = gaussian(numTokens * dim);
        float[] weight = gaussian(dim);
        float[] expected = new float[x.length];
        reference.rmsNorm(expected, x, weight, numTokens, dim, 1e-5f);
        CUdeviceptr dx = memory.upload(x);
        kernels.rmsNorm(dx, dx, memory.upload(weight), numTokens, dim, 1e-5f);
        assertClose(download(dx, x.length), expected, 1e-5, "rms_norm in place");
    }

    @Test
    void siluMul_matchesTheScalarReference() {
        int numTokens = 3;
        int hidden = 1000;
        float[] gateUp = gaussian(numTokens * 2 * hidden);
        float[] gate = new float[numTokens * hidden];
        float[] up = new float[numTokens * hidden];
        for (int t = 0; t < numTokens; t++) {
            System.arraycopy(gateUp, t * 2 * hidden, gate, t * hidden, hidden);
            System.arraycopy(gateUp, t * 2 * hidden + hidden, up, t * hidden, hidden);
        }
        reference.siluMul(gate, up, gate.length);
        CUdeviceptr out = memory.allocate((long) gate.length * Float.BYTES);
        kernels.siluMul(out, memory.upload(gateUp), hidden, numTokens);
        assertClose(download(out, gate.length), gate, 1e-5, "silu_mul");
    }

    /**
     * RoPE + KV write + split-K attention over a paged cache, against the CPU's rope, cache write
     * and attention: 3 sequences (one decode at position 700, a prefill chunk at 30..45, one at 0),
     * GQA 4:1, both layouts, both cache types, splits of 256 so the long one takes three.
     */
    @ParameterizedTest(name = "{0}, {1} cache")
    @MethodSource("attentionCases")
    void ropeAndAttention_matchTheScalarReference(RopeLayout layout, KvCacheDtype dtype) {
        int numHeads = 8;
        int numKvHeads = 2;
        int headDim = 64;
        int blockSize = 16;
        int numBlocks = 64;
        int qDim = numHeads * headDim;
        int kvDim = numKvHeads * headDim;
        int stride = qDim + 2 * kvDim;
        int[][] tables = {{5, 9, 1, 2, 3, 4, 6, 7, 8, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27,
                28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44},
                {50, 51, 52}, {60}};
        // history: positions 0..699 of seq 0 and 0..29 of seq 1 are written first, then the step
        RopeFrequencies freqs = RopeFrequencies.of(headDim, 10_000, null);
        PagedKvCache cpuCache = new PagedKvCache(1, kvDim, numBlocks, blockSize, dtype);
        CUdeviceptr kCache = memory.allocate((long) numBlocks * blockSize * kvDim * dtype.numBytes());
        CUdeviceptr vCache = memory.allocate((long) numBlocks * blockSize * kvDim * dtype.numBytes());
        CUdeviceptr invFreq = memory.upload(freqs.inverseFrequencies());
        boolean f16 = dtype == KvCacheDtype.F16;
        boolean neox = layout == RopeLayout.NEOX_HALVES;

        int[][] histories = {{0, 700}, {1, 30}};
        for (int[] h : histories) {
            int seq = h[0];
            int n = h[1];
            float[] qkvHost = gaussian(n * stride);
            int[] positions = new int[n];
            int[] slots = new int[n];
            for (int p = 0; p < n; p++) {
                positions[p] = p;
                slots[p] = tables[seq][p / blockSize] * blockSize + p % blockSize;
            }
            writeCpu(cpuCache, qkvHost, n, positions, slots, numHeads, numKvHeads, headDim, freqs, layout);
            kernels.ropeStoreKv(memory.upload(qkvHost), stride, 0, qDim, qDim + kvDim, memory.upload(positions), memory.upload(slots), invFreq,
                    numHeads, numKvHeads, headDim, neox, f16, kCache, vCache, blockSize, n);
        }

        // the step: seq 0 decodes at 700, seq 1 prefills 30..45, seq 2 starts at 0
        int[] tokenSeqs = new int[18];
        int[] positions = new int[18];
        tokenSeqs[0] = 0;
        positions[0] = 700;
        for (int i = 0; i < 16; i++) {
            tokenSeqs[1 + i] = 1;
            positions[1 + i] = 30 + i;
        }
        tokenSeqs[17] = 2;
        positions[17] = 0;
        int n = 18;
        int[] slots = new int[n];
        for (int t = 0; t < n; t++) {
            int p = positions[t];
            slots[t] = tables[tokenSeqs[t]][p / blockSize] * blockSize + p % blockSize;
        }
        float[] qkvHost = gaussian(n * stride);
        float[] q = writeCpu(cpuCache, qkvHost, n, positions, slots, numHeads, numKvHeads, headDim, freqs, layout);
        float[] expected = new float[n * qDim];
        reference.attention(expected, q, n, positions, tokenSeqs, tables, cpuCache, 0, numHeads, headDim,
                (float) (1 / Math.sqrt(headDim)));

        int tableStride = 44;
        int[] flat = new int[3 * tableStride];
        java.util.Arrays.fill(flat, -1);
        for (int s = 0; s < 3; s++) {
            System.arraycopy(tables[s], 0, flat, s * tableStride, tables[s].length);
        }
        CUdeviceptr qkv = memory.upload(qkvHost);
        CUdeviceptr dPositions = memory.upload(positions);
        kernels.ropeStoreKv(qkv, stride, 0, qDim, qDim + kvDim, dPositions, memory.upload(slots), invFreq, numHeads, numKvHeads,
                headDim, neox, f16, kCache, vCache, blockSize, n);
        AttentionPlan plan = new AttentionPlan(256, 3);
        CUdeviceptr partialAcc = memory.allocate((long) n * numHeads * plan.numSplits() * headDim * Float.BYTES);
        CUdeviceptr partialMaxSum = memory.allocate((long) n * numHeads * plan.numSplits() * 2 * Float.BYTES);
        CUdeviceptr out = memory.allocate((long) n * qDim * Float.BYTES);
        kernels.attention(out, qkv, stride, 0, f16, kCache, vCache, memory.upload(flat), tableStride, memory.upload(tokenSeqs), dPositions,
                numHeads, numKvHeads, headDim, blockSize, (float) (1 / Math.sqrt(headDim)), plan, partialAcc, partialMaxSum, n);

        float[] rotatedQ = new float[n * qDim];
        float[] qkvAfter = download(qkv, n * stride);
        for (int t = 0; t < n; t++) {
            System.arraycopy(qkvAfter, t * stride, rotatedQ, t * qDim, qDim);
        }
        assertClose(rotatedQ, q, 1e-5, "rope of q");
        assertClose(download(out, n * qDim), expected, f16 ? 2e-3 : 1e-4, "attention");
    }

    static Stream<Arguments> attentionCases() {
        return Stream.of(Arguments.of(RopeLayout.INTERLEAVED_PAIRS, KvCacheDtype.F32),
                Arguments.of(RopeLayout.NEOX_HALVES, KvCacheDtype.F16),
                Arguments.of(RopeLayout.INTERLEAVED_PAIRS, KvCacheDtype.F16));
    }

    /** The CPU side of a step: rope q and k of qkv, write k and v to the cache; returns the rotated q. */
    private float[] writeCpu(PagedKvCache cache, float[] qkv, int n, int[] positions, int[] slots, int numHeads,
                             int numKvHeads, int headDim, RopeFrequencies freqs, RopeLayout layout) {
        int qDim = numHeads * headDim;
        int kvDim = numKvHeads * headDim;
        int stride = qDim + 2 * kvDim;
        float[] q = new float[n * qDim];
        float[] k = new float[n * kvDim];
        float[] v = new float[n * kvDim];
        for (int t = 0; t < n; t++) {
            System.arraycopy(qkv, t * stride, q, t * qDim, qDim);
            System.arraycopy(qkv, t * stride + qDim, k, t * kvDim, kvDim);
            System.arraycopy(qkv, t * stride + qDim + kvDim, v, t * kvDim, kvDim);
        }
        reference.rope(q, n, numHeads, headDim, positions, freqs, layout);
        reference.rope(k, n, numKvHeads, headDim, positions, freqs, layout);
        for (int t = 0; t < n; t++) {
            cache.write(0, slots[t], k, t * kvDim, v, t * kvDim);
        }
        return q;
    }

    @Test
    void argmaxRows_takesTheFirstOfTiedMaxima() {
        int vocab = 50_000;
        float[] logits = gaussian(3 * vocab);
        logits[7] = 9;
        logits[40_000] = 9;                  // row 0: tie, the first wins
        logits[vocab + 49_999] = 12;         // row 1: the last index
        logits[2 * vocab] = 100;             // row 2: the first index
        CUdeviceptr out = memory.allocate(3 * Integer.BYTES);
        kernels.argmaxRows(out, memory.upload(logits), 3, vocab);
        int[] ids = new int[3];
        device.download(out, ids, 3);
        assertThat(ids).containsExactly(7, 49_999, 0);
        assertThat(reference.argmax(logits, 0, vocab)).isEqualTo(7);
    }

    @Test
    void sampleRows_invertsTheTemperedSoftmaxCdf() {
        int vocab = 4;
        float[] logits = {0, (float) Math.log(3), 0, (float) Math.log(4), 5, 1, 2, 3};
        // row 0 at T=1: p = 1/9, 3/9, 1/9, 4/9; cdf 0.111, 0.444, 0.556, 1 -> u = 0.5 picks 2
        // row 1 at T<=0: argmax (index 0)
        CUdeviceptr out = memory.allocate(2 * Integer.BYTES);
        kernels.sampleRows(out, memory.upload(logits), 2, vocab, memory.upload(new float[] {1f, 0f}), memory.upload(new float[] {0.5f, 0.99f}));
        int[] ids = new int[2];
        device.download(out, ids, 2);
        assertThat(ids).containsExactly(2, 0);
    }
}
