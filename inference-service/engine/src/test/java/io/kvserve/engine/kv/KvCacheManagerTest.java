package io.kvserve.engine.kv;

import static org.assertj.core.api.Assertions.assertThat;

import io.kvserve.common.kvcache.BlockHash;
import io.kvserve.common.kvcache.BlockHasher;
import io.kvserve.engine.kv.AllocationResult.Allocated;
import io.kvserve.engine.kv.AllocationResult.NoFreeBlocks;
import io.kvserve.engine.kv.KvEvent.BlockRemoved;
import io.kvserve.engine.kv.KvEvent.BlockStored;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class KvCacheManagerTest {

    private static final int BLOCK_SIZE = 4;
    private static final byte[] TENANT_A = salt(1);
    private static final byte[] TENANT_B = salt(2);

    private final BlockHasher hasher = new BlockHasher(BLOCK_SIZE);
    private final RecordingListener events = new RecordingListener();
    private final BlockPool pool = new BlockPool(16, true, events);
    private final KvCacheManager manager = new KvCacheManager(pool, BLOCK_SIZE);
    private final Set<String> live = new HashSet<>();

    @AfterEach
    void invariantsHold() {
        KvInvariants.check(manager, live);
    }

    @Test
    void allocateSlots_sharedCachedPrefix_reusesPrefixBlocksAndAllocatesOnlySuffix() {
        int[] first = tokens(14, 1);
        int[] second = first.clone();
        second[13] = 999; // same 3 full blocks, different tail
        Allocated a = allocate("a", first, TENANT_A);
        assertThat(a.numCachedTokens()).isZero();
        assertThat(a.newBlockIds()).hasSize(4);

        Allocated b = allocate("b", second, TENANT_A);

        assertThat(b.numCachedTokens()).isEqualTo(12);
        assertThat(Arrays.copyOf(manager.blockTable("b"), 3)).containsExactly(Arrays.copyOf(manager.blockTable("a"), 3));
        assertThat(b.newBlockIds()).hasSize(1).doesNotContain(manager.blockTable("a"));
        assertThat(manager.blockTable("b")).endsWith(b.newBlockIds()[0]);
        Arrays.stream(manager.blockTable("a"), 0, 3).forEach(id -> assertThat(pool.refCount(id)).isEqualTo(2));
        assertThat(manager.prefixCacheQueries()).isEqualTo(28);
        assertThat(manager.prefixCacheHits()).isEqualTo(12);
    }

    @Test
    void allocateSlots_firstChunkOfAChunkedPrompt_countsTheWholePromptAsQueried() {
        int[] prompt = tokens(20, 1);
        allocate("a", Arrays.copyOf(prompt, 13), TENANT_A); // caches blocks 0..2
        long queries = manager.prefixCacheQueries();
        long hits = manager.prefixCacheHits();

        // "b" asks for 20 tokens; its first call carries the 12 cached ones and a chunk of 4
        AllocationResult result = manager.allocateSlots("b", 16, hasher.hashChain(TENANT_A, prompt, prompt.length), 20);
        live.add("b");

        assertThat(result).isInstanceOf(Allocated.class);
        assertThat(((Allocated) result).numCachedTokens()).isEqualTo(12);
        assertThat(manager.prefixCacheQueries() - queries).as("the whole prompt, not hit + chunk").isEqualTo(20);
        assertThat(manager.prefixCacheHits() - hits).isEqualTo(12);
        manager.allocateSlots("b", 4, hasher.hashChain(TENANT_A, prompt, prompt.length), 20);
        assertThat(manager.prefixCacheQueries() - queries).as("later chunks query nothing").isEqualTo(20);
    }

    @Test
    void allocateSlots_prefixOfAFinishedRequest_revivesItsFreeBlocks() {
        int[] prompt = tokens(9, 2);
        allocate("a", prompt, TENANT_A);
        int[] tableA = manager.blockTable("a");
        free("a");
        Allocated b = allocate("b", prompt, TENANT_A);
        assertThat(b.numCachedTokens()).isEqualTo(8);
        assertThat(Arrays.copyOf(manager.blockTable("b"), 2)).containsExactly(Arrays.copyOf(tableA, 2));
    }

    @Test
    void allocateSlots_wholePromptCached_stillComputesTheLastBlock() {
        int[] prompt = tokens(12, 3);
        allocate("a", prompt, TENANT_A);
        Allocated b = allocate("b", prompt, TENANT_A);
        assertThat(b.numCachedTokens()).as("(12 - 1) / 4 = 2 blocks at most").isEqualTo(8);
        assertThat(b.newBlockIds()).hasSize(1);
    }

    @Test
    void allocateSlots_sameTokensOtherTenant_sharesNoBlock() {
        int[] prompt = tokens(16, 4);
        allocate("a", prompt, TENANT_A);
        Allocated b = allocate("b", prompt, TENANT_B);
        assertThat(b.numCachedTokens()).isZero();
        assertThat(manager.blockTable("b")).doesNotContain(manager.blockTable("a"));
        assertThat(manager.findCachedPrefix(hasher.hashChain(TENANT_B, prompt, 16)).numBlocks()).isEqualTo(4);
        assertThat(manager.findCachedPrefix(hasher.hashChain(salt(3), prompt, 16)).numBlocks()).isZero();
    }

    @Test
    void allocateSlots_poolExhausted_noFreeBlocksAndStateUnchanged() {
        allocate("a", tokens(40, 5), TENANT_A); // 10 of 16 blocks
        var before = KvInvariants.Snapshot.of(pool);
        events.drain();
        long queries = manager.prefixCacheQueries();

        int[] big = tokens(28, 6);
        AllocationResult result = manager.allocateSlots("b", 28, hasher.hashChain(TENANT_A, big, 28));

        assertThat(result).isEqualTo(new NoFreeBlocks(7, 6));
        assertThat(KvInvariants.Snapshot.of(pool)).isEqualTo(before);
        assertThat(manager.blockTable("b")).isEmpty();
        assertThat(manager.prefixCacheQueries()).isEqualTo(queries);
        assertThat(events.drain()).isEmpty();
    }

    @Test
    void allocateSlots_revivedHitBlocksAreNotCountedAsFree() {
        int[] prompt = tokens(64, 7); // all 16 blocks
        allocate("a", prompt, TENANT_A);
        free("a");
        // b hits all 16 cached blocks, which are free: they leave the free queue, so none is left for its 2 more
        int[] longer = IntStream.concat(IntStream.of(prompt), IntStream.range(0, 8)).toArray();
        AllocationResult result = manager.allocateSlots("b", 72, hasher.hashChain(TENANT_A, longer, 72));
        assertThat(result).isEqualTo(new NoFreeBlocks(2, 0));
    }

    @Test
    void free_releasesTailFirst_soTheTailIsEvictedBeforeThePrefix() {
        int[] prompt = tokens(16, 8);
        allocate("a", prompt, TENANT_A);
        int[] table = manager.blockTable("a");
        List<BlockHash> chain = hasher.hashChain(TENANT_A, prompt, 16);
        free("a");
        assertThat(pool.freeQueueBlockIds()).endsWith(IntStream.range(0, table.length)
                .map(i -> table[table.length - 1 - i]).toArray());
        events.drain();

        allocate("c", tokens(4 * 13, 9), TENANT_B); // 13 blocks: the 12 never-used ones, then a's last block
        assertThat(events.drain()).filteredOn(BlockRemoved.class::isInstance).containsExactly(new BlockRemoved(chain.get(3)));
        assertThat(manager.findCachedPrefix(chain).numBlocks()).isEqualTo(3);
    }

    @Test
    void allocateSlots_decodeOneTokenAtATime_newBlockEveryBlockSizeTokensAndFullBlocksCached() {
        List<Integer> tokens = new ArrayList<>(List.of(1, 2, 3));
        allocate("a", tokens.stream().mapToInt(i -> i).toArray(), TENANT_A);
        events.drain();
        for (int step = 0; step < 9; step++) {
            tokens.add(100 + step);
            int[] ids = tokens.stream().mapToInt(i -> i).toArray();
            List<BlockHash> chain = hasher.hashChain(TENANT_A, ids, ids.length);
            Allocated r = (Allocated) manager.allocateSlots("a", 1, chain);
            int n = ids.length;
            assertThat(r.newBlockIds()).as("token %d", n).hasSize(n % BLOCK_SIZE == 1 ? 1 : 0);
            List<KvEvent> stored = events.drain();
            if (n % BLOCK_SIZE == 0) {
                int block = n / BLOCK_SIZE - 1;
                Optional<BlockHash> parent = block == 0 ? Optional.empty() : Optional.of(chain.get(block - 1));
                assertThat(stored).containsExactly(new BlockStored(chain.get(block), parent, BLOCK_SIZE));
            } else {
                assertThat(stored).isEmpty();
            }
        }
        assertThat(manager.numTokens("a")).isEqualTo(12);
        assertThat(manager.blockTable("a")).hasSize(3);
    }

    @Test
    void uncacheUnwritten_afterAFailedStep_dropsTheBlocksThatStepWasToWriteAndKeepsTheRest() {
        int[] prompt = tokens(12, 11);
        List<BlockHash> chain = hasher.hashChain(TENANT_A, prompt, prompt.length);
        manager.allocateSlots("a", 6, chain);     // step 1 writes tokens 0..5: block 0 full, cached
        manager.allocateSlots("a", 6, chain);     // step 2, to write 6..11, caches blocks 1 and 2, then fails
        live.add("a");
        int[] table = manager.blockTable("a");
        events.drain();

        manager.uncacheUnwritten("a", 6);

        assertThat(events.drain()).containsExactly(new BlockRemoved(chain.get(1)), new BlockRemoved(chain.get(2)));
        assertThat(pool.hash(table[0])).contains(chain.get(0));
        KvInvariants.check(manager, live);
        free("a");
        assertThat(manager.findCachedPrefix(chain).blockIds()).containsExactly(table[0]);
        Allocated b = allocate("b", prompt, TENANT_A);
        assertThat(b.numCachedTokens()).as("only the written block is hit").isEqualTo(BLOCK_SIZE);
    }

    @Test
    void uncacheUnwritten_unknownRequest_changesNothing() {
        manager.uncacheUnwritten("nobody", 0);
        assertThat(events.drain()).isEmpty();
    }

    @Test
    void slot_followsTheBlockTable() {
        allocate("a", tokens(10, 10), TENANT_A);
        int[] table = manager.blockTable("a");
        for (int p = 0; p < 10; p++) {
            assertThat(manager.slot("a", p)).isEqualTo(table[p / 4] * 4 + p % 4);
        }
        assertThat(KvCacheManager.blockIndex(9, 4)).isEqualTo(2);
        assertThat(KvCacheManager.blockOffset(9, 4)).isEqualTo(1);
    }

    @Test
    void free_unknownRequest_false() {
        assertThat(manager.free("nobody")).isFalse();
    }

    private Allocated allocate(String requestId, int[] prompt, byte[] salt) {
        AllocationResult result = manager.allocateSlots(requestId, prompt.length,
                hasher.hashChain(salt, prompt, prompt.length));
        assertThat(result).isInstanceOf(Allocated.class);
        live.add(requestId);
        KvInvariants.check(manager, live);
        return (Allocated) result;
    }

    private void free(String requestId) {
        assertThat(manager.free(requestId)).isTrue();
        live.remove(requestId);
        KvInvariants.check(manager, live);
    }

    private static int[] tokens(int n, long seed) {
        return new Random(seed).ints(n, 0, 32_000).toArray();
    }

    private static byte[] salt(int seed) {
        byte[] s = new byte[32];
        new Random(seed).nextBytes(s);
        return s;
    }
}
