package io.kvserve.kvshare.index;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kvserve.common.events.KvEventEntry;
import io.kvserve.common.events.KvStreamEvent;
import io.kvserve.common.kvcache.BlockHash;
import io.kvserve.kvshare.index.ApplyResult.Status;
import io.kvserve.testsupport.redis.RealRedis;
import io.kvserve.testsupport.redis.RedisEndpoint;
import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.RedisClient;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

@RealRedis
class KvIndexTest {

    private static final String EPOCH_1 = "00000000000000e1";
    private static final String EPOCH_2 = "00000000000000e2";

    private RedisClient client;
    private StatefulRedisConnection<byte[], byte[]> connection;
    private String prefix;
    private KvIndex index;
    private final Random random = new Random(42);

    @BeforeEach
    void open(RedisEndpoint endpoint, TestInfo info) {
        client = RedisClient.create(endpoint.uri());
        connection = client.connect(ByteArrayCodec.INSTANCE);
        prefix = endpoint.uniqueKeyPrefix("kvindex-" + info.getTestMethod().orElseThrow().getName());
        index = new KvIndex(connection, prefix);
    }

    @AfterEach
    void checkInvariantsAndClean() {
        try {
            assertInvariants();
        } finally {
            List<byte[]> keys = keys();
            if (!keys.isEmpty()) {
                connection.sync().del(keys.toArray(byte[][]::new));
            }
            index.close();
            connection.close();
            client.shutdown();
        }
    }

    @Test
    void stored_thenQuery_countsLeadingBlocksPerInstance() {
        List<BlockHash> chain = chain(8);
        assertThat(index.apply(entry("a", EPOCH_1, 1, stored(chain.subList(0, 8))))).isEqualTo(
                new ApplyResult(Status.APPLIED, 0, 8, 0, 0));
        index.apply(entry("b", EPOCH_1, 1, stored(chain.subList(0, 3))));

        assertThat(index.longestPrefixes(chain, List.of("a", "b", "c")))
                .containsExactly(Map.entry("a", 8), Map.entry("b", 3), Map.entry("c", 0));
        assertThat(index.numBlocks()).isEqualTo(8);
        assertThat(index.numEntries()).isEqualTo(11);
        assertThat(index.indexedInstances()).containsExactlyInAnyOrder("a", "b");
    }

    @Test
    void query_instanceHoldsLaterBlockButNotEarlier_countStopsAtFirstMiss() {
        List<BlockHash> chain = chain(6);
        index.apply(entry("a", EPOCH_1, 1, stored(List.of(chain.get(0), chain.get(1), chain.get(3), chain.get(4)))));
        index.apply(entry("b", EPOCH_1, 1, stored(chain.subList(1, 6))));

        assertThat(index.longestPrefixes(chain, List.of("a", "b"))).containsExactly(Map.entry("a", 2), Map.entry("b", 0));
        assertThat(index.longestPrefixes(chain.subList(1, 6), List.of("a", "b")))
                .containsExactly(Map.entry("a", 1), Map.entry("b", 5));
    }

    @Test
    void query_missOnBlockZero_everyCandidateZero() {
        List<BlockHash> chain = chain(4);
        index.apply(entry("a", EPOCH_1, 1, stored(chain.subList(1, 4))));

        assertThat(index.longestPrefixes(chain, List.of("a", "a", "z"))).containsExactly(Map.entry("a", 0), Map.entry("z", 0));
        assertThat(index.longestPrefixes(chain, List.of())).isEmpty();
        assertThat(index.longestPrefixes(List.of(), List.of("a"))).containsExactly(Map.entry("a", 0));
    }

