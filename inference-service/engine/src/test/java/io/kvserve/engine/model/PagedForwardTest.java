package io.kvserve.engine.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kvserve.common.model.ModelFile;
import io.kvserve.common.model.gen.ModelGenerator.WeightType;
import io.kvserve.common.model.gen.ModelPreset;
import io.kvserve.engine.ops.VectorTensorOps;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The batched forward over a shared paged cache against the single-sequence forward: batching
 * sequences together, scattering their blocks and splitting prompts into chunks must not change
 * what each sequence computes.
 */
class PagedForwardTest {

    /**
     * Batched vs alone: the same kernels on the same rows; only the matmul's token tiling differs
     * (a token's dot product runs in a tile of 4 or alone), which reorders float sums: a few ulps.
     */
    private static final float BATCH_TOLERANCE = 1e-5f;

    @TempDir
    static Path dir;

    @ParameterizedTest(name = "{0}")
    @MethodSource("io.kvserve.engine.model.TestModels#llamaAndQwen2")
    void forward_threeSequencesBatchedOverScatteredBlocks_matchesEachAlone(ModelPreset preset) throws IOException {
        Path file = gguf(preset, WeightType.Q8_0);
        int vocab = preset.vocabSize();
        int[][] prompts = {
                {1, 5, 9, 100, 305, 310, 512, 7, 1000, 42, 77, 900, 3, 4, 5, 6, 7, 8, 9, 10},
                {2, 40, 400},
                {17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27}};
        try (ModelFile model = ModelFile.open(file); LlamaWeights weights = LlamaWeights.load(model);
             VectorTensorOps ops = new VectorTensorOps(2)) {
            // reference: each prompt alone, then one decode token 33, all rows
            float[][] alone = new float[3][];
            for (int s = 0; s < 3; s++) {
                LlamaModel single = new LlamaModel(weights, ops, 64, 64);
                float[] prefill = new float[prompts[s].length * vocab];
                single.forward(prompts[s], prompts[s].length, 0, prefill);
                float[] decode = new float[vocab];
                single.forward(new int[] {33}, 1, prompts[s].length, decode);
                alone[s] = concat(prefill, decode);
            }

            // batched: blocks of 4 handed out interleaved, prompts fed in two steps (chunked), then a decode step
            int blockSize = 4;
            PagedKvCache cache = new PagedKvCache(model.config(), 40, blockSize, KvCacheDtype.F32);
            LlamaModel batched = new LlamaModel(weights, ops, cache, 64);
            int[][] tables = new int[3][8];
            for (int b = 0, next = 39; b < 8; b++) {
                for (int s = 0; s < 3; s++) {
                    tables[s][b] = next--; // from the top down, sequences interleaved
                }
            }
            int[] split = {13, 1, 6}; // first chunk lengths
            float[] step1 = new float[3 * 20 * vocab];
            batched.forward(batch(prompts, tables, split, 0), step1);
            float[] step2 = new float[3 * 20 * vocab];
            batched.forward(batch(prompts, tables, split, 1), step2);
            float[] step3 = new float[3 * vocab];
            int[] decodeStarts = {prompts[0].length, prompts[1].length, prompts[2].length};
            batched.forward(new ForwardBatch(new int[] {33, 33, 33}, new int[] {0, 1, 2, 3}, decodeStarts, tables,
                    new int[] {0, 1, 2}), step3);

            for (int s = 0; s < 3; s++) {
                float[] rows = new float[(prompts[s].length + 1) * vocab];
                int row = 0;
                row = copyRows(step1, rowOffset(prompts, split, s, 0), split[s], rows, row, vocab);
                row = copyRows(step2, rowOffset(prompts, split, s, 1), prompts[s].length - split[s], rows, row, vocab);
                copyRows(step3, s, 1, rows, row, vocab);
                float diff = maxAbsDiff(alone[s], rows);
                assertThat(diff).as("sequence %d", s).isLessThan(BATCH_TOLERANCE);
            }
        }
    }

