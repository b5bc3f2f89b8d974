package io.kvserve.engine.kv;

import static org.assertj.core.api.Assertions.assertThat;

import io.kvserve.common.kvcache.BlockHash;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The invariants every KV test checks after every operation, as Caffeine's
 * {@code CacheValidationInterceptor} does after each cache test.
 */
final class KvInvariants {

    private KvInvariants() {
    }

    /** Pool-only invariants. */
    static void check(BlockPool pool) {
        int n = pool.numBlocks();
        assertThat(pool.numFreeBlocks() + pool.numUsedBlocks()).as("free + used = total").isEqualTo(n);
        int[] queue = pool.freeQueueBlockIds();
        assertThat(queue).as("free queue length").hasSize(pool.numFreeBlocks());
        Set<Integer> queued = new HashSet<>();
        for (int id : queue) {
            assertThat(queued.add(id)).as("block %d queued twice", id).isTrue();
        }
        for (int id = 0; id < n; id++) {
            assertThat(pool.refCount(id)).as("ref count of block %d", id).isGreaterThanOrEqualTo(0);
            assertThat(queued.contains(id)).as("block %d is queued iff its ref count is 0", id)
                    .isEqualTo(pool.refCount(id) == 0);
            int blockId = id;
            pool.hash(id).ifPresent(h -> assertThat(pool.cachedBlockIds())
                    .as("block %d's hash is in the cache map, pointing at it", blockId).containsEntry(h, blockId));
        }
        for (Map.Entry<BlockHash, Integer> e : pool.cachedBlockIds().entrySet()) {
            assertThat(pool.hash(e.getValue())).as("cached hash %s maps to a block holding it", e.getKey())
                    .contains(e.getKey());
        }
        assertThat(pool.numCachedBlocks()).isEqualTo((int) java.util.stream.IntStream.range(0, n)
                .filter(id -> pool.hash(id).isPresent()).count());
        if (!pool.enablePrefixCaching()) {
            assertThat(pool.cachedBlockIds()).as("nothing cached with prefix caching off").isEmpty();
        }
    }

    /** Pool invariants plus: each block's ref count is the number of live block tables holding it. */
    static void check(KvCacheManager manager, Collection<String> liveRequestIds) {
        BlockPool pool = manager.pool();
        check(pool);
        assertThat(manager.numRequests()).isEqualTo(liveRequestIds.size());
        int[] holders = new int[pool.numBlocks()];
        for (String requestId : liveRequestIds) {
            int[] table = manager.blockTable(requestId);
            assertThat(table).as("no block twice in %s's table", requestId).doesNotHaveDuplicates();
            assertThat(table.length).as("%s's table covers its tokens", requestId)
                    .isEqualTo((manager.numTokens(requestId) + manager.blockSize() - 1) / manager.blockSize());
            for (int id : table) {
                holders[id]++;
            }
        }
        for (int id = 0; id < holders.length; id++) {
            assertThat(pool.refCount(id)).as("ref count of block %d = tables holding it", id).isEqualTo(holders[id]);
        }
        assertThat(manager.prefixCacheHits()).isBetween(0L, manager.prefixCacheQueries());
    }

    /** Everything observable about a pool, to show an operation changed nothing. */
    record Snapshot(int[] freeQueue, int[] refCounts, Map<BlockHash, Integer> cached) {
        static Snapshot of(BlockPool pool) {
            int[] refs = new int[pool.numBlocks()];
            Arrays.setAll(refs, pool::refCount);
            return new Snapshot(pool.freeQueueBlockIds(), refs, new HashMap<>(pool.cachedBlockIds()));
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Snapshot s && Arrays.equals(freeQueue, s.freeQueue)
                    && Arrays.equals(refCounts, s.refCounts) && cached.equals(s.cached);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(freeQueue);
        }

        @Override
        public String toString() {
            return "Snapshot[queue=" + Arrays.toString(freeQueue) + ", refs=" + Arrays.toString(refCounts)
                    + ", cached=" + cached + "]";
        }
    }
}
