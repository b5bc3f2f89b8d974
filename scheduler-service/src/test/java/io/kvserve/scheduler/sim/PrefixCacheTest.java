package io.kvserve.scheduler.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class PrefixCacheTest {

    private PrefixCache cache;

    /** Stores, computes and releases a prompt (one finished request). */
    private static void serve(PrefixCache cache, long... hashes) {
        assertTrue(cache.allocate(hashes, 0) >= 0);
        for (long h : hashes) {
            cache.markComputed(h);
        }
        cache.release(hashes, 0);
    }

    @AfterEach
    void invariants() {
        if (cache != null) {
            assertTrue(cache.numCachedBlocks() <= cache.capacityBlocks());
            assertTrue(cache.numUsedBlocks() >= 0 && cache.numUsedBlocks() <= cache.capacityBlocks());
        }
    }

    @Test
    void numLeadingHits_prefixThenMiss_countsLeadingBlocksOnly() {
        cache = new PrefixCache(16);
        serve(cache, 1, 2, 3);
        assertEquals(3, cache.numLeadingHits(new long[] {1, 2, 3, 4}));
        assertEquals(2, cache.numLeadingHits(new long[] {1, 2, 9, 3}));
        assertEquals(0, cache.numLeadingHits(new long[] {9, 1, 2, 3}));
    }

    @Test
    void numLeadingHits_blocksNotYetComputed_areNoHits() {
        cache = new PrefixCache(16);
        long[] prompt = {1, 2, 3};
        assertEquals(0, cache.allocate(prompt, 1));
        cache.markComputed(1);
        assertEquals(1, cache.numLeadingHits(prompt));
        cache.release(prompt, 1);
        assertEquals(1, cache.numLeadingHits(prompt));
        assertEquals(0, cache.numUsedBlocks());
    }

    @Test
    void allocate_full_evictsLeastRecentlyReleasedFirst() {
        cache = new PrefixCache(4);
        serve(cache, 1, 2);
        serve(cache, 3, 4);
        serve(cache, 5);
        assertFalse(cache.contains(1));
        assertTrue(cache.contains(2) && cache.contains(3) && cache.contains(4) && cache.contains(5));
        // block 2 is still cached but its chain lost block 1: no hit
        assertEquals(0, cache.numLeadingHits(new long[] {1, 2}));
        assertEquals(1, cache.numEvictions());
    }

    @Test
    void allocate_hitOnReleasedBlocks_refreshesTheirRecency() {
        cache = new PrefixCache(4);
        serve(cache, 1, 2);
        serve(cache, 3, 4);
        assertEquals(2, cache.allocate(new long[] {1, 2}, 0));
        cache.release(new long[] {1, 2}, 0);
        serve(cache, 5, 6);
        assertTrue(cache.contains(1) && cache.contains(2));
        assertFalse(cache.contains(3) || cache.contains(4));
    }

    @Test
    void allocate_pinnedBlocks_areNeverEvicted() {
        cache = new PrefixCache(4);
        long[] running = {1, 2};
        cache.allocate(running, 0);
        serve(cache, 3, 4);
        assertEquals(-1, cache.allocate(new long[] {5, 6, 7}, 0), "3 new blocks, only 2 evictable");
        assertTrue(cache.contains(3) && cache.contains(4), "a refused allocation changes nothing");
        assertEquals(0, cache.allocate(new long[] {5}, 1));
        assertTrue(cache.contains(1) && cache.contains(2));
        assertFalse(cache.contains(3) || cache.contains(4));
        assertEquals(4, cache.numUsedBlocks());
        assertEquals(1.0, cache.usage());
    }

    @Test
    void allocate_sharedPinnedPrefix_needsRoomForTheNewBlocksOnly() {
        cache = new PrefixCache(4);
        cache.allocate(new long[] {1, 2}, 0);
        cache.markComputed(1);
        cache.markComputed(2);
        assertEquals(2, cache.allocate(new long[] {1, 2, 3}, 1), "two hits on pinned blocks, two new blocks fit");
        cache.release(new long[] {1, 2}, 0);
        assertEquals(4, cache.numUsedBlocks(), "1 and 2 stay pinned by the second request");
    }

    @Test
    void release_notPinned_isABug() {
        cache = new PrefixCache(4);
        assertThrows(IllegalStateException.class, () -> cache.release(new long[] {1}, 0));
    }
}