    @Test
    void query_longChain_countIsExactAtEveryPhaseAndRunBoundary() {
        // 9 candidates hold block 0 (more than MAX_RUN_WALKERS = 8), so all advance together (phase 1)
        // until 5 of them stop at block 16 and 4 are left; each of those is then walked alone from
        // block 17 by runs of 16, 32, 64, ... (at most 1024) blocks: [17, 32], [33, 96], [97, 224], ...,
        // [993, 2016], [2017, 2999]
        assertThat(KvIndex.MAX_RUN_WALKERS).isEqualTo(8);
        List<BlockHash> chain = chain(3000);
        index.apply(entry("all", EPOCH_1, 1, stored(chain)));
        index.apply(entry("run1", EPOCH_1, 1, stored(chain.subList(0, 16))));
        for (String id : List.of("f1", "f2", "f3", "f4")) {
            index.apply(entry(id, EPOCH_1, 1, stored(chain.subList(0, 16))));
        }
        index.apply(entry("run1+1", EPOCH_1, 1, stored(chain.subList(0, 17))));
        index.apply(entry("hole33", EPOCH_1, 1, stored(without(chain, 33))));
        index.apply(entry("hole2500", EPOCH_1, 1, stored(without(chain, 2500))));
        index.apply(entry("noBlock0", EPOCH_1, 1, stored(chain.subList(1, 3000))));

        assertThat(index.longestPrefixes(chain, List.of("all", "run1", "run1+1", "hole33", "hole2500", "noBlock0",
                "f1", "f2", "f3", "f4")))
                .containsExactly(Map.entry("all", 3000), Map.entry("run1", 16), Map.entry("run1+1", 17),
                        Map.entry("hole33", 33), Map.entry("hole2500", 2500), Map.entry("noBlock0", 0),
                        Map.entry("f1", 16), Map.entry("f2", 16), Map.entry("f3", 16), Map.entry("f4", 16));
    }

    @Test
    void query_fewCandidates_walkedAloneFromBlockZero_exactAtRunBoundaries() {
        // at most MAX_RUN_WALKERS candidates: runs from block 0, [0, 15], [16, 47], [48, 111], [112, 239], ...
        List<BlockHash> chain = chain(300);
        index.apply(entry("all", EPOCH_1, 1, stored(chain)));
        index.apply(entry("hole15", EPOCH_1, 1, stored(without(chain, 15))));
        index.apply(entry("hole16", EPOCH_1, 1, stored(without(chain, 16))));
        index.apply(entry("hole48", EPOCH_1, 1, stored(without(chain, 48))));

        assertThat(index.longestPrefixes(chain, List.of("all", "hole15", "hole16", "hole48")))
                .containsExactly(Map.entry("all", 300), Map.entry("hole15", 15), Map.entry("hole16", 16),
                        Map.entry("hole48", 48));
        assertThat(index.longestPrefixes(chain.subList(0, 16), List.of("all", "hole16")))
                .containsExactly(Map.entry("all", 16), Map.entry("hole16", 16));
    }

    @Test
    void undrainedDrop_manyCandidates_lockstepPhaseAsksTheDroppedInstancesOwnSet() {
        // 10 candidates: the walk is in lockstep (phase 1) until "j" stops at block 3 and 8 are left
        List<BlockHash> chain = chain(40);
        List<String> ids = List.of("a", "b", "c", "d", "e", "f", "g", "h", "i", "j");
        for (String id : ids.subList(0, 9)) {
            index.apply(entry(id, EPOCH_1, 1, stored(chain)));
        }
        index.apply(entry("j", EPOCH_1, 1, stored(chain.subList(0, 3))));
        // "a" dropped everything (the drain did not run yet), then stored the first 2 blocks again
        RedisCommands<byte[], byte[]> redis = connection.sync();
        byte[] dropKey = bytes(prefix + "drop:crashed");
        redis.rename(bytes(prefix + "inst:a:blocks"), dropKey);
        redis.sadd(bytes(prefix + "inst:a:drops"), dropKey);
        redis.hset(bytes(prefix + "drops"), dropKey, bytes("a"));
        redis.sadd(bytes(prefix + "inst:a:blocks"), chain.get(0).toBytes(), chain.get(1).toBytes());

        assertThat(index.longestPrefixes(chain, ids)).containsExactly(Map.entry("a", 2), Map.entry("b", 40),
                Map.entry("c", 40), Map.entry("d", 40), Map.entry("e", 40), Map.entry("f", 40), Map.entry("g", 40),
                Map.entry("h", 40), Map.entry("i", 40), Map.entry("j", 3));
        index.drainPendingDrops();
    }

