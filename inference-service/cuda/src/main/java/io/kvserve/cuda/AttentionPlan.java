package io.kvserve.cuda;

/**
 * How the split-K attention kernel divides each query's context (flash-decoding [1]): a decode step
 * of one sequence has numKvHeads blocks of work per token, far fewer than an H200's 132 SMs, so long
 * contexts are cut into splits that run in parallel and are merged by {@code paged_attention_reduce}.
 *
 * <pre>
 *   context 0 .................................................. maxContextLen
 *           | split 0 (splitSize) | split 1 | ... | split numSplits-1 (may be short or empty for a token) |
 *   blocks = numTokens * numKvHeads * numSplits  >=  targetBlocks where the context allows
 * </pre>
 * A split is a whole number of KV blocks, and at least {@link #MIN_SPLIT} positions, so each
 * thread block has a worthwhile run of keys to stream.
 *
 * <p>[1] Dao et al., Flash-Decoding for long-context inference (2023); vLLM's paged_attention_v2
 * partitions of 512 tokens.
 *
 * @param splitSize positions per split, a multiple of the KV block size
 * @param numSplits splits per query (gridDim.z)
 */
public record AttentionPlan(int splitSize, int numSplits) {

    /** Fewest positions in a split (unless the whole context is shorter). */
    static final int MIN_SPLIT = 256;

    /**
     * The plan for {@code numTokens} queries of contexts up to {@code maxContextLen}, aiming at
     * {@code targetBlocks} thread blocks (two per SM is a good target).
     */
    public static AttentionPlan of(int maxContextLen, int numTokens, int numKvHeads, int blockSize, int targetBlocks) {
        if (maxContextLen < 1 || numTokens < 1 || numKvHeads < 1 || blockSize < 1) {
            throw new IllegalArgumentException("maxContextLen " + maxContextLen + ", numTokens " + numTokens
                    + ", numKvHeads " + numKvHeads + ", blockSize " + blockSize + " must be positive");
        }
        long blocksWithoutSplit = (long) numTokens * numKvHeads;
        int wanted = (int) Math.max(1, Math.min(Integer.MAX_VALUE, (targetBlocks + blocksWithoutSplit - 1) / blocksWithoutSplit));
        int maxByLength = Math.max(1, maxContextLen / MIN_SPLIT);
        int numSplits = Math.min(wanted, maxByLength);
        int splitSize = ceilDiv(ceilDiv(maxContextLen, numSplits), blockSize) * blockSize;
        return new AttentionPlan(splitSize, ceilDiv(maxContextLen, splitSize));
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }
}