    /**
     * F16 KV against F32 KV: keys and values rounded to half (relative 2^-11) before attention;
     * over the 2 tiny layers the logits move by ~1e-3 at most (llama.cpp's own F16 vs F32 KV: ~1.5e-3
     * on random models). Asserted below 1e-2, and not 0, so the F16 path is really taken.
     */
    @Test
    void forward_f16Cache_closeToF32Cache() throws IOException {
        Path file = gguf(ModelPreset.TINY, WeightType.F32);
        int[] ids = {1, 5, 9, 100, 305, 310, 512, 7, 1000, 42, 77, 900, 3, 4, 5, 6, 7, 8};
        int vocab = ModelPreset.TINY.vocabSize();
        try (ModelFile model = ModelFile.open(file); LlamaWeights weights = LlamaWeights.load(model);
             VectorTensorOps ops = new VectorTensorOps(2)) {
            float[][] logits = new float[2][ids.length * vocab];
            for (KvCacheDtype dtype : KvCacheDtype.values()) {
                PagedKvCache cache = new PagedKvCache(model.config(), 2, 16, dtype);
                LlamaModel m = new LlamaModel(weights, ops, cache, 32);
                int[] all = new int[ids.length];
                Arrays.setAll(all, i -> i);
                m.forward(new ForwardBatch(ids, new int[] {0, ids.length}, new int[] {0}, new int[][] {{1, 0}}, all),
                        logits[dtype.ordinal()]);
            }
            float diff = maxAbsDiff(logits[0], logits[1]);
            System.out.printf("F16 vs F32 KV cache, tiny F32, %d positions: max|diff| %.3g%n", ids.length, diff);
            assertThat(diff).isGreaterThan(0f).isLessThan(1e-2f);
        }
    }

    @Test
    void forward_badBatch_isRejectedWithAClearMessage() throws IOException {
        Path file = gguf(ModelPreset.TINY, WeightType.F32);
        try (ModelFile model = ModelFile.open(file); LlamaWeights weights = LlamaWeights.load(model);
             VectorTensorOps ops = new VectorTensorOps(1)) {
            PagedKvCache cache = new PagedKvCache(model.config(), 4, 4, KvCacheDtype.F32);
            LlamaModel m = new LlamaModel(weights, ops, cache, 8);
            float[] logits = new float[8 * 1024];
            assertThatThrownBy(() -> m.forward(ForwardBatch.single(new int[] {1, 2, 3, 4, 5}, 0, new int[] {0}), logits))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("reaches position 4")
                    .hasMessageContaining("needs 2 blocks");
            assertThatThrownBy(() -> m.forward(ForwardBatch.single(new int[] {1}, 0, new int[] {4}), logits))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("block 4");
            assertThatThrownBy(() -> m.forward(ForwardBatch.single(new int[9], 0, new int[] {0, 1, 2}), logits))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("9 tokens");
            assertThatThrownBy(() -> m.forward(ForwardBatch.single(new int[] {1024}, 0, new int[] {0}), logits))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("token id 1024");
            assertThatThrownBy(() -> m.forward(ForwardBatch.single(new int[] {1}, 0, new int[] {0}), new float[10]))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("logitsOut");
            assertThatThrownBy(() -> m.forward(new int[] {1}, 1, 0, logits))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("shared KV cache");
        }
    }

    /** Chunk {@code step} (0: the first split[s] tokens, 1: the rest) of every prompt, all rows. */
    private static ForwardBatch batch(int[][] prompts, int[][] tables, int[] split, int step) {
        int numTokens = 0;
        int[] seqStarts = new int[4];
        int[] starts = new int[3];
        for (int s = 0; s < 3; s++) {
            starts[s] = step == 0 ? 0 : split[s];
            numTokens += step == 0 ? split[s] : prompts[s].length - split[s];
            seqStarts[s + 1] = numTokens;
        }
        int[] tokens = new int[numTokens];
        for (int s = 0; s < 3; s++) {
            int from = starts[s];
            int to = step == 0 ? split[s] : prompts[s].length;
            System.arraycopy(prompts[s], from, tokens, seqStarts[s], to - from);
        }
        int[] all = new int[numTokens];
        Arrays.setAll(all, i -> i);
        return new ForwardBatch(tokens, seqStarts, starts, tables, all);
    }

    private static int rowOffset(int[][] prompts, int[] split, int s, int step) {
        int offset = 0;
        for (int i = 0; i < s; i++) {
            offset += step == 0 ? split[i] : prompts[i].length - split[i];
        }
        return offset;
    }

    private static int copyRows(float[] from, int fromRow, int numRows, float[] to, int toRow, int vocab) {
        System.arraycopy(from, fromRow * vocab, to, toRow * vocab, numRows * vocab);
        return toRow + numRows;
    }

    private static float[] concat(float[] a, float[] b) {
        float[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static float maxAbsDiff(float[] a, float[] b) {
        assertThat(a.length).isEqualTo(b.length);
        return TestModels.maxAbsDiff(a, b);
    }

    private static Path gguf(ModelPreset preset, WeightType type) throws IOException {
        return TestModels.gguf(dir, preset, type, 7);
    }
}
