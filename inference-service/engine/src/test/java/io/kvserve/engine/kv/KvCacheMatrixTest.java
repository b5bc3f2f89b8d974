package io.kvserve.engine.kv;

import static org.assertj.core.api.Assertions.assertThat;

import io.kvserve.common.kvcache.BlockHash;
import io.kvserve.common.kvcache.BlockHasher;
import io.kvserve.engine.kv.AllocationResult.Allocated;
import io.kvserve.engine.kv.AllocationResult.NoFreeBlocks;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every KV behaviour across a matrix of configurations, as Caffeine's {@code @CacheSpec} does: block
 * sizes 1, 4, 16 x prefix caching on/off x a small and a large pool. The random-operation test
 * checks each step against the state before it (LRU eviction order, exactly the evicted hashes
 * reported, NoFreeBlocks changing nothing) and the invariants after it.
 */
class KvCacheMatrixTest {

    /** One configuration of the matrix. */
    record KvSpec(int blockSize, boolean prefixCaching, int numBlocks) {
        @Override
        public String toString() {
            return "blockSize=" + blockSize + ", prefixCaching=" + prefixCaching + ", numBlocks=" + numBlocks;
        }
    }

    static Stream<KvSpec> specs() {
        List<KvSpec> specs = new ArrayList<>();
        for (int blockSize : new int[] {1, 4, 16}) {
            for (boolean prefixCaching : new boolean[] {true, false}) {
                for (int numBlocks : new int[] {8, 256}) {
                    specs.add(new KvSpec(blockSize, prefixCaching, numBlocks));
                }
            }
        }
        return specs.stream();
    }

    private static final byte[][] TENANT_SALTS = {salt(1), salt(2)};