    @Test
    void longestPrefixesBatch_sameAnswersAsOneByOne() {
        List<BlockHash> chain = chain(10);
        index.apply(entry("a", EPOCH_1, 1, stored(chain)));
        index.apply(entry("b", EPOCH_1, 1, stored(chain.subList(0, 4))));
        List<List<BlockHash>> chains = List.of(chain, chain.subList(0, 5), chain(3), chain.subList(2, 10));

        List<Map<String, Integer>> batch = index.longestPrefixesBatch(chains, List.of("a", "b"));

        for (int i = 0; i < chains.size(); i++) {
            assertThat(batch.get(i)).isEqualTo(index.longestPrefixes(chains.get(i), List.of("a", "b")));
        }
        assertThat(batch.get(0)).containsExactly(Map.entry("a", 10), Map.entry("b", 4));
    }

    @Test
    void removed_deletesPairsAndEmptyKeys() {
        List<BlockHash> chain = chain(4);
        index.apply(entry("a", EPOCH_1, 1, stored(chain)));
        index.apply(entry("b", EPOCH_1, 1, stored(chain.subList(0, 2))));

        ApplyResult result = index.apply(entry("a", EPOCH_1, 2, removed(chain.subList(1, 4))));

        assertThat(result).isEqualTo(new ApplyResult(Status.APPLIED, 0, 0, 3, 0));
        assertThat(index.longestPrefixes(chain, List.of("a", "b"))).containsExactly(Map.entry("a", 1), Map.entry("b", 2));
        assertThat(index.numBlocks()).isEqualTo(2);
        assertThat(index.numEntries()).isEqualTo(3);
        assertThat(index.state("a").orElseThrow().numBlocks()).isEqualTo(1);
    }

    @Test
    void cleared_dropsOnlyThatInstance_eventsAfterItApply() {
        List<BlockHash> chain = chain(5);
        index.apply(entry("a", EPOCH_1, 1, stored(chain)));
        index.apply(entry("b", EPOCH_1, 1, stored(chain)));

        ApplyResult result = index.apply(entry("a", EPOCH_1, 2, new KvStreamEvent.Cleared(), stored(chain.subList(0, 2))));

        assertThat(result).isEqualTo(new ApplyResult(Status.APPLIED, 0, 2, 0, 5));
        assertThat(index.longestPrefixes(chain, List.of("a", "b"))).containsExactly(Map.entry("a", 2), Map.entry("b", 5));
        assertThat(index.numEntries()).isEqualTo(7);
        assertThat(index.numBlocks()).isEqualTo(5);
    }

    @Test
    void reset_dropsAllBlocksOfTheInstance() {
        List<BlockHash> chain = chain(5);
        index.apply(entry("a", EPOCH_1, 1, stored(chain)));

        ApplyResult result = index.apply(entry("a", EPOCH_1, 2, new KvStreamEvent.Reset()));

        assertThat(result.numDropped()).isEqualTo(5);
        assertThat(index.longestPrefixes(chain, List.of("a"))).containsExactly(Map.entry("a", 0));
        assertThat(index.numBlocks()).isZero();
        assertThat(index.numEntries()).isZero();
    }

    @Test
    void newEpoch_dropsOldBlocks_andLateEntryOfOldEpochIsStale() {
        List<BlockHash> old = chain(4);
        List<BlockHash> fresh = chain(2);
        index.apply(entry("a", EPOCH_1, 1, stored(old)));
        index.apply(entry("a", EPOCH_1, 2, removed(old.subList(3, 4))));

        ApplyResult result = index.apply(entry("a", EPOCH_2, 1, new KvStreamEvent.Reset(), stored(fresh)));

        assertThat(result).isEqualTo(new ApplyResult(Status.NEW_EPOCH, 0, 2, 0, 3));
        assertThat(index.longestPrefixes(old, List.of("a"))).containsExactly(Map.entry("a", 0));
        assertThat(index.longestPrefixes(fresh, List.of("a"))).containsExactly(Map.entry("a", 2));
        assertThat(index.state("a").orElseThrow()).extracting(InstanceState::epoch, InstanceState::seq)
                .containsExactly(EPOCH_2, 1L);

        ApplyResult stale = index.apply(entry("a", EPOCH_1, 3, stored(old)));

        assertThat(stale.status()).isEqualTo(Status.STALE_EPOCH);
        assertThat(index.longestPrefixes(old, List.of("a"))).containsExactly(Map.entry("a", 0));
        assertThat(index.state("a").orElseThrow().epoch()).isEqualTo(EPOCH_2);
    }

