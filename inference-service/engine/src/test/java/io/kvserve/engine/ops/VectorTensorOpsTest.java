package io.kvserve.engine.ops;

import io.kvserve.common.gguf.GgmlQuants;
import io.kvserve.common.gguf.GgmlType;
import io.kvserve.common.model.RopeLayout;
import io.kvserve.engine.model.WeightMatrix;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * Every {@link VectorTensorOps} kernel against {@link ScalarTensorOps} (double accumulation, weights
 * decoded by {@code GgmlQuants}).
 */
class VectorTensorOpsTest {

    private static final ScalarTensorOps SCALAR = new ScalarTensorOps();
    private static final int[] NUM_TOKENS = {1, 3, 4, 5, 17};
    private static final int[] NUM_ROWS = {1, 5, 37};
    private static final float EPS = 0x1p-24f; // unit roundoff of float

    private static VectorTensorOps[] opsByThreads; // index: numThreads - 1

    @BeforeAll
    static void startOps() {
        opsByThreads = new VectorTensorOps[] {new VectorTensorOps(1), new VectorTensorOps(2), new VectorTensorOps(3)};
    }

    @AfterAll
    static void stopOps() {
        for (VectorTensorOps ops : opsByThreads) {
            ops.close();
        }
    }

    static Stream<Arguments> typesAndThreads() {
        List<Arguments> args = new ArrayList<>();
        for (GgmlType type : List.of(GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0,
                GgmlType.Q4_K, GgmlType.Q6_K)) {
            for (int threads = 1; threads <= 3; threads++) {
                args.add(Arguments.of(type, threads));
            }
        }
        return args.stream();
    }

    /** Row lengths: odd and off-vector sizes where the type allows them, several blocks otherwise. */
    static int[] rowLengths(GgmlType type) {
        return switch (type.blockSize()) {
            case 1 -> new int[] {1, 7, 16, 33, 100, 257};
            case 32 -> new int[] {32, 96, 160, 544};
            default -> new int[] {256, 768};
        };
    }

    /**
     * Tolerance: the vector kernel sums the same n products in another order and may round a
     * dequantized weight differently (an FMA, or the block scale applied after the sum), so
     * |vector - exact| <= gamma_{n+4} * sum |w_j x_j| (the standard bound for any summation order,
     * gamma_k = k u / (1 - k u)) plus, for a weight decoded as d*sc*q - dmin*m, one rounding of each
     * of its two terms: 2u * sum (|d sc q| + |dmin m|) |x_j| <= 2u * 2 maxAbsW * sum |x_j| for
     * Q4_K (whose min term can exceed |w|), u maxAbsW sum |x| for the others.
     */
    private static float tolerance(float[] row, float[] x, int xOffset, int n, GgmlType type) {
        double sumAbs = 0;
        double sumAbsX = 0;
        double maxAbsW = 0;
        for (int j = 0; j < n; j++) {
            sumAbs += Math.abs((double) row[j] * x[xOffset + j]);
            sumAbsX += Math.abs(x[xOffset + j]);
            maxAbsW = Math.max(maxAbsW, Math.abs(row[j]));
        }
        double gamma = (n + 4) * EPS / (1 - (n + 4) * EPS);
        double decode = (type == GgmlType.Q4_K ? 4 : 1) * EPS * maxAbsW * sumAbsX;
        return (float) (gamma * sumAbs + decode) + Float.MIN_NORMAL;
    }

    @ParameterizedTest(name = "{0} threads={1}")
    @MethodSource("typesAndThreads")
    void matmul_everyTypeShapeAndTokenCount_matchesScalarWithinSummationBound(GgmlType type, int threads) {
        VectorTensorOps ops = opsByThreads[threads - 1];
        Random random = new Random(type.ordinal() * 31L + threads);
        for (int n : rowLengths(type)) {
            for (int numRows : NUM_ROWS) {
                WeightMatrix w = WeightMatrix.quantize(type, numRows, n, gaussian(random, numRows * n, 1f));
                float[] decoded = new float[numRows * n]; // (numRows, n)
                GgmlQuants.dequantize(type, w.data(), 0, decoded, 0, decoded.length);
                for (int numTokens : NUM_TOKENS) {
                    float[] x = gaussian(random, numTokens * n, 2f);
                    float[] expected = new float[numTokens * numRows];
                    float[] actual = new float[numTokens * numRows];
                    SCALAR.matmul(w, x, numTokens, expected);
                    ops.matmul(w, x, numTokens, actual);
                    for (int t = 0; t < numTokens; t++) {
                        for (int r = 0; r < numRows; r++) {
                            float[] row = new float[n];
                            System.arraycopy(decoded, r * n, row, 0, n);
                            float tol = tolerance(row, x, t * n, n, type);
                            assertThat(actual[t * numRows + r])
                                    .as("%s n=%d rows=%d tokens=%d t=%d r=%d", type, n, numRows, numTokens, t, r)
                                    .isCloseTo(expected[t * numRows + r], within(tol));
                        }
                    }
                }
            }
        }
    }

