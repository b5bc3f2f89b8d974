package io.kvserve.cuda;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class AttentionPlanTest {

    @Test
    void of_batch1LongContext_splitsToFillTheDevice() {
        // H200: 132 SMs, target 792 blocks; 1 token x 8 kv heads = 8 blocks -> 99 splits wanted,
        // 4096 / 64 = 64 at most
        assertThat(AttentionPlan.targetBlocks(132)).isEqualTo(792);
        assertThat(AttentionPlan.of(4096, 1, 8, 16, 792)).isEqualTo(new AttentionPlan(64, 64));
        // a smaller target: 33 wanted, 125 positions each, rounded up to 128 -> 32 splits
        assertThat(AttentionPlan.of(4096, 1, 8, 16, 264)).isEqualTo(new AttentionPlan(128, 32));
    }

    @Test
    void of_largeBatch_doesNotSplit() {
        assertThat(AttentionPlan.of(4096, 64, 8, 16, 264)).isEqualTo(new AttentionPlan(4096, 1));
    }

    @Test
    void of_shortContext_isOneSplit() {
        assertThat(AttentionPlan.of(100, 1, 8, 16, 264)).isEqualTo(new AttentionPlan(128, 1));
    }

    @Test
    void of_anyShape_coversTheContextInWholeBlocksWithinThePartialBuffer() {
        int[] contexts = {1, 15, 16, 17, 255, 256, 257, 1000, 4096, 4097, 32768, 131072};
        int[] tokens = {1, 2, 7, 64, 256, 2048};
        int[] kvHeads = {1, 2, 8, 32};
        int[] blockSizes = {1, 16, 32, 48};
        for (int context : contexts) {
            for (int n : tokens) {
                for (int h : kvHeads) {
                    for (int bs : blockSizes) {
                        AttentionPlan plan = AttentionPlan.of(context, n, h, bs, 264);
                        String shape = context + "/" + n + "/" + h + "/" + bs;
                        assertThat(plan.splitSize() % bs).as(shape).isZero();
                        assertThat(plan.splitSize() % AttentionPlan.TILE).as(shape).isZero();
                        assertThat((long) plan.splitSize() * plan.numSplits()).as(shape).isGreaterThanOrEqualTo(context);
                        assertThat((long) plan.splitSize() * (plan.numSplits() - 1)).as(shape).isLessThan(context);
                        // CudaLlamaModel sizes its partial buffers for this bound
                        assertThat((long) n * h * plan.numSplits()).as(shape).isLessThanOrEqualTo(264L + (long) n * h);
                    }
                }
            }
        }
    }
}