    @Test
    void gap_recordsMissingSeqs_lateArrivalFillsIt() {
        List<BlockHash> chain = chain(3);
        index.apply(entry("a", EPOCH_1, 1, stored(chain.subList(0, 1))));

        ApplyResult jump = index.apply(entry("a", EPOCH_1, 4, stored(chain.subList(2, 3))));

        assertThat(jump).isEqualTo(new ApplyResult(Status.APPLIED, 2, 1, 0, 0));
        assertThat(index.state("a").orElseThrow()).extracting(InstanceState::seq, InstanceState::numMissing)
                .containsExactly(4L, 2L);

        ApplyResult late = index.apply(entry("a", EPOCH_1, 2, stored(chain.subList(1, 2))));

        assertThat(late).isEqualTo(new ApplyResult(Status.LATE, 0, 1, 0, 0));
        assertThat(index.longestPrefixes(chain, List.of("a"))).containsExactly(Map.entry("a", 3));
        assertThat(index.state("a").orElseThrow()).extracting(InstanceState::seq, InstanceState::numMissing)
                .containsExactly(4L, 1L);
        assertThat(index.apply(entry("a", EPOCH_1, 3)).status()).isEqualTo(Status.LATE);
        assertThat(index.state("a").orElseThrow().numMissing()).isZero();
        assertThat(index.apply(entry("a", EPOCH_1, 3)).status()).isEqualTo(Status.DUPLICATE);
    }

    @Test
    void newEpochOutOfOrder_lateResetDoesNotDropLaterBlocks() {
        List<BlockHash> old = chain(3);
        List<BlockHash> first = chain(2);
        List<BlockHash> second = chain(2);
        index.apply(entry("a", EPOCH_1, 1, stored(old)));

        assertThat(index.apply(entry("a", EPOCH_2, 2, stored(second))))
                .isEqualTo(new ApplyResult(Status.NEW_EPOCH, 1, 2, 0, 3));
        assertThat(index.apply(entry("a", EPOCH_2, 1, new KvStreamEvent.Reset(), stored(first))))
                .isEqualTo(new ApplyResult(Status.LATE, 0, 2, 0, 0));

        assertThat(index.longestPrefixes(second, List.of("a"))).containsExactly(Map.entry("a", 2));
        assertThat(index.longestPrefixes(first, List.of("a"))).containsExactly(Map.entry("a", 2));
        assertThat(index.longestPrefixes(old, List.of("a"))).containsExactly(Map.entry("a", 0));
        assertThat(index.state("a").orElseThrow().numMissing()).isZero();
    }

    @Test
    void lateCleared_isAppliedAndAsksForAResync() {
        List<BlockHash> chain = chain(4);
        index.apply(entry("a", EPOCH_1, 1, stored(chain.subList(0, 2))));
        index.apply(entry("a", EPOCH_1, 3, stored(chain.subList(2, 4))));

        ApplyResult late = index.apply(entry("a", EPOCH_1, 2, new KvStreamEvent.Cleared()));

        assertThat(late).isEqualTo(new ApplyResult(Status.LATE, 0, 0, 0, 4));
        assertThat(index.state("a").orElseThrow().needsResync()).isTrue();
        assertThat(index.instancesWithOverdueGaps(0)).containsExactly("a");
    }

    @Test
    void sameEntryTwice_secondIsDuplicate_indexUnchanged() {
        List<BlockHash> chain = chain(3);
        index.apply(entry("a", EPOCH_1, 1, stored(chain)));
        KvEventEntry removal = entry("a", EPOCH_1, 2, removed(chain.subList(1, 3)));
        index.apply(removal);
        index.apply(entry("a", EPOCH_1, 3, stored(chain.subList(1, 2))));

        ApplyResult again = index.apply(removal);

        assertThat(again).isEqualTo(new ApplyResult(Status.DUPLICATE, 0, 0, 0, 0));
        assertThat(index.longestPrefixes(chain, List.of("a"))).containsExactly(Map.entry("a", 2));
        assertThat(index.state("a").orElseThrow().seq()).isEqualTo(3);
    }