    /**
     * The shape tests above run mostly before C2 compiles the kernels, i.e. on the Vector API's
     * Java fallbacks; this one calls each kernel until it is compiled with the intrinsics (well
     * past C2's 10,000-invocation threshold with loops) and checks the compiled code too.
     */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_K", "Q6_K"})
    void matmul_afterJitWarmup_stillMatchesScalar(GgmlType type) {
        Random random = new Random(11);
        int n = 512;
        int numRows = 8;
        WeightMatrix w = WeightMatrix.quantize(type, numRows, n, gaussian(random, numRows * n, 1f));
        float[] decoded = new float[numRows * n]; // (numRows, n)
        GgmlQuants.dequantize(type, w.data(), 0, decoded, 0, decoded.length);
        for (int numTokens : new int[] {1, 5}) {
            float[] x = gaussian(random, numTokens * n, 1f);
            float[] expected = new float[numTokens * numRows];
            float[] actual = new float[numTokens * numRows];
            SCALAR.matmul(w, x, numTokens, expected);
            for (int call = 0; call < 4000; call++) {
                opsByThreads[0].matmul(w, x, numTokens, actual);
            }
            for (int t = 0; t < numTokens; t++) {
                for (int r = 0; r < numRows; r++) {
                    float[] row = java.util.Arrays.copyOfRange(decoded, r * n, (r + 1) * n);
                    assertThat(actual[t * numRows + r]).as("%s tokens=%d t=%d r=%d", type, numTokens, t, r)
                            .isCloseTo(expected[t * numRows + r], within(tolerance(row, x, t * n, n, type)));
                }
            }
        }
    }

    /**
     * Rows are split statically and each row is computed by the same code in the same order on
     * whichever thread gets it, so the results are bit-identical, not merely close.
     */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_K", "Q6_K"})
    void matmul_differentThreadCounts_bitIdentical(GgmlType type) {
        Random random = new Random(7);
        int n = 512;
        int numRows = 67;
        WeightMatrix w = WeightMatrix.quantize(type, numRows, n, gaussian(random, numRows * n, 1f));
        for (int numTokens : new int[] {1, 6}) {
            float[] x = gaussian(random, numTokens * n, 1f);
            float[] one = new float[numTokens * numRows];
            opsByThreads[0].matmul(w, x, numTokens, one);
            for (int threads = 2; threads <= 3; threads++) {
                float[] many = new float[numTokens * numRows];
                opsByThreads[threads - 1].matmul(w, x, numTokens, many);
                assertThat(many).as("%s tokens=%d threads=%d", type, numTokens, threads).isEqualTo(one);
            }
        }
    }

