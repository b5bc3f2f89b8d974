package io.kvserve.engine.ops;

import io.kvserve.common.gguf.GgmlType;
import io.kvserve.common.model.RopeLayout;
import io.kvserve.engine.model.WeightMatrix;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The reference against hand computations; RoPE layouts checked on both implementations. */
class ScalarTensorOpsTest {

    private static final float R = (float) Math.sqrt(0.5);

    @Test
    void matmul_smallF32_matchesHandProduct() {
        // w = [[1, 2, 3], [4, 5, 6]], x = [[1, 0, -1], [2, 1, 0]]
        WeightMatrix w = WeightMatrix.quantize(GgmlType.F32, 2, 3, new float[] {1, 2, 3, 4, 5, 6});
        float[] out = new float[4];
        new ScalarTensorOps().matmul(w, new float[] {1, 0, -1, 2, 1, 0}, 2, out);
        assertThat(out).containsExactly(-2, -2, 4, 13);
    }

    @Test
    void rmsNorm_constantRow_isWeight() {
        float[] out = new float[4];
        new ScalarTensorOps().rmsNorm(out, new float[] {3, -3, 3, -3}, new float[] {1, 2, 3, 4}, 1, 4, 0f);
        assertThat(out).containsExactly(1, -2, 3, -4);
    }

    @Test
    void softmax_twoEqualAndOneLarger_matchesHand() {
        float[] x = {9, 0, 0, (float) Math.log(2), 9};
        new ScalarTensorOps().softmax(x, 1, 3);
        assertThat(x).containsExactly(new float[] {9, 0.25f, 0.25f, 0.5f, 9}, within(1e-7f));
    }

    @Test
    void ropeFrequencies_baseAndDivisors_followTheFormula() {
        RopeFrequencies f = RopeFrequencies.of(128, 10000, null);
        assertThat(f.inverseFrequency(0)).isEqualTo(1f);
        assertThat(f.inverseFrequency(1)).isCloseTo((float) Math.pow(10000, -2.0 / 128), within(1e-7f));
        float[] divisors = new float[64];
        java.util.Arrays.fill(divisors, 8f);
        assertThat(RopeFrequencies.of(128, 10000, divisors).inverseFrequency(1))
                .isCloseTo((float) Math.pow(10000, -2.0 / 128) / 8, within(1e-7f));
    }

    /**
     * headDim 4, frequencies (pi/2, pi/4) per position, position 1, x = (1, 0, 0, 1). Interleaved
     * pairs (x0, x1) and (x2, x3): (1, 0) by 90 degrees is (0, 1); (0, 1) by 45 degrees is
     * (-r, r), r = sqrt(1/2). NeoX pairs (x0, x2) and (x1, x3): (1, 0) by 90 degrees gives x0 = 0,
     * x2 = 1; (0, 1) by 45 degrees gives x1 = -r, x3 = r.
     */
    @ParameterizedTest
    @ValueSource(strings = {"scalar", "vector"})
    void rope_knownVectorAndAngles_matchesHandRotation(String implementation) {
        RopeFrequencies freqs = new RopeFrequencies(4, new float[] {(float) (Math.PI / 2), (float) (Math.PI / 4)});
        try (TensorOps ops = implementation.equals("scalar") ? new ScalarTensorOps() : new VectorTensorOps(1)) {
            float[] interleaved = {1, 0, 0, 1};
            ops.rope(interleaved, 1, 1, 4, new int[] {1}, freqs, RopeLayout.INTERLEAVED_PAIRS);
            assertThat(interleaved).containsExactly(new float[] {0, 1, -R, R}, within(1e-6f));
            float[] neox = {1, 0, 0, 1};
            ops.rope(neox, 1, 1, 4, new int[] {1}, freqs, RopeLayout.NEOX_HALVES);
            assertThat(neox).containsExactly(new float[] {0, -R, 1, R}, within(1e-6f));
            float[] atZero = {1, 2, 3, 4};
            ops.rope(atZero, 1, 1, 4, new int[] {0}, freqs, RopeLayout.NEOX_HALVES);
            assertThat(atZero).as("position 0 is the identity").containsExactly(1, 2, 3, 4);
        }
    }

    /**
     * llama.cpp's converter permutes the Q/K rows of llama checkpoints: GGUF row
     * {@code h*d + 2i + j} holds HF row {@code h*d + j*d/2 + i}. Projecting with either matrix and
     * applying the matching RoPE layout must give the same vector up to that permutation.
     */
    @ParameterizedTest
    @ValueSource(strings = {"scalar", "vector"})
    void rope_neoxOnHfRowsAndInterleavedOnPermutedRows_agreeUpToPermutation(String implementation) {
        int numHeads = 3;
        int d = 8;
        int dim = 32;
        int numTokens = 2;
        Random random = new Random(3);
        float[] hf = VectorTensorOpsTest.gaussian(random, numHeads * d * dim, 1f); // (numHeads * d, dim)
        float[] gguf = new float[hf.length];
        for (int h = 0; h < numHeads; h++) {
            for (int i = 0; i < d / 2; i++) {
                for (int j = 0; j < 2; j++) {
                    System.arraycopy(hf, (h * d + j * d / 2 + i) * dim, gguf, (h * d + 2 * i + j) * dim, dim);
                }
            }
        }
        float[] x = VectorTensorOpsTest.gaussian(random, numTokens * dim, 1f);
        int[] positions = {3, 1000};
        RopeFrequencies freqs = RopeFrequencies.of(d, 10000, new float[] {1, 1, 4, 8});
        float[] qHf = new float[numTokens * numHeads * d];
        float[] qGguf = new float[qHf.length];
        try (TensorOps ops = implementation.equals("scalar") ? new ScalarTensorOps() : new VectorTensorOps(2)) {
            ops.matmul(WeightMatrix.quantize(GgmlType.F32, numHeads * d, dim, hf), x, numTokens, qHf);
            ops.matmul(WeightMatrix.quantize(GgmlType.F32, numHeads * d, dim, gguf), x, numTokens, qGguf);
            ops.rope(qHf, numTokens, numHeads, d, positions, freqs, RopeLayout.NEOX_HALVES);
            ops.rope(qGguf, numTokens, numHeads, d, positions, freqs, RopeLayout.INTERLEAVED_PAIRS);
        }
        for (int t = 0; t < numTokens; t++) {
            for (int h = 0; h < numHeads; h++) {
                for (int i = 0; i < d / 2; i++) {
                    for (int j = 0; j < 2; j++) {
                        int base = (t * numHeads + h) * d;
                        assertThat(qGguf[base + 2 * i + j]).as("t=%d h=%d i=%d j=%d", t, h, i, j)
                                .isEqualTo(qHf[base + j * d / 2 + i]);
                    }
                }
            }
        }
    }
}