    @Test
    void firstEntrySeenLate_gapFromSeqOne() {
        ApplyResult result = index.apply(entry("a", EPOCH_1, 5, stored(chain(1))));

        assertThat(result).isEqualTo(new ApplyResult(Status.APPLIED, 4, 1, 0, 0));
        assertThat(index.state("a").orElseThrow().numMissing()).isEqualTo(4);
    }

    @Test
    void hugeGap_marksResyncInsteadOfListingSeqs() {
        index.apply(entry("a", EPOCH_1, 1));

        ApplyResult result = index.apply(entry("a", EPOCH_1, 5_000));

        assertThat(result.numGapSeqs()).isEqualTo(4_998);
        InstanceState state = index.state("a").orElseThrow();
        assertThat(state.needsResync()).isTrue();
        assertThat(state.numMissing()).isZero();
        assertThat(index.instancesWithOverdueGaps(0)).containsExactly("a");
    }

    @Test
    void overdueGaps_listedAfterTheirAge_clearGapsForgetsThem() throws InterruptedException {
        index.apply(entry("a", EPOCH_1, 1));
        index.apply(entry("a", EPOCH_1, 3));
        index.apply(entry("b", EPOCH_1, 1));
        index.apply(entry("b", EPOCH_1, 2));

        assertThat(index.instancesWithOverdueGaps(60_000)).isEmpty();
        Thread.sleep(30);
        assertThat(index.instancesWithOverdueGaps(20)).containsExactly("a");

        index.clearGaps("a");

        assertThat(index.instancesWithOverdueGaps(0)).isEmpty();
        assertThat(index.state("a").orElseThrow().numMissing()).isZero();
    }

    @Test
    void dropInstance_removesEverything_countersReturnToZero() {
        List<BlockHash> chain = chain(20);
        index.apply(entry("a", EPOCH_1, 1, stored(chain)));
        index.apply(entry("a", EPOCH_1, 3, removed(chain.subList(10, 12))));
        index.apply(entry("b", EPOCH_1, 1, stored(chain.subList(0, 5))));

        assertThat(index.dropInstance("a")).isEqualTo(18);

        assertThat(index.state("a")).isEmpty();
        assertThat(index.indexedInstances()).containsExactly("b");
        assertThat(index.longestPrefixes(chain, List.of("a", "b"))).containsExactly(Map.entry("a", 0), Map.entry("b", 5));
        assertThat(index.dropInstance("b")).isEqualTo(5);
        assertThat(index.numBlocks()).isZero();
        assertThat(index.numEntries()).isZero();
        assertThat(keys()).map(KvIndexTest::string)
                .allMatch(key -> key.endsWith("num-blocks") || key.endsWith("num-entries") || key.endsWith("drop-seq"));
    }

    @Test
    void undrainedDrop_queriesAlreadySeeItDropped_drainPendingDropsFinishesIt() {
        List<BlockHash> chain = chain(5);
        index.apply(entry("a", EPOCH_1, 1, stored(chain)));
        index.apply(entry("b", EPOCH_1, 1, stored(chain)));
        // what a replica that crashed right after the atomic part of a drop leaves behind
        RedisCommands<byte[], byte[]> redis = connection.sync();
        byte[] dropKey = bytes(prefix + "drop:crashed");
        redis.rename(bytes(prefix + "inst:a:blocks"), dropKey);
        redis.sadd(bytes(prefix + "inst:a:drops"), dropKey);
        redis.hset(bytes(prefix + "drops"), dropKey, bytes("a"));

        assertThat(index.longestPrefixes(chain, List.of("a", "b"))).containsExactly(Map.entry("a", 0), Map.entry("b", 5));
        assertThat(index.numEntries()).isEqualTo(10);

        assertThat(index.drainPendingDrops()).isEqualTo(5);

        assertThat(index.numEntries()).isEqualTo(5);
        assertThat(index.numBlocks()).isEqualTo(5);
        assertThat(index.drainPendingDrops()).isZero();
    }