    @ParameterizedTest(name = "{0}")
    @MethodSource("specs")
    void randomOperations_everyStepMatchesTheSpecAndInvariantsHold(KvSpec spec) {
        for (long seed = 1; seed <= 4; seed++) {
            new RandomRun(spec, seed).run(400);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("specs")
    void sharedPrefix_reusedIffPrefixCaching(KvSpec spec) {
        int bs = spec.blockSize();
        BlockHasher hasher = new BlockHasher(bs);
        RecordingListener events = new RecordingListener();
        KvCacheManager manager = new KvCacheManager(new BlockPool(spec.numBlocks(), spec.prefixCaching(), events), bs);
        int[] first = new Random(3).ints(2 * bs + 1, 0, 1000).toArray();
        int[] second = first.clone();
        second[2 * bs] = 1001;

        var a = (Allocated) manager.allocateSlots("a", first.length, hasher.hashChain(TENANT_SALTS[0], first, first.length));
        var b = (Allocated) manager.allocateSlots("b", second.length, hasher.hashChain(TENANT_SALTS[0], second, second.length));

        assertThat(a.newBlockIds()).hasSize(3);
        if (spec.prefixCaching()) {
            assertThat(b.numCachedTokens()).isEqualTo(2 * bs);
            assertThat(b.newBlockIds()).hasSize(1);
            assertThat(Arrays.copyOf(manager.blockTable("b"), 2)).containsExactly(Arrays.copyOf(manager.blockTable("a"), 2));
            assertThat(manager.prefixCacheHits()).isEqualTo(2L * bs);
        } else {
            assertThat(b.numCachedTokens()).isZero();
            assertThat(b.newBlockIds()).hasSize(3);
            assertThat(manager.prefixCacheHits()).isZero();
            assertThat(events.drain()).isEmpty();
        }
        manager.free("b"); // room for c in the small pool with caching off
        var c = (Allocated) manager.allocateSlots("c", second.length, hasher.hashChain(TENANT_SALTS[1], second, second.length));
        assertThat(c.numCachedTokens()).as("other tenant").isZero();
        assertThat(manager.blockTable("c")).doesNotContain(manager.blockTable("a"));
        KvInvariants.check(manager, List.of("a", "c"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("specs")
    void exhaustedPool_noFreeBlocksChangesNothingAndFreeingRestoresAll(KvSpec spec) {
        int bs = spec.blockSize();
        BlockHasher hasher = new BlockHasher(bs);
        BlockPool pool = new BlockPool(spec.numBlocks(), spec.prefixCaching(), KvEventListener.NONE);
        KvCacheManager manager = new KvCacheManager(pool, bs);
        Random random = new Random(5);
        List<String> live = new ArrayList<>();
        for (int i = 0; ; i++) {
            int[] prompt = random.ints(3 * bs, 0, 1000).toArray();
            prompt[0] = 1_000_000 + i; // no two prompts share a prefix
            var before = KvInvariants.Snapshot.of(pool);
            AllocationResult r = manager.allocateSlots("r" + i, prompt.length, hasher.hashChain(TENANT_SALTS[0], prompt, prompt.length));
            if (r instanceof NoFreeBlocks(int needed, int available)) {
                assertThat(needed).isGreaterThan(available);
                assertThat(available).isEqualTo(pool.numFreeBlocks());
                assertThat(KvInvariants.Snapshot.of(pool)).isEqualTo(before);
                KvInvariants.check(manager, live);
                break;
            }
            live.add("r" + i);
            KvInvariants.check(manager, live);
        }
        assertThat(live).hasSize(spec.numBlocks() / 3);
        live.forEach(manager::free);
        KvInvariants.check(manager, List.of());
        assertThat(pool.numFreeBlocks()).isEqualTo(spec.numBlocks());
        assertThat(pool.reset()).isTrue();
        assertThat(pool.numCachedBlocks()).isZero();
    }

    /** A seeded random sequence of start/decode/free operations, each checked against the state before it. */
    private static final class RandomRun {
        private final KvSpec spec;
        private final Random random;
        private final BlockHasher hasher;
        private final RecordingListener events = new RecordingListener();
        private final BlockPool pool;
        private final KvCacheManager manager;
        private final int[][] families;                               // shared prompt prefixes
        private final Map<String, List<Integer>> tokensByRequest = new LinkedHashMap<>();
        private final Map<String, Integer> tenantByRequest = new HashMap<>();
        private int nextRequest;

        RandomRun(KvSpec spec, long seed) {
            this.spec = spec;
            this.random = new Random(seed);
            this.hasher = new BlockHasher(spec.blockSize());
            this.pool = new BlockPool(spec.numBlocks(), spec.prefixCaching(), events);
            this.manager = new KvCacheManager(pool, spec.blockSize());
            this.families = new int[3][];
            for (int f = 0; f < 3; f++) {
                families[f] = random.ints(6 * spec.blockSize(), 0, 1000).toArray();
            }
        }

        void run(int numOperations) {
            for (int op = 0; op < numOperations; op++) {
                double r = random.nextDouble();
                if (tokensByRequest.isEmpty() || r < 0.4) {
                    start();
                } else if (r < 0.75) {
                    decode();
                } else {
                    free();
                }
                KvInvariants.check(manager, tokensByRequest.keySet());
                checkTenantsShareNoBlock();
            }
        }

        private void start() {
            int bs = spec.blockSize();
            int[] family = families[random.nextInt(families.length)];
            int prefixLength = random.nextInt(family.length + 1);
            int[] tokens = IntStream.concat(Arrays.stream(family, 0, prefixLength),
                    random.ints(1 + random.nextInt(2 * bs), 0, 1000)).toArray();
            int tenant = random.nextInt(TENANT_SALTS.length);
            List<BlockHash> chain = hasher.hashChain(TENANT_SALTS[tenant], tokens, tokens.length);
            var before = KvInvariants.Snapshot.of(pool);

            List<Integer> expectedHit = new ArrayList<>();
            if (spec.prefixCaching()) {
                for (int i = 0; i < Math.min(chain.size(), (tokens.length - 1) / bs); i++) {
                    Integer id = before.cached().get(chain.get(i));
                    if (id == null) {
                        break;
                    }
                    expectedHit.add(id);
                }
            }
            List<Integer> revived = expectedHit.stream().filter(id -> before.refCounts()[id] == 0).toList();
            int needed = (tokens.length + bs - 1) / bs - expectedHit.size();
            String requestId = "r" + nextRequest++;

            AllocationResult result = manager.allocateSlots(requestId, tokens.length, chain);

            if (needed > before.freeQueue().length - revived.size()) {
                assertThat(result).isEqualTo(new NoFreeBlocks(needed, before.freeQueue().length - revived.size()));
                assertThat(KvInvariants.Snapshot.of(pool)).isEqualTo(before);
                assertThat(events.drain()).isEmpty();
                return;
            }
            Allocated allocated = (Allocated) result;
            assertThat(allocated.numCachedTokens()).isEqualTo(expectedHit.size() * bs);
            List<Integer> expectedNew = Arrays.stream(before.freeQueue()).boxed()
                    .filter(id -> !revived.contains(id)).limit(needed).toList();
            assertThat(boxed(allocated.newBlockIds())).as("LRU: taken from the head of the free queue").isEqualTo(expectedNew);
            List<Integer> table = new ArrayList<>(expectedHit);
            table.addAll(expectedNew);
            assertThat(boxed(manager.blockTable(requestId))).isEqualTo(table);
            checkEvictionEvents(before, expectedNew);
            record(requestId, tokens, tenant);
        }

        private void decode() {
            String requestId = pick();
            List<Integer> tokens = tokensByRequest.get(requestId);
            tokens.add(random.nextInt(1000));
            int[] ids = tokens.stream().mapToInt(i -> i).toArray();
            List<BlockHash> chain = hasher.hashChain(TENANT_SALTS[tenantByRequest.get(requestId)], ids, ids.length);
            var before = KvInvariants.Snapshot.of(pool);
            int[] tableBefore = manager.blockTable(requestId);
            int needed = ids.length % spec.blockSize() == 1 || spec.blockSize() == 1 ? 1 : 0;

            AllocationResult result = manager.allocateSlots(requestId, 1, chain);

            if (needed > before.freeQueue().length) {
                assertThat(result).isEqualTo(new NoFreeBlocks(1, 0));
                assertThat(KvInvariants.Snapshot.of(pool)).isEqualTo(before);
                assertThat(manager.blockTable(requestId)).containsExactly(tableBefore);
                tokens.removeLast(); // the step did not run
                return;
            }
            List<Integer> expectedNew = Arrays.stream(before.freeQueue()).boxed().limit(needed).toList();
            assertThat(boxed(((Allocated) result).newBlockIds())).isEqualTo(expectedNew);
            checkEvictionEvents(before, expectedNew);
        }

        private void free() {
            String requestId = pick();
            List<Integer> table = boxed(manager.blockTable(requestId));
            var before = KvInvariants.Snapshot.of(pool);
            assertThat(manager.free(requestId)).isTrue();
            tokensByRequest.remove(requestId);
            tenantByRequest.remove(requestId);
            List<Integer> expectedQueue = new ArrayList<>(Arrays.stream(before.freeQueue()).boxed().toList());
            table.reversed().stream().filter(id -> before.refCounts()[id] == 1).forEach(expectedQueue::add);
            assertThat(pool.freeQueueBlockIds()).as("freed blocks appended tail-first")
                    .containsExactly(expectedQueue.stream().mapToInt(i -> i).toArray());
            assertThat(events.drain()).as("freeing evicts nothing").isEmpty();
        }

        /** BlockRemoved for exactly the hashes the newly allocated blocks held, and every BlockStored is cached. */
        private void checkEvictionEvents(KvInvariants.Snapshot before, List<Integer> newBlockIds) {
            Map<Integer, BlockHash> hashById = new HashMap<>();
            before.cached().forEach((h, id) -> hashById.put(id, h));
            List<KvEvent> expectedRemoved = newBlockIds.stream().filter(hashById::containsKey)
                    .map(id -> (KvEvent) new KvEvent.BlockRemoved(hashById.get(id))).toList();
            List<KvEvent> emitted = events.drain();
            assertThat(emitted).filteredOn(KvEvent.BlockRemoved.class::isInstance).containsExactlyElementsOf(expectedRemoved);
            emitted.stream().filter(KvEvent.BlockStored.class::isInstance).map(e -> ((KvEvent.BlockStored) e).hash())
                    .forEach(h -> assertThat(pool.cachedBlockId(h)).as("stored %s is cached", h).isPresent());
        }

        private void checkTenantsShareNoBlock() {
            Map<Integer, Integer> tenantByBlock = new HashMap<>();
            for (String requestId : tokensByRequest.keySet()) {
                int tenant = tenantByRequest.get(requestId);
                for (int id : manager.blockTable(requestId)) {
                    Integer other = tenantByBlock.putIfAbsent(id, tenant);
                    assertThat(other == null || other == tenant).as("block %d shared across tenants", id).isTrue();
                }
            }
        }

        private void record(String requestId, int[] tokens, int tenant) {
            tokensByRequest.put(requestId, new ArrayList<>(Arrays.stream(tokens).boxed().toList()));
            tenantByRequest.put(requestId, tenant);
        }

        private String pick() {
            List<String> ids = new ArrayList<>(tokensByRequest.keySet());
            return ids.get(random.nextInt(ids.size()));
        }
    }

    private static List<Integer> boxed(int[] blockIds) {
        return Arrays.stream(blockIds).boxed().toList();
    }

    private static byte[] salt(int seed) {
        byte[] s = new byte[32];
        new Random(seed).nextBytes(s);
        return s;
    }
}
