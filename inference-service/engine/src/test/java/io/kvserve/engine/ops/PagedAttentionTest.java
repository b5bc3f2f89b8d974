package io.kvserve.engine.ops;

import io.kvserve.engine.model.KvCacheDtype;
import io.kvserve.engine.model.PagedKvCache;
import io.kvserve.engine.model.WeightMatrix;
import io.kvserve.common.gguf.GgmlType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * {@link VectorTensorOps#attention} against {@link ScalarTensorOps#attention} (double, two plain
 * passes) over scattered block tables, and the fused matmuls against their unfused scalar form.
 */
class PagedAttentionTest {

    private static final ScalarTensorOps SCALAR = new ScalarTensorOps();
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

    static Stream<Arguments> shapes() {
        List<Arguments> args = new ArrayList<>();
        for (KvCacheDtype dtype : KvCacheDtype.values()) {
            for (int[] heads : new int[][] {{4, 4}, {4, 2}, {6, 2}, {9, 3}, {8, 1}}) {
                for (int headDim : new int[] {8, 12, 64}) {
                    for (int blockSize : new int[] {1, 4, 16}) {
                        args.add(Arguments.of(dtype, heads[0], heads[1], headDim, blockSize));
                    }
                }
            }
        }
        return args.stream();
    }

    /**
     * Four sequences in one call: a decode at position 37, a prefill chunk at positions 5..9, one
     * token at position 0 and a chunk of 30 at positions 3..32, each over blocks scattered through
     * the cache. The chunks take the gathered path (keys copied transposed), the single tokens the
     * direct one. Tolerance: each output
     * is a convex combination of values (|v| <= ~4), with probabilities from a float softmax
     * (relative error ~ a few ulp times log of the number of positions) and a float dot of headDim
     * products for the scores: 2e-5 is ~50x the float error at these sizes, far below any
     * indexing mistake (which changes outputs by O(1)).
     */
    @ParameterizedTest(name = "{0} heads={1}/{2} headDim={3} blockSize={4}")
    @MethodSource("shapes")
    void attention_scatteredBlocksFourSequences_matchesScalar(KvCacheDtype dtype, int numHeads, int numKvHeads,
                                                               int headDim, int blockSize) {
        Random random = new Random(numHeads * 1000L + numKvHeads * 100 + headDim * 10 + blockSize + dtype.ordinal());
        int kvDim = numKvHeads * headDim;
        int numLayers = 2;
        int[] seqLengths = {38, 10, 1, 33}; // positions held after this step
        int[] newTokens = {1, 5, 1, 30};
        int numSeqs = seqLengths.length;
        int numBlocksPerSeq = (38 + blockSize - 1) / blockSize;
        int numBlocks = numSeqs * numBlocksPerSeq + numSeqs;
        List<Integer> free = new ArrayList<>();
        for (int b = 0; b < numBlocks; b++) {
            free.add(b);
        }
        Collections.shuffle(free, random);
        int[][] blockTables = new int[numSeqs][];
        for (int s = 0; s < numSeqs; s++) {
            int n = (seqLengths[s] + blockSize - 1) / blockSize;
            blockTables[s] = new int[n];
            for (int b = 0; b < n; b++) {
                blockTables[s][b] = free.removeFirst();
            }
        }
        PagedKvCache cache = new PagedKvCache(numLayers, kvDim, numBlocks, blockSize, dtype);
        for (int layer = 0; layer < numLayers; layer++) {
            for (int s = 0; s < numSeqs; s++) {
                for (int p = 0; p < seqLengths[s]; p++) {
                    int slot = blockTables[s][p / blockSize] * blockSize + p % blockSize;
                    cache.write(layer, slot, VectorTensorOpsTest.gaussian(random, kvDim, 1.5f), 0,
                            VectorTensorOpsTest.gaussian(random, kvDim, 2f), 0);
                }
            }
        }
        int numTokens = 37;
        int[] positions = new int[numTokens];
        int[] tokenSeqs = new int[numTokens];
        for (int s = 0, t = 0; s < numSeqs; s++) {
            for (int i = 0; i < newTokens[s]; i++, t++) {
                tokenSeqs[t] = s;
                positions[t] = seqLengths[s] - newTokens[s] + i;
            }
        }
        float[] q = VectorTensorOpsTest.gaussian(random, numTokens * numHeads * headDim, 1f);
        float scale = (float) (1 / Math.sqrt(headDim));
        float[] expected = new float[q.length];
        SCALAR.attention(expected, q, numTokens, positions, tokenSeqs, blockTables, cache, 1, numHeads, headDim, scale);
        for (VectorTensorOps ops : opsByThreads) {
            float[] actual = new float[q.length];
            ops.attention(actual, q, numTokens, positions, tokenSeqs, blockTables, cache, 1, numHeads, headDim, scale);
            for (int i = 0; i < q.length; i++) {
                assertThat(actual[i]).as("threads=%d element %d", ops.numThreads(), i)
                        .isCloseTo(expected[i], within(2e-5f));
            }
        }
    }

