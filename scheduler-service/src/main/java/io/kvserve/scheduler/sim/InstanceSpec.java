package io.kvserve.scheduler.sim;

/**
 * One simulated inference instance's shape, with the engine's names and defaults.
 *
 * @param numKvBlocks         KV blocks of {@value SimRequest#BLOCK_SIZE} tokens; default 1024
 *                            (16k tokens, 370 MiB of F16 KV for smollm2-135m: 30 layers x 3 kv heads x 64 x 2 x 2 bytes per token)
 * @param maxNumBatchedTokens the token budget per step (decodes first, then prefill chunks); engine default 256
 * @param maxNumSeqs          most requests running at once; engine default 16
 * @param maxModelLen         most tokens per sequence, reported to policies
 * @param cost                the step cost model
 */
public record InstanceSpec(long numKvBlocks, int maxNumBatchedTokens, int maxNumSeqs, int maxModelLen, CostModel cost) {

    public static final InstanceSpec DEFAULT =
            new InstanceSpec(1024, 256, 16, 32768, CostModel.SMOLLM2_135M_Q8_0_2_CORES);

    public InstanceSpec {
        if (numKvBlocks < 1 || maxNumSeqs < 1 || maxNumBatchedTokens < maxNumSeqs) {
            throw new IllegalArgumentException("need numKvBlocks >= 1 and maxNumBatchedTokens >= maxNumSeqs >= 1, got "
                    + numKvBlocks + ", " + maxNumBatchedTokens + ", " + maxNumSeqs);
        }
    }

    public InstanceSpec withNumKvBlocks(long blocks) {
        return new InstanceSpec(blocks, maxNumBatchedTokens, maxNumSeqs, maxModelLen, cost);
    }

    /** {@code n} instances pooled into one with unbounded cache: the oracle. */
    public InstanceSpec pooledUnbounded(int n) {
        return new InstanceSpec(Long.MAX_VALUE, maxNumBatchedTokens * n, maxNumSeqs * n, maxModelLen, cost.scaledDown(n));
    }
}
