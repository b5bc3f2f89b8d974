package io.kvserve.engine.sched;

import static org.assertj.core.api.Assertions.assertThat;

import io.kvserve.common.kvcache.BlockHasher;
import io.kvserve.engine.kv.BlockPool;
import io.kvserve.engine.kv.KvCacheManager;
import io.kvserve.engine.kv.KvEventListener;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class StallFreeSchedulerTest {

    private static final int BLOCK_SIZE = 16;
    private static final byte[] SALT = "tenant-a-salt-0123456789".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] OTHER_SALT = "tenant-b-salt-0123456789".getBytes(StandardCharsets.US_ASCII);
    private static final long SECOND = 1_000_000_000L;

    private final AtomicLong clock = new AtomicLong(1000 * SECOND);
    private final BlockHasher hasher = new BlockHasher(BLOCK_SIZE);
    private KvCacheManager kv;
    private StallFreeScheduler scheduler;
    private final Map<String, Request> live = new HashMap<>();

    private void setUp(int numBlocks, int maxNumBatchedTokens, int maxNumSeqs, double agingSeconds) {
        kv = new KvCacheManager(new BlockPool(numBlocks, true, KvEventListener.NONE), BLOCK_SIZE);
        scheduler = new StallFreeScheduler(new SchedulerConfig(maxNumBatchedTokens, maxNumSeqs, 4096, agingSeconds),
                kv, clock::get);
    }

    private Request add(String id, int[] prompt, int maxTokens) {
        return add(id, prompt, maxTokens, SALT);
    }

    private Request add(String id, int[] prompt, int maxTokens, byte[] salt) {
        Request r = new Request(id, prompt, prompt.length + maxTokens, clock.get(), salt, 0, hasher);
        scheduler.add(r);
        live.put(id, r);
        return r;
    }

    private static int[] prompt(int length, int seed) {
        int[] ids = new int[length];
        for (int i = 0; i < length; i++) {
            ids[i] = (seed * 31 + i * 7) % 1000;
        }
        return ids;
    }

    /** Samples token 7 for every sequence that samples; finishes requests at their max length. */
    private void complete(SchedulerOutput out) {
        for (ScheduledSequence s : out.sequences()) {
            if (s.samples()) {
                Request r = live.get(s.requestId());
                r.appendToken(7);
                if (r.numTokens() == r.maxNumTokens()) {
                    scheduler.finish(r.requestId());
                    live.remove(r.requestId());
                }
            }
        }
    }

    /** The scheduler's invariants after a step; see the class comment of StallFreeScheduler. */
    private void checkInvariants(SchedulerOutput out) {
        SchedulerConfig config = scheduler.config();
        assertThat(out.numBatchedTokens()).as("token budget").isLessThanOrEqualTo(config.maxNumBatchedTokens());
        assertThat(out.sequences().stream().mapToInt(ScheduledSequence::numNewTokens).sum())
                .isEqualTo(out.numBatchedTokens());
        assertThat(scheduler.numRunning()).as("maxNumSeqs").isLessThanOrEqualTo(config.maxNumSeqs());
        assertThat(kv.numRequests()).as("block tables = running requests").isEqualTo(scheduler.numRunning());
        Set<String> ids = new HashSet<>();
        for (ScheduledSequence s : out.sequences()) {
            assertThat(ids.add(s.requestId())).as("%s scheduled once", s.requestId()).isTrue();
            Request r = live.get(s.requestId());
            assertThat(r.status()).isEqualTo(Request.Status.RUNNING);
            int end = s.startPosition() + s.numNewTokens();
            assertThat(end).isEqualTo(r.numComputedTokens()).isLessThanOrEqualTo(r.numTokens());
            assertThat(s.blockTable()).as("%s's table is the manager's", s.requestId())
                    .containsExactly(kv.blockTable(s.requestId()));
            assertThat(s.blockTable().length * BLOCK_SIZE).as("table covers the chunk").isGreaterThanOrEqualTo(end);
            assertThat(s.samples()).isEqualTo(end == r.numTokens());
            for (int t = 0; t < s.numNewTokens(); t++) {
                assertThat(s.tokenIds()[t]).isEqualTo(r.tokenId(s.startPosition() + t));
            }
        }
        // running requests (scheduled in an earlier step, not preempted since) come before new admissions
        boolean seenAdmission = false;
        for (ScheduledSequence s : out.sequences()) {
            boolean continuing = previouslyRunning.contains(s.requestId()) && !out.preemptedIds().contains(s.requestId());
            assertThat(continuing && seenAdmission).as("%s continues after an admission", s.requestId()).isFalse();
            seenAdmission |= !continuing;
        }
        // and among them, decodes before the chunks of prefills still in progress
        boolean seenChunk = false;
        for (ScheduledSequence s : out.sequences()) {
            if (!previouslyRunning.contains(s.requestId()) || out.preemptedIds().contains(s.requestId())) {
                break;
            }
            boolean decode = s.numNewTokens() == 1 && s.samples();
            assertThat(decode && seenChunk).as("decode of %s after a prefill chunk", s.requestId()).isFalse();
            seenChunk |= !decode;
        }
        previouslyRunning.clear();
        scheduler.running().forEach(r -> previouslyRunning.add(r.requestId()));
        int numFreeBlocks = kv.numFreeBlocks();
        Set<Integer> held = new HashSet<>();
        for (Request r : scheduler.running()) {
            for (int id : kv.blockTable(r.requestId())) {
                held.add(id);
            }
        }
        assertThat(numFreeBlocks + held.size()).as("free + held = total").isEqualTo(blockCount());
    }

    private int numTotalBlocks;
    private final Set<String> previouslyRunning = new HashSet<>();

    private int blockCount() {
        return numTotalBlocks;
    }

    private void setUpCounted(int numBlocks, int maxNumBatchedTokens, int maxNumSeqs, double agingSeconds) {
        setUp(numBlocks, maxNumBatchedTokens, maxNumSeqs, agingSeconds);
        numTotalBlocks = numBlocks;
    }

    private SchedulerOutput step() {
        SchedulerOutput out = scheduler.schedule();
        checkInvariants(out);
        return out;
    }

    @Test
    void schedule_longPrompt_isChunkedThenDecodes() {
        setUpCounted(64, 8, 4, 10);
        add("a", prompt(20, 1), 3);

        SchedulerOutput s1 = step();
        assertThat(s1.sequences()).singleElement().satisfies(s -> {
            assertThat(s.startPosition()).isZero();
            assertThat(s.numNewTokens()).isEqualTo(8);
            assertThat(s.samples()).isFalse();
        });
        assertThat(s1.toForwardBatch().numLogitsRows()).isZero();
        complete(s1);
        SchedulerOutput s2 = step();
        assertThat(s2.sequences().getFirst().startPosition()).isEqualTo(8);
        complete(s2);
        SchedulerOutput s3 = step();
        assertThat(s3.sequences().getFirst().numNewTokens()).isEqualTo(4);
        assertThat(s3.sequences().getFirst().samples()).isTrue();
        assertThat(s3.toForwardBatch().logitsIndices()).containsExactly(3);
        complete(s3);
        SchedulerOutput s4 = step();
        assertThat(s4.sequences()).singleElement().satisfies(s -> {
            assertThat(s.startPosition()).isEqualTo(20);
            assertThat(s.tokenIds()).containsExactly(7);
            assertThat(s.samples()).isTrue();
        });
        complete(s4);
        complete(step());
        assertThat(scheduler.hasUnfinished()).isFalse();
        assertThat(kv.numFreeBlocks()).isEqualTo(64);
    }

    @Test
    void schedule_runningDecodes_comeBeforeNewPrefillWhichTakesTheRest() {
        setUpCounted(64, 16, 4, 10);
        add("a", prompt(10, 1), 8);
        add("b", prompt(5, 2), 8);
        complete(step()); // both prompts in one step, both sample
        add("c", prompt(40, 3), 4);

        SchedulerOutput out = step();
        assertThat(out.sequences()).extracting(ScheduledSequence::requestId).containsExactly("a", "b", "c");
        assertThat(out.sequences().get(0).numNewTokens()).isEqualTo(1);
        assertThat(out.sequences().get(1).numNewTokens()).isEqualTo(1);
        assertThat(out.sequences().get(2).numNewTokens()).isEqualTo(14);
        assertThat(out.sequences().get(2).samples()).isFalse();
        assertThat(out.toForwardBatch().logitsIndices()).containsExactly(0, 1);
        complete(out);

        SchedulerOutput next = step();
        assertThat(next.sequences()).extracting(ScheduledSequence::requestId).containsExactly("a", "b", "c");
        assertThat(next.sequences().get(2).startPosition()).isEqualTo(14);
    }

    @Test
    void schedule_maxNumSeqsReached_leavesTheRestWaiting() {
        setUpCounted(64, 64, 2, 10);
        add("a", prompt(4, 1), 4);
        add("b", prompt(4, 2), 4);
        add("c", prompt(4, 3), 4);
        SchedulerOutput out = step();
        assertThat(out.sequences()).extracting(ScheduledSequence::requestId).containsExactly("a", "b");
        assertThat(scheduler.numWaiting()).isEqualTo(1);
    }

    @ParameterizedTest(name = "budget {0}, seqs {1}, blocks {2}")
    @CsvSource({"8, 2, 64", "32, 4, 16", "64, 8, 12", "256, 16, 40", "16, 16, 9"})
    void schedule_randomWorkload_keepsInvariantsAndFinishesEverything(int budget, int maxNumSeqs, int numBlocks) {
        setUpCounted(numBlocks, budget, maxNumSeqs, 5);
        Random random = new Random(budget * 31L + numBlocks);
        int numRequests = 40;
        int numAdded = 0;
        Set<String> finished = new HashSet<>();
        for (int stepIndex = 0; stepIndex < 20_000 && finished.size() < numRequests; stepIndex++) {
            clock.addAndGet(SECOND / 10);
            if (numAdded < numRequests && random.nextInt(3) == 0) {
                int promptLength = 1 + random.nextInt(60);
                int maxTokens = 1 + random.nextInt(30);
                // a shared first block for half of them, so prefix hits happen
                int[] p = prompt(promptLength, random.nextBoolean() ? 5 : 100 + numAdded);
                if ((promptLength + maxTokens - 1 + BLOCK_SIZE - 1) / BLOCK_SIZE <= numBlocks) {
                    add("r" + numAdded, p, maxTokens);
                }
                numAdded++;
            }
            Set<String> before = new HashSet<>(live.keySet());
            SchedulerOutput out = step();
            complete(out);
            before.removeAll(live.keySet());
            finished.addAll(before);
            if (numAdded == numRequests && !scheduler.hasUnfinished()) {
                break;
            }
        }
        assertThat(scheduler.hasUnfinished()).as("everything finished").isFalse();
        assertThat(kv.numFreeBlocks()).isEqualTo(numBlocks);
        assertThat(kv.numRequests()).isZero();
    }

    @Test
    void schedule_outOfBlocks_preemptsNewestWhichRecomputesPromptAndOutput() {
        // 4 blocks of 16: a and b each take 2 blocks for their 20-token prompts, the pool is then full
        setUpCounted(4, 64, 4, 10);
        Request a = add("a", prompt(20, 1), 40);
        Request b = add("b", prompt(20, 2), 40);
        complete(step());
        int numSteps = 0;
        SchedulerOutput out;
        do {
            out = step();
            complete(out);
            numSteps++;
        } while (out.preemptedIds().isEmpty() && numSteps < 20);

        assertThat(out.preemptedIds()).containsExactly("b");
        assertThat(b.status()).isEqualTo(Request.Status.WAITING);
        assertThat(b.isPreempted()).isTrue();
        assertThat(b.numComputedTokens()).isZero();
        assertThat(kv.blockTable("b")).isEmpty();
        assertThat(scheduler.rankedWaitingIds()).containsExactly("b");
        assertThat(scheduler.numPreemptions()).isEqualTo(1);
        int numTokensOfB = b.numTokens();
        assertThat(numTokensOfB).isGreaterThan(20);

        while (live.containsKey("a")) {
            complete(step());
        }
        SchedulerOutput restart = step();
        ScheduledSequence seqB = restart.sequences().stream().filter(s -> s.requestId().equals("b")).findFirst()
                .orElseThrow();
        // prompt + output so far, from the cached prefix on (b's first full block survived in the cache)
        assertThat(seqB.startPosition() + seqB.numNewTokens()).isEqualTo(numTokensOfB);
        assertThat(seqB.samples()).isTrue();
        assertThat(b.isPreempted()).isFalse();
        complete(restart);
        while (scheduler.hasUnfinished()) {
            complete(step());
        }
        assertThat(kv.numFreeBlocks()).isEqualTo(4);
        assertThat(a.numOutputTokens()).isEqualTo(40);
        assertThat(b.numOutputTokens()).isEqualTo(40);
    }

    @Test
    void schedule_onlyRunningRequestOutOfBlocks_preemptsItselfAndWaits() {
        // 3 blocks hold 48 tokens; this request would need a 4th (the engine rejects such at submit)
        setUpCounted(3, 64, 4, 10);
        Request a = add("a", prompt(47, 1), 10);
        complete(step()); // 47 prompt tokens, samples the 48th
        complete(step()); // feeds the 48th: still 3 blocks
        SchedulerOutput out = step();
        assertThat(out.preemptedIds()).containsExactly("a");
        assertThat(out.sequences()).isEmpty();
        assertThat(a.status()).isEqualTo(Request.Status.WAITING);
        assertThat(kv.numFreeBlocks()).isEqualTo(3);
        assertThat(step().sequences()).as("does not fit, waits").isEmpty();
    }

    @Test
    void schedule_cachedPrefix_startsAtTheHitAndComputesAtLeastOneToken() {
        setUpCounted(32, 256, 4, 10);
        int[] shared = prompt(48, 9);
        add("a", shared, 1);
        complete(step());
        assertThat(live).doesNotContainKey("a");

        int[] longer = new int[60];
        System.arraycopy(shared, 0, longer, 0, 48);
        for (int i = 48; i < 60; i++) {
            longer[i] = 500 + i;
        }
        Request b = add("b", longer, 2);
        Request c = add("c", shared.clone(), 2);           // whole prompt cached: one block is recomputed
        Request d = add("d", shared.clone(), 2, OTHER_SALT); // another tenant: no hit
        SchedulerOutput out = step();
        Map<String, ScheduledSequence> byId = new HashMap<>();
        out.sequences().forEach(s -> byId.put(s.requestId(), s));
        assertThat(byId.get("b").startPosition()).isEqualTo(48);
        assertThat(byId.get("b").numNewTokens()).isEqualTo(12);
        assertThat(b.numCachedPromptTokens()).isEqualTo(48);
        assertThat(byId.get("c").startPosition()).isEqualTo(32);
        assertThat(c.numCachedPromptTokens()).isEqualTo(32);
        assertThat(byId.get("d").startPosition()).isZero();
        assertThat(d.numCachedPromptTokens()).isZero();
        assertThat(out.numBatchedTokens()).isEqualTo(12 + 16 + 48);
    }

    @Test
    void appendToken_fillingABlock_cachesOutputForLaterRequests() {
        setUpCounted(32, 256, 4, 10);
        int[] p = prompt(10, 4);
        Request a = add("a", p, 10); // 10 prompt + 10 output: block 0 is full after 6 outputs
        while (scheduler.hasUnfinished()) {
            complete(step());
        }
        assertThat(a.blockHashes()).hasSize(1);
        int[] next = new int[24];
        System.arraycopy(p, 0, next, 0, 10);
        for (int i = 10; i < 20; i++) {
            next[i] = 7; // the outputs a generated
        }
        Request b = add("b", next, 1);
        step();
        assertThat(b.numCachedPromptTokens()).isEqualTo(16);
    }

    @Test
    void rank_higherHitFraction_goesFirstAmongEqualWaits() {
        setUpCounted(64, 256, 4, 10);
        int[] shared = prompt(64, 3);
        add("warm", shared, 1);
        complete(step());

        add("miss", prompt(64, 77), 1);
        int[] half = shared.clone();
        for (int i = 32; i < 64; i++) {
            half[i] = 900;
        }
        add("half", half, 1);
        add("full", shared.clone(), 1);
        assertThat(scheduler.rankedWaitingIds()).containsExactly("full", "half", "miss");
    }

    @Test
    void rank_oldMiss_overtakesFreshHitsAfterAgingSeconds() {
        setUpCounted(64, 256, 4, 10);
        int[] shared = prompt(64, 3);
        add("warm", shared, 1);
        complete(step());

        add("miss", prompt(64, 77), 1);
        clock.addAndGet(5 * SECOND); // hit fraction 1.0 vs 5 s / 10 s: the hit still wins
        add("hit", shared.clone(), 1);
        assertThat(scheduler.rankedWaitingIds()).containsExactly("hit", "miss");

        scheduler.finish("hit");
        clock.addAndGet(6 * SECOND);
        add("lateHit", shared.clone(), 1); // arrived 11 s after miss: more than agingSeconds
        assertThat(scheduler.rankedWaitingIds()).containsExactly("miss", "lateHit");
    }

    @Test
    void rank_onlyTheOldestCandidatesAreExamined() {
        kv = new KvCacheManager(new BlockPool(64, true, KvEventListener.NONE), BLOCK_SIZE);
        scheduler = new StallFreeScheduler(new SchedulerConfig(256, 4, 4096, 10, 2), kv, clock::get);
        int[] shared = prompt(64, 3);
        add("warm", shared, 1);
        complete(scheduler.schedule());

        add("old1", prompt(64, 77), 1);
        add("old2", prompt(64, 78), 1);
        add("hit", shared.clone(), 1); // a full hit, but third in line: outside the window of 2
        assertThat(scheduler.rankedWaitingIds()).containsExactly("old1", "old2", "hit");
        scheduler.finish("old1");
        assertThat(scheduler.rankedWaitingIds()).containsExactly("hit", "old2");
    }

    @Test
    void rank_preempted_comesBeforeEverything() {
        setUpCounted(4, 64, 4, 10);
        add("a", prompt(20, 1), 40);
        add("b", prompt(20, 2), 40);
        SchedulerOutput out;
        do {
            out = step();
            complete(out);
        } while (out.preemptedIds().isEmpty());
        clock.addAndGet(-100 * SECOND); // an "older" newcomer cannot jump a preempted request
        add("c", prompt(4, 3), 1);
        assertThat(scheduler.rankedWaitingIds()).containsExactly("b", "c");
    }

    @Test
    void schedule_streamOfHits_cannotStarveAMissBeyondTheAgingBound() {
        double agingSeconds = 2;
        setUpCounted(256, 64, 1, agingSeconds);
        int[] shared = prompt(64, 3);
        add("warm", shared, 1);
        complete(step());

        Request miss = add("miss", prompt(64, 77), 1);
        long missArrival = miss.arrivalNanos();
        List<Long> admittedBeforeMiss = new ArrayList<>();
        for (int i = 0; i < 200 && live.containsKey("miss"); i++) {
            add("hit" + i, shared.clone(), 1); // a fresh full hit every 0.25 s
            SchedulerOutput out = step();
            for (ScheduledSequence s : out.sequences()) {
                if (!s.requestId().equals("miss") && live.containsKey("miss")) {
                    admittedBeforeMiss.add(live.get(s.requestId()).arrivalNanos());
                }
            }
            complete(out);
            clock.addAndGet(SECOND / 4);
        }
        assertThat(live).doesNotContainKey("miss");
        assertThat(admittedBeforeMiss).isNotEmpty()
                .allSatisfy(arrival -> assertThat(arrival - missArrival)
                        .isLessThanOrEqualTo((long) (agingSeconds * SECOND)));
    }

    @Test
    void finish_waitingOrRunning_freesBlocksAndForgetsIt() {
        setUpCounted(16, 8, 4, 10);
        add("a", prompt(20, 1), 4);
        add("b", prompt(20, 2), 4);
        step();
        assertThat(scheduler.finish("a")).isNotNull();
        assertThat(scheduler.finish("b")).isNotNull();
        assertThat(scheduler.finish("a")).isNull();
        assertThat(scheduler.hasUnfinished()).isFalse();
        assertThat(kv.numFreeBlocks()).isEqualTo(16);
    }
}