    @Test
    void storedAgainAfterClear_survivesTheDrain() {
        List<BlockHash> chain = chain(4);
        index.apply(entry("a", EPOCH_1, 1, stored(chain)));

        index.apply(entry("a", EPOCH_1, 2, new KvStreamEvent.Cleared(), stored(chain.subList(0, 2))));

        assertThat(index.longestPrefixes(chain, List.of("a"))).containsExactly(Map.entry("a", 2));
        assertThat(index.numEntries()).isEqualTo(2);
    }

    @Test
    void counters_equalBruteForce_afterRandomEvents() {
        List<BlockHash> pool = chain(60);
        List<String> ids = List.of("a", "b", "c", "d");
        Map<String, Set<BlockHash>> model = new HashMap<>();
        Map<String, Long> seqs = new HashMap<>();
        for (int step = 0; step < 300; step++) {
            String id = ids.get(random.nextInt(ids.size()));
            Set<BlockHash> held = model.computeIfAbsent(id, k -> new HashSet<>());
            List<KvStreamEvent> events = new ArrayList<>();
            for (int e = 0; e < 1 + random.nextInt(3); e++) {
                int kind = random.nextInt(20);
                List<BlockHash> some = new ArrayList<>();
                for (int i = 0; i < 1 + random.nextInt(8); i++) {
                    some.add(pool.get(random.nextInt(pool.size())));
                }
                if (kind == 0) {
                    events.add(new KvStreamEvent.Cleared());
                    held.clear();
                } else if (kind < 12) {
                    events.add(stored(some));
                    held.addAll(some);
                } else {
                    events.add(removed(some));
                    some.forEach(held::remove);
                }
            }
            long seq = seqs.merge(id, 1L, Long::sum);
            index.apply(new KvEventEntry(id, EPOCH_1, seq, "m", 1, events));
        }

        Set<BlockHash> distinct = new HashSet<>();
        long pairs = 0;
        for (Set<BlockHash> held : model.values()) {
            distinct.addAll(held);
            pairs += held.size();
        }
        assertThat(index.numBlocks()).isEqualTo(distinct.size());
        assertThat(index.numEntries()).isEqualTo(pairs);
        for (String id : ids) {
            assertThat(index.state(id).orElseThrow().numBlocks()).isEqualTo(model.get(id).size());
            for (BlockHash hash : pool) {
                int expected = model.get(id).contains(hash) ? 1 : 0;
                assertThat(index.longestPrefixes(List.of(hash), List.of(id))).containsEntry(id, expected);
            }
        }
    }

    @Test
    void largeEntry_thenResetOfFiftyThousandBlocks_drainsInChunks() {
        List<BlockHash> big = chain(3_000);
        assertThat(index.apply(entry("a", EPOCH_1, 1, stored(big))).numStored()).isEqualTo(3_000);
        long seq = 2;
        while (index.state("a").orElseThrow().numBlocks() < 50_000) {
            index.apply(entry("a", EPOCH_1, seq++, stored(chain(3_000))));
        }
        long held = index.state("a").orElseThrow().numBlocks();
        index.apply(entry("b", EPOCH_1, 1, stored(big.subList(0, 100))));

        ApplyResult reset = index.apply(entry("a", EPOCH_2, 1, new KvStreamEvent.Reset()));

        assertThat(reset).isEqualTo(new ApplyResult(Status.NEW_EPOCH, 0, 0, 0, held));
        assertThat(index.numEntries()).isEqualTo(100);
        assertThat(index.numBlocks()).isEqualTo(100);
        assertThat(index.longestPrefixes(big, List.of("a", "b"))).containsExactly(Map.entry("a", 0), Map.entry("b", 100));
    }