    /** Position 0 attends to itself only: the output is exactly its own value row. */
    @Test
    void attention_firstPosition_returnsItsOwnValue() {
        int headDim = 16;
        PagedKvCache cache = new PagedKvCache(1, 2 * headDim, 4, 4, KvCacheDtype.F32);
        Random random = new Random(3);
        float[] value = VectorTensorOpsTest.gaussian(random, 2 * headDim, 1f);
        cache.write(0, 4 * 2 + 0, VectorTensorOpsTest.gaussian(random, 2 * headDim, 1f), 0, value, 0);
        float[] q = VectorTensorOpsTest.gaussian(random, 4 * headDim, 1f);
        float[] out = new float[q.length];
        opsByThreads[1].attention(out, q, 1, new int[] {0}, new int[] {0}, new int[][] {{2}}, cache, 0, 4, headDim, 0.25f);
        for (int h = 0; h < 4; h++) {
            for (int i = 0; i < headDim; i++) {
                assertThat(out[h * headDim + i]).isCloseTo(value[(h / 2) * headDim + i], within(1e-6f));
            }
        }
    }

    @Test
    void matmulMany_qkvShapes_equalsOneMatmulEach() {
        Random random = new Random(5);
        int n = 96;
        WeightMatrix[] ws = {
                WeightMatrix.quantize(GgmlType.Q8_0, 37, n, VectorTensorOpsTest.gaussian(random, 37 * n, 1f)),
                WeightMatrix.quantize(GgmlType.F32, 5, n, VectorTensorOpsTest.gaussian(random, 5 * n, 1f)),
                WeightMatrix.quantize(GgmlType.F16, 11, n, VectorTensorOpsTest.gaussian(random, 11 * n, 1f))};
        for (int numTokens : new int[] {1, 5}) {
            float[] x = VectorTensorOpsTest.gaussian(random, numTokens * n, 1f);
            for (VectorTensorOps ops : opsByThreads) {
                float[][] outs = {new float[numTokens * 37], new float[numTokens * 5], new float[numTokens * 11]};
                ops.matmul(ws, x, numTokens, outs);
                for (int i = 0; i < ws.length; i++) {
                    float[] single = new float[outs[i].length];
                    ops.matmul(ws[i], x, numTokens, single);
                    assertThat(outs[i]).as("matrix %d, %d tokens, %d threads", i, numTokens, ops.numThreads())
                            .containsExactly(single); // the same row kernels: bit-identical
                }
            }
        }
    }

    @Test
    void matmulSiluMul_matchesScalarMatmulsThenSilu() {
        Random random = new Random(6);
        int n = 64;
        int hidden = 45;
        WeightMatrix w1 = WeightMatrix.quantize(GgmlType.Q4_0, hidden, n, VectorTensorOpsTest.gaussian(random, hidden * n, 1f));
        WeightMatrix w3 = WeightMatrix.quantize(GgmlType.Q4_0, hidden, n, VectorTensorOpsTest.gaussian(random, hidden * n, 1f));
        for (int numTokens : new int[] {1, 3, 6}) {
            float[] x = VectorTensorOpsTest.gaussian(random, numTokens * n, 0.5f);
            float[] gate = new float[numTokens * hidden];
            float[] up = new float[numTokens * hidden];
            SCALAR.matmulSiluMul(w1, w3, x, numTokens, gate, up);
            for (VectorTensorOps ops : opsByThreads) {
                float[] actualGate = new float[gate.length];
                float[] actualUp = new float[up.length];
                ops.matmulSiluMul(w1, w3, x, numTokens, actualGate, actualUp);
                for (int i = 0; i < gate.length; i++) {
                    // matmul error ~ n u sum|w x| (~1e-5 here), then silu(g) * u at most doubles it
                    assertThat(actualGate[i]).as("%d tokens, %d threads, i=%d", numTokens, ops.numThreads(), i)
                            .isCloseTo(gate[i], within(1e-4f * (1 + Math.abs(gate[i]))));
                }
            }
        }
    }
}
