package io.kvserve.engine.kv;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kvserve.common.kvcache.BlockHash;
import io.kvserve.engine.kv.KvEvent.AllCleared;
import io.kvserve.engine.kv.KvEvent.BlockRemoved;
import io.kvserve.engine.kv.KvEvent.BlockStored;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class BlockPoolTest {

    private final RecordingListener events = new RecordingListener();
    private final BlockPool pool = new BlockPool(6, true, events);

    @AfterEach
    void invariantsHold() {
        KvInvariants.check(pool);
    }

    @Test
    void allocate_freshPool_takesBlocksInIdOrderWithRefCountOne() {
        assertThat(pool.allocate(3)).hasValueSatisfying(ids -> assertThat(ids).containsExactly(0, 1, 2));
        assertThat(pool.numFreeBlocks()).isEqualTo(3);
        assertThat(pool.refCount(1)).isEqualTo(1);
        assertThat(pool.freeQueueBlockIds()).containsExactly(3, 4, 5);
        assertThat(pool.usage()).isEqualTo(0.5);
    }

    @Test
    void allocate_moreThanFree_emptyAndNothingChanged() {
        pool.allocate(4);
        var before = KvInvariants.Snapshot.of(pool);
        assertThat(pool.allocate(3)).isEmpty();
        assertThat(KvInvariants.Snapshot.of(pool)).isEqualTo(before);
        assertThat(events.drain()).isEmpty();
    }

    @Test
    void free_toZero_appendsToTailInFreeOrder() {
        pool.allocate(6);
        pool.free(4, 1, 5);
        assertThat(pool.freeQueueBlockIds()).containsExactly(4, 1, 5);
        assertThat(pool.allocate(2)).hasValueSatisfying(ids -> assertThat(ids).containsExactly(4, 1));
    }

    @Test
    void free_sharedBlock_staysInUseUntilLastReference() {
        int id = pool.allocate(1).orElseThrow()[0];
        pool.touch(id);
        pool.free(id);
        assertThat(pool.refCount(id)).isEqualTo(1);
        assertThat(pool.freeQueueBlockIds()).doesNotContain(id);
        pool.free(id);
        assertThat(pool.freeQueueBlockIds()).endsWith(id);
    }

    @Test
    void free_alreadyFree_isABug() {
        assertThatThrownBy(() -> pool.free(2)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("already free");
        assertThatThrownBy(() -> pool.free(6)).isInstanceOf(IndexOutOfBoundsException.class);
    }

    @Test
    void touch_cachedFreeBlock_revivedFromTheMiddleOfTheQueue() {
        int[] ids = pool.allocate(6).orElseThrow();
        pool.cacheFullBlock(ids[2], hash(2), Optional.empty(), 16);
        pool.free(ids);
        assertThat(pool.freeQueueBlockIds()).containsExactly(0, 1, 2, 3, 4, 5);
        assertThat(pool.cachedBlockId(hash(2))).hasValue(2);
        pool.touch(2);
        assertThat(pool.refCount(2)).isEqualTo(1);
        assertThat(pool.freeQueueBlockIds()).containsExactly(0, 1, 3, 4, 5);
        assertThat(pool.hash(2)).contains(hash(2));
    }

    @Test
    void cacheFullBlock_emitsBlockStoredAndFreedBlockKeepsItsHash() {
        int id = pool.allocate(1).orElseThrow()[0];
        assertThat(pool.cacheFullBlock(id, hash(7), Optional.of(hash(6)), 16)).isTrue();
        assertThat(events.drain()).containsExactly(new BlockStored(hash(7), Optional.of(hash(6)), 16));
        pool.free(id);
        assertThat(pool.cachedBlockId(hash(7))).hasValue(id);
        assertThat(events.drain()).isEmpty();
    }

    @Test
    void cacheFullBlock_hashHeldByAnotherBlock_leavesSecondBlockUncached() {
        int[] ids = pool.allocate(2).orElseThrow();
        pool.cacheFullBlock(ids[0], hash(1), Optional.empty(), 16);
        events.drain();
        assertThat(pool.cacheFullBlock(ids[1], hash(1), Optional.empty(), 16)).isFalse();
        assertThat(pool.hash(ids[1])).isEmpty();
        assertThat(pool.cachedBlockId(hash(1))).hasValue(ids[0]);
        assertThat(pool.cacheFullBlock(ids[0], hash(1), Optional.empty(), 16)).as("same hash again").isFalse();
        assertThat(events.drain()).isEmpty();
    }

    @Test
    void cacheFullBlock_freeBlock_isABug() {
        assertThatThrownBy(() -> pool.cacheFullBlock(0, hash(1), Optional.empty(), 16))
                .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void allocate_evictsLeastRecentlyFreedCachedBlocksAndEmitsExactlyTheirHashes() {
        int[] ids = pool.allocate(6).orElseThrow();
        for (int id : ids) {
            pool.cacheFullBlock(id, hash(id), Optional.empty(), 16);
        }
        events.drain();
        pool.free(3, 0, 5, 1, 2, 4);
        pool.touch(0); // a prefix hit revives block 0: it must not be evicted
        assertThat(pool.allocate(3)).hasValueSatisfying(got -> assertThat(got).containsExactly(3, 5, 1));
        assertThat(events.drain()).containsExactly(
                new BlockRemoved(hash(3)), new BlockRemoved(hash(5)), new BlockRemoved(hash(1)));
        assertThat(pool.cachedBlockIds()).containsOnlyKeys(hash(0), hash(2), hash(4));
        assertThat(pool.hash(3)).isEmpty();
    }

    @Test
    void reset_allFree_dropsEveryHashAndEmitsAllCleared() {
        int[] ids = pool.allocate(2).orElseThrow();
        pool.cacheFullBlock(ids[0], hash(1), Optional.empty(), 16);
        pool.free(ids);
        events.drain();
        assertThat(pool.reset()).isTrue();
        assertThat(pool.cachedBlockIds()).isEmpty();
        assertThat(events.drain()).containsExactly(new AllCleared());
    }

    @Test
    void reset_blocksInUse_refusedAndNothingChanged() {
        int[] ids = pool.allocate(2).orElseThrow();
        pool.cacheFullBlock(ids[0], hash(1), Optional.empty(), 16);
        events.drain();
        assertThat(pool.reset()).isFalse();
        assertThat(pool.cachedBlockId(hash(1))).isPresent();
        assertThat(events.drain()).isEmpty();
        pool.free(ids);
    }

    @Test
    void cacheFullBlock_prefixCachingOff_cachesNothing() {
        BlockPool off = new BlockPool(2, false, events);
        int id = off.allocate(1).orElseThrow()[0];
        assertThat(off.cacheFullBlock(id, hash(1), Optional.empty(), 16)).isFalse();
        assertThat(off.cachedBlockId(hash(1))).isEmpty();
        assertThat(events.drain()).isEmpty();
        KvInvariants.check(off);
    }

    static BlockHash hash(int i) {
        return new BlockHash(0x5eed, i);
    }

    @Test
    void reannounce_chainCachedChildFirst_allClearedThenParentsBeforeChildrenAndNothingChanged() {
        BlockHash h0 = new BlockHash(0, 10);
        BlockHash h1 = new BlockHash(0, 11);
        BlockHash h2 = new BlockHash(0, 12);
        BlockHash other = new BlockHash(0, 20);
        int[] ids = pool.allocate(4).orElseThrow();
        // ids 0..3: the chain is cached on 2 (h0), 0 (h1), 3 (h2); 1 holds an unrelated root
        pool.cacheFullBlock(ids[2], h0, Optional.empty(), 16);
        pool.cacheFullBlock(ids[0], h1, Optional.of(h0), 16);
        pool.cacheFullBlock(ids[3], h2, Optional.of(h1), 16);
        pool.cacheFullBlock(ids[1], other, Optional.empty(), 16);
        pool.free(ids[3], ids[0]);
        events.drain();
        var before = KvInvariants.Snapshot.of(pool);

        pool.reannounce();

        assertThat(events.drain()).containsExactly(new AllCleared(),
                new BlockStored(h0, Optional.empty(), 16), new BlockStored(h1, Optional.of(h0), 16),
                new BlockStored(other, Optional.empty(), 16), new BlockStored(h2, Optional.of(h1), 16));
        assertThat(KvInvariants.Snapshot.of(pool)).isEqualTo(before);
    }

    @Test
    void reannounce_parentEvicted_childStillAnnouncedWithItsParentHash() {
        BlockHash h0 = new BlockHash(0, 10);
        BlockHash h1 = new BlockHash(0, 11);
        int[] ids = pool.allocate(2).orElseThrow();
        pool.cacheFullBlock(ids[0], h0, Optional.empty(), 16);
        pool.cacheFullBlock(ids[1], h1, Optional.of(h0), 16);
        pool.free(ids[0]); // block 0 is evicted by the next allocation, block 1 stays in use
        pool.allocate(5);
        events.drain();

        pool.reannounce();

        assertThat(events.drain()).containsExactly(new AllCleared(), new BlockStored(h1, Optional.of(h0), 16));
    }

    @Test
    void reannounce_emptyCache_onlyAllCleared() {
        pool.reannounce();
        assertThat(events.drain()).containsExactly(new AllCleared());
    }
}