    @Test
    void twoReplicasApplyingOneStreamOutOfOrder_endWithEveryBlockAndNoGap() throws Exception {
        List<KvEventEntry> entries = new ArrayList<>();
        List<BlockHash> all = new ArrayList<>();
        for (int seq = 1; seq <= 200; seq++) {
            List<BlockHash> blocks = chain(5);
            all.addAll(blocks);
            entries.add(entry("a", EPOCH_1, seq, stored(blocks)));
        }
        List<KvEventEntry> shuffled = new ArrayList<>(entries);
        Collections.shuffle(shuffled, random);
        try (KvIndex replica = new KvIndex(client, prefix)) {
            Thread other = Thread.ofPlatform().start(() -> {
                for (int i = 1; i < shuffled.size(); i += 2) {
                    replica.apply(shuffled.get(i));
                }
            });
            for (int i = 0; i < shuffled.size(); i += 2) {
                index.apply(shuffled.get(i));
            }
            other.join();
        }

        InstanceState state = index.state("a").orElseThrow();
        assertThat(state.seq()).isEqualTo(200);
        assertThat(state.numMissing()).isZero();
        assertThat(state.numBlocks()).isEqualTo(1_000);
        assertThat(index.numEntries()).isEqualTo(1_000);
        assertThat(index.apply(entries.get(17)).status()).isEqualTo(Status.DUPLICATE);
    }

    @Test
    void apply_rejectsEntriesThatWouldPoisonTheIndex() {
        assertThatThrownBy(() -> index.apply(entry(" ", EPOCH_1, 1))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> index.apply(entry("a", "", 1))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> index.longestPrefixes(chain(1), List.of(""))).isInstanceOf(IllegalArgumentException.class);
        assertThat(index.indexedInstances()).isEmpty();
        assertThat(index.state("a")).isEqualTo(Optional.empty());
    }

    // --- helpers ---

    /** Counters equal a brute-force count of the reverse index, and it mirrors the instances' block sets. */
    private void assertInvariants() {
        RedisCommands<byte[], byte[]> redis = connection.sync();
        assertThat(redis.hlen(bytes(prefix + "drops"))).as("pending drops").isZero();
        byte[] blkPrefix = bytes(prefix + "blk:");
        long numBlocks = 0;
        long numEntries = 0;
        for (byte[] key : keys()) {
            if (key.length == blkPrefix.length + BlockHash.NUM_BYTES
                    && Arrays.equals(blkPrefix, 0, blkPrefix.length, key, 0, blkPrefix.length)) {
                numBlocks++;
                byte[] hash = Arrays.copyOfRange(key, blkPrefix.length, key.length);
                for (byte[] id : redis.hkeys(key)) {
                    numEntries++;
                    assertThat(redis.sismember(bytes(prefix + "inst:" + string(id) + ":blocks"), hash))
                            .as("reverse index entry is in the instance's block set").isTrue();
                }
            }
        }
        assertThat(index.numBlocks()).isEqualTo(numBlocks);
        assertThat(index.numEntries()).isEqualTo(numEntries);
        long held = 0;
        for (String id : index.indexedInstances()) {
            held += redis.scard(bytes(prefix + "inst:" + id + ":blocks"));
        }
        assertThat(held).as("sum of the instances' block sets").isEqualTo(numEntries);
    }

    private List<byte[]> keys() {
        List<byte[]> keys = new ArrayList<>();
        ScanArgs args = ScanArgs.Builder.matches(bytes(prefix + "*")).limit(1000);
        KeyScanCursor<byte[]> cursor = connection.sync().scan(args);
        keys.addAll(cursor.getKeys());
        while (!cursor.isFinished()) {
            cursor = connection.sync().scan(ScanCursor.of(cursor.getCursor()), args);
            keys.addAll(cursor.getKeys());
        }
        return keys;
    }

    private List<BlockHash> chain(int length) {
        List<BlockHash> chain = new ArrayList<>(length);
        for (int i = 0; i < length; i++) {
            chain.add(new BlockHash(random.nextLong(), random.nextLong()));
        }
        return chain;
    }

    private static KvEventEntry entry(String instance, String epoch, long seq, KvStreamEvent... events) {
        return new KvEventEntry(instance, epoch, seq, "demo-model", 1_000L, List.of(events));
    }

    private static KvStreamEvent.Stored stored(List<BlockHash> hashes) {
        return new KvStreamEvent.Stored(hashes, Optional.empty(), 16);
    }

    private static KvStreamEvent.Removed removed(List<BlockHash> hashes) {
        return new KvStreamEvent.Removed(hashes);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String string(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    private static List<BlockHash> without(List<BlockHash> chain, int index) {
        List<BlockHash> rest = new ArrayList<>(chain);
        rest.remove(index);
        return rest;
    }

}
