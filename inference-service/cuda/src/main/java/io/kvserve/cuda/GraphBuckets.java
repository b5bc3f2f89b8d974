package io.kvserve.cuda;

import java.util.ArrayList;
import java.util.List;

/**
 * The batch sizes a decode step is captured for as a CUDA graph (vLLM's cudagraph capture sizes):
 * a decode of n sequences replays the graph of the smallest bucket >= n, its extra tokens padding
 * (no KV write, no attention, logits rows not read). Small sizes one by one up to 4, then powers of
 * two and their midpoints (6, 8, 12, 16, 24, 32, 48, 64, ...) so padding wastes at most a third.
 */
public final class GraphBuckets {

    private final int[] sizes;

    /** Buckets up to {@code maxBatch} (the last bucket is maxBatch itself). */
    public GraphBuckets(int maxBatch) {
        if (maxBatch < 1) {
            throw new IllegalArgumentException("maxBatch " + maxBatch + " must be positive");
        }
        List<Integer> list = new ArrayList<>();
        for (int s = 1; s <= Math.min(4, maxBatch); s++) {
            list.add(s);
        }
        for (int p = 4; p < maxBatch; p *= 2) {
            if (p + p / 2 < maxBatch) {
                list.add(p + p / 2);
            }
            if (2 * p < maxBatch) {
                list.add(2 * p);
            }
        }
        if (list.getLast() != maxBatch) {
            list.add(maxBatch);
        }
        sizes = list.stream().mapToInt(Integer::intValue).toArray();
    }

    /** The bucket sizes, ascending. */
    public int[] sizes() {
        return sizes.clone();
    }

    /** The smallest bucket holding {@code numTokens}, or -1 when none does. */
    public int bucketFor(int numTokens) {
        for (int size : sizes) {
            if (size >= numTokens) {
                return size;
            }
        }
        return -1;
    }
}
