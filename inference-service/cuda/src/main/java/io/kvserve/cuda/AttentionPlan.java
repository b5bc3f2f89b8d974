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
 * A split is a whole number of KV blocks and of the kernel's 32-position tiles, and at least
 * {@link #MIN_SPLIT} positions, so each thread block has a worthwhile run of keys to stream. The
 * target is {@link #targetBlocks}: the kernel keeps three blocks resident per SM, and two waves of
 * them hide the tail of the slowest.
 *
 * <p>[1] Dao et al., Flash-Decoding for long-context inference (2023); vLLM's paged_attention_v2
 * partitions of 512 tokens; llama.cpp's flash-attention kernels pick their parallel blocks per SM
 * count the same way.
 *
 * @param splitSize positions per split, a multiple of the KV block size and of 32
 * @param numSplits splits per query (gridDim.z)
 */
public record AttentionPlan(int splitSize, int numSplits) {

    /** Fewest positions in a split (unless the whole context is shorter). */
    static final int MIN_SPLIT = 64;
    /** Positions the kernel scores per tile: splits are multiples of it. */
    static final int TILE = 32;

    /** Thread blocks to aim at on a device of {@code numSms} multiprocessors: 3 resident per SM, 2 waves. */
    public static int targetBlocks(int numSms) {
        return 6 * numSms;
    }

    /**
     * The plan for {@code numTokens} queries of contexts up to {@code maxContextLen}, aiming at
     * {@code targetBlocks} thread blocks ({@link #targetBlocks}).
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
        int granule = blockSize / gcd(blockSize, TILE) * TILE;
        int splitSize = ceilDiv(ceilDiv(maxContextLen, numSplits), granule) * granule;
        return new AttentionPlan(splitSize, ceilDiv(maxContextLen, splitSize));
    }

    private static int gcd(int a, int b) {
        return b == 0 ? a : gcd(b, a % b);
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }
}