    /** Zeros, subnormals, normals at both ends of the range, infinities and NaN, in every lane. */
    @Test
    void decodeAndMatmulF16_specialValues_matchFloat16ToFloat() {
        short[] specials = {0x0000, (short) 0x8000, 0x0001, 0x03FF, 0x0400, 0x3C00, (short) 0xBC00, 0x7BFF,
                (short) 0xFBFF, 0x7C00, (short) 0xFC00, 0x7E00, 0x7C01, 0x0200, (short) 0x8001, 0x5678};
        for (short bits : specials) {
            MemorySegment one = Arena.ofAuto().allocate(2L * 48);
            for (int j = 0; j < 48; j++) {
                one.set(ValueLayout.JAVA_SHORT_UNALIGNED, 2L * j, bits);
            }
            float expected = Float.float16ToFloat(bits);
            float[] row = new float[48];
            VectorTensorOps.decodeF16(one, 0, row, 48);
            assertThat(row).as("0x%04x", bits).containsOnly(expected);
            WeightMatrix w = new WeightMatrix(GgmlType.F16, 1, 48, one);
            float[] x = new float[48];
            x[5] = 1f;
            x[40] = 0.5f;
            float[] dot = new float[1];
            opsByThreads[0].matmul(w, x, 1, dot);
            if (Float.isFinite(expected)) {
                assertThat(dot[0]).as("0x%04x", bits).isEqualTo(expected * 1.5f);
            } else {
                assertThat(dot[0]).as("0x%04x: inf or NaN times the zeros of x", bits).isNaN();
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 7, 16, 33, 100, 2048})
    void rmsNorm_oddDims_matchesScalar(int dim) {
        Random random = new Random(dim);
        int numTokens = 3;
        float[] x = gaussian(random, numTokens * dim, 3f);
        float[] weight = gaussian(random, dim, 1f);
        float[] expected = new float[x.length];
        float[] actual = new float[x.length];
        SCALAR.rmsNorm(expected, x, weight, numTokens, dim, 1e-5f);
        opsByThreads[0].rmsNorm(actual, x, weight, numTokens, dim, 1e-5f);
        // float sum of squares: relative error <= gamma_dim, halved by the square root, plus 3 roundings
        for (int i = 0; i < x.length; i++) {
            assertThat(actual[i]).isCloseTo(expected[i], within((dim * 0.5f + 4) * EPS * Math.abs(expected[i]) + 1e-30f));
        }
        opsByThreads[0].rmsNorm(x, x, weight, numTokens, dim, 1e-5f);
        assertThat(x).as("in place").isEqualTo(actual);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 7, 16, 33, 100, 1000})
    void softmax_oddLengthsAtOffset_matchesScalar(int n) {
        Random random = new Random(n);
        float[] x = gaussian(random, n + 5, 4f);
        float[] expected = x.clone();
        SCALAR.softmax(expected, 3, n);
        opsByThreads[0].softmax(x, 3, n);
        // the Vector API's EXP is within 1 ulp (SVML); sum and divide add gamma_n relative error
        for (int i = 0; i < x.length; i++) {
            assertThat(x[i]).isCloseTo(expected[i], within((n + 4) * EPS * 2 * Math.abs(expected[i]) + 1e-30f));
        }
        assertThat(x[0]).isEqualTo(expected[0]);
        assertThat(x[n + 4]).isEqualTo(expected[n + 4]);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 7, 16, 33, 100})
    void siluMul_oddLengths_matchesScalar(int n) {
        Random random = new Random(n);
        float[] gate = gaussian(random, n, 5f);
        float[] up = gaussian(random, n, 1f);
        float[] expected = gate.clone();
        SCALAR.siluMul(expected, up, n);
        opsByThreads[0].siluMul(gate, up, n);
        // exp within 1 ulp, then add, divide, multiply: 4 roundings
        for (int i = 0; i < n; i++) {
            assertThat(gate[i]).isCloseTo(expected[i], within(6 * EPS * Math.abs(expected[i]) + 1e-30f));
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 7, 16, 33, 100})
    void add_oddLengths_equalsScalar(int n) {
        Random random = new Random(n);
        float[] dst = gaussian(random, n + 2, 1f);
        float[] src = gaussian(random, n + 2, 1f);
        float[] expected = dst.clone();
        SCALAR.add(expected, src, n);
        opsByThreads[0].add(dst, src, n);
        assertThat(dst).isEqualTo(expected);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 7, 16, 33, 100, 32000})
    void argmax_maxAnywhereWithTies_equalsScalarFirstIndex(int n) {
        Random random = new Random(n);
        for (int position : new int[] {0, n / 2, n - 1}) {
            float[] x = gaussian(random, n + 4, 1f);
            x[2 + position] = 100f;
            x[2 + n - 1] = 100f; // a tie with the last element
            x[1] = 1000f; // outside the range
            assertThat(opsByThreads[0].argmax(x, 2, n)).isEqualTo(SCALAR.argmax(x, 2, n)).isEqualTo(position);
        }
    }

    @ParameterizedTest
    @EnumSource(RopeLayout.class)
    void rope_bothLayoutsManyPositions_matchesScalar(RopeLayout layout) {
        Random random = new Random(layout.ordinal());
        int numTokens = 5;
        int numHeads = 3;
        int headDim = 64;
        RopeFrequencies freqs = RopeFrequencies.of(headDim, 500000, null);
        int[] positions = {0, 1, 17, 4095, 131071};
        float[] x = gaussian(random, numTokens * numHeads * headDim, 1f);
        float[] expected = x.clone();
        SCALAR.rope(expected, numTokens, numHeads, headDim, positions, freqs, layout);
        opsByThreads[0].rope(x, numTokens, numHeads, headDim, positions, freqs, layout);
        // cos and sin rounded to float, then two products and a sum: |err| <= 4u (|x0| + |x1|) <= ~8u max|x|
        for (int i = 0; i < x.length; i++) {
            assertThat(x[i]).isCloseTo(expected[i], within(8 * EPS * 5f));
        }
    }

    static float[] gaussian(Random random, int n, float scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) random.nextGaussian() * scale;
        }
        return v;
    }
}
