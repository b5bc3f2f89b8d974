package io.kvserve.engine.sample;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SampleKernelsTest {

    private static float[] row(int n, long seed) {
        Random random = new Random(seed);
        float[] x = new float[n + 3];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (random.nextGaussian() * 4);
        }
        return x;
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 7, 16, 17, 1023, 1025, 4099, 32_000, 128_256})
    void max_anyLength_equalsScalar(int n) {
        float[] x = row(n, n);
        float expected = Float.NEGATIVE_INFINITY;
        for (int i = 3; i < n + 3; i++) {
            expected = Math.max(expected, x[i]);
        }
        assertThat(SampleKernels.max(x, 3, n)).isEqualTo(expected);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 7, 16, 17, 1023, 1025, 4099, 32_000, 128_256})
    void sumExp_anyLength_matchesScalarWithin1e6Relative(int n) {
        float[] x = row(n, n);
        float max = SampleKernels.max(x, 3, n);
        double expected = SampleKernels.sumExpScalar(x, 3, n, max);
        assertThat(SampleKernels.sumExp(x, 3, n, max)).isCloseTo(expected, within(expected * 1e-6));
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 7, 16, 17, 1023, 1025, 4099, 32_000, 128_256})
    void expScaled_anyLength_matchesScalarPerElementAndSum(int n) {
        float[] x = row(n, n);
        float max = SampleKernels.max(x, 3, n);
        float[] expected = new float[n];
        float[] actual = new float[n];
        double[] blockSums = new double[SampleKernels.numBlocks(n)];
        double expectedSum = SampleKernels.expScaledScalar(x, 3, n, max, 0.7f, expected);
        double actualSum = SampleKernels.expScaled(x, 3, n, max, 0.7f, actual, blockSums);
        assertThat(actualSum).isCloseTo(expectedSum, within(expectedSum * 1e-6));
        assertThat(java.util.Arrays.stream(blockSums).sum()).isCloseTo(actualSum, within(actualSum * 1e-12));
        for (int i = 0; i < n; i++) {
            assertThat(actual[i]).as("element %d", i).isCloseTo(expected[i], within(Math.ulp(expected[i]) * 2));
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 7, 16, 17, 1023, 1025, 4099, 32_000, 128_256})
    void argmax_rowsWithTiesAndNan_equalsScalarFirstIndex(int n) {
        Random random = new Random(n);
        float[] x = new float[n + 3];
        for (int i = 0; i < x.length; i++) {
            x[i] = random.nextInt(50); // many ties at the max
        }
        assertThat(SequenceSampler.argmax(x, 3, n)).isEqualTo(SequenceSampler.argmaxScalar(x, 3, n));
        x[3 + n / 2] = Float.NaN;
        assertThat(SequenceSampler.argmax(x, 3, n)).isEqualTo(SequenceSampler.argmaxScalar(x, 3, n));
        java.util.Arrays.fill(x, Float.NEGATIVE_INFINITY);
        assertThat(SequenceSampler.argmax(x, 3, n)).isZero();
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 7, 16, 17, 1025, 4099})
    void nextAbove_everyStart_equalsScalarScan(int n) {
        float[] x = row(n, n + 1);
        for (int from = 0; from <= n; from += Math.max(1, n / 50)) {
            int expectedAbove = n;
            int expectedAtLeast = n;
            for (int i = n - 1; i >= from; i--) {
                if (x[3 + i] > 5f) {
                    expectedAbove = i;
                }
                if (x[3 + i] >= 5f) {
                    expectedAtLeast = i;
                }
            }
            assertThat(SampleKernels.nextAbove(x, 3, from, n, 5f)).isEqualTo(expectedAbove);
            assertThat(SampleKernels.nextAtLeast(x, 3, from, n, 5f)).isEqualTo(expectedAtLeast);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 7, 1023, 1024, 1025, 4099, 128_256})
    void drawBlocked_anyDraw_equalsLinearScanUpToRounding(int n) {
        float[] x = row(n, n + 2);
        float max = SampleKernels.max(x, 3, n);
        float[] weights = new float[n];
        double[] blockSums = new double[SampleKernels.numBlocks(n)];
        double mass = SampleKernels.expScaled(x, 3, n, max, 1f, weights, blockSums);
        Random random = new Random(5);
        for (int draw = 0; draw < 200; draw++) {
            double u = random.nextDouble() * mass;
            int expected = n - 1;
            double cumulative = 0;
            for (int i = 0; i < n; i++) {
                cumulative += weights[i];
                if (u < cumulative) {
                    expected = i;
                    break;
                }
            }
            int actual = SampleKernels.drawBlocked(weights, n, blockSums, u);
            // block sums round differently from the running sum: a draw within 1e-6 of a boundary may
            // land on the neighbour
            assertThat(actual).isBetween(expected - 1, expected + 1);
        }
        assertThat(SampleKernels.drawBlocked(weights, n, blockSums, mass)).isEqualTo(n - 1);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 7, 1023, 1025, 4099, 128_256})
    void keepAtLeast_anyLength_zeroesBelowAndRefillsBlockSums(int n) {
        float[] x = row(n, n + 3);
        float[] weights = new float[n];
        double[] blockSums = new double[SampleKernels.numBlocks(n)];
        SampleKernels.expScaled(x, 3, n, SampleKernels.max(x, 3, n), 1f, weights, blockSums);
        float[] expected = weights.clone();
        double expectedSum = 0;
        for (int i = 0; i < n; i++) {
            expected[i] = expected[i] < 0.01f ? 0 : expected[i];
            expectedSum += expected[i];
        }
        double sum = SampleKernels.keepAtLeast(weights, n, 0.01f, blockSums);
        assertThat(weights).containsExactly(expected);
        assertThat(sum).isCloseTo(expectedSum, within(expectedSum * 1e-6));
        assertThat(java.util.Arrays.stream(blockSums).sum()).isCloseTo(sum, within(sum * 1e-12));
        for (int from = 0; from < n; from += Math.max(1, n / 40)) {
            int expectedNext = n;
            for (int i = from; i < n; i++) {
                if (weights[i] >= 0.02f && weights[i] < 0.05f) {
                    expectedNext = i;
                    break;
                }
            }
            assertThat(SampleKernels.nextInRange(weights, from, n, 0.02f, 0.05f)).isEqualTo(expectedNext);
        }
    }
}
