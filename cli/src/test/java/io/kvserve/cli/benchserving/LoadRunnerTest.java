package io.kvserve.cli.benchserving;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class LoadRunnerTest {

    /** A server stand-in: each request takes {@code millis}; tracks how many were in flight at most. */
    static final class FakeSender implements LoadRunner.Sender {
        final long millis;
        final AtomicInteger inFlight = new AtomicInteger();
        final AtomicInteger maxInFlight = new AtomicInteger();
        final ConcurrentLinkedQueue<Integer> sent = new ConcurrentLinkedQueue<>();

        FakeSender(long millis) {
            this.millis = millis;
        }

        @Override
        public CompletableFuture<RequestRecord> send(BenchRequest request, boolean warmup, long phaseStartNanos) {
            sent.add(request.index());
            maxInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
            double sendMs = (System.nanoTime() - phaseStartNanos) / 1e6;
            return CompletableFuture.supplyAsync(() -> {
                inFlight.decrementAndGet();
                return new RequestRecord(request.index(), warmup, sendMs, millis, new double[0], millis, 1, 1, true, null);
            }, CompletableFuture.delayedExecutor(millis, TimeUnit.MILLISECONDS));
        }
    }

    private static final Workload WORKLOAD = new RandomWorkload(0, 4, 2, false, 0);

    @Test
    void run_closedLoop_sendsWarmupThenExactlyNumRequestsWithConcurrencyInFlight() throws Exception {
        FakeSender sender = new FakeSender(20);
        LoadRunner.Result result = new LoadRunner(WORKLOAD, sender).run(new LoadRunner.Plan(4, 0, 0, 12, null, 3, 0));
        assertThat(result.warmup()).extracting(RequestRecord::index).containsExactly(0, 1, 2);
        assertThat(result.warmup()).allMatch(RequestRecord::warmup);
        assertThat(result.measured()).extracting(RequestRecord::index).containsExactly(3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14);
        assertThat(result.measured()).noneMatch(RequestRecord::warmup);
        assertThat(sender.maxInFlight.get()).isEqualTo(4);
        // 12 requests of 20 ms by 4 users: 3 rounds
        assertThat(result.durationSeconds()).isGreaterThanOrEqualTo(0.060);
    }

    @Test
    void run_closedLoopWithDuration_stopsSendingWhenItEnds() throws Exception {
        FakeSender sender = new FakeSender(10);
        LoadRunner.Result result = new LoadRunner(WORKLOAD, sender).run(new LoadRunner.Plan(2, 0, 0, -1, Duration.ofMillis(200), 0, 0));
        // at most 2 users x 200 ms / 10 ms, at least a few rounds
        assertThat(result.measured().size()).isBetween(4, 42);
        assertThat(result.durationSeconds()).isBetween(0.2, 1.0);
    }

    @Test
    void run_openLoopWithMaxConcurrency_neverExceedsTheCap() throws Exception {
        FakeSender sender = new FakeSender(30);
        LoadRunner.Result result = new LoadRunner(WORKLOAD, sender)
                .run(new LoadRunner.Plan(0, Double.POSITIVE_INFINITY, 3, 10, null, 0, 0));
        assertThat(result.measured()).hasSize(10);
        assertThat(sender.maxInFlight.get()).isEqualTo(3);
    }

    @Test
    void run_openLoopAtRate_sendsAtThePoissonTimes() throws Exception {
        FakeSender sender = new FakeSender(1);
        double rate = 100;
        long seed = 9;
        List<RequestRecord> records = new LoadRunner(WORKLOAD, sender).run(new LoadRunner.Plan(0, rate, 0, 20, null, 0, seed)).measured();
        double[] expected = new PoissonArrivals(rate, seed).firstSeconds(20);
        for (int i = 0; i < 20; i++) {
            // never early; late by scheduling only
            assertThat(records.get(i).sendMs()).isBetween(expected[i] * 1000, expected[i] * 1000 + 50);
        }
    }

    @Test
    void run_senderSlowerThanTheRate_fallsBehind_andSaysSo() throws Exception {
        // each send blocks the sender 20 ms; bursts of 1 at 200/s ask for one every 5 ms
        LoadRunner.Sender slow = (request, warmup, start) -> {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return CompletableFuture.completedFuture(new RequestRecord(request.index(), warmup, 0, 1, new double[0], 1, 1, 1, true, null));
        };
        LoadRunner.Result result = new LoadRunner(WORKLOAD, slow)
                .run(new LoadRunner.Plan(0, 200, 0, 20, null, 0, 0, LoadRunner.Arrival.burst, 1));
        // the 20th request is due at 95 ms and goes at about 19 x 20 = 380 ms
        assertThat(result.senderLag().plannedSpanMs()).isEqualTo(95.0);
        assertThat(result.senderLag().maxMs()).isGreaterThan(200);
        assertThat(result.senderLag().fellBehind()).isTrue();
    }

    @Test
    void run_waitingForAConcurrencySlot_isNotSenderLag() throws Exception {
        // 10 requests due every 10 ms, each taking 50 ms, one at a time: they go every 50 ms, as intended
        FakeSender sender = new FakeSender(50);
        LoadRunner.Result result = new LoadRunner(WORKLOAD, sender)
                .run(new LoadRunner.Plan(0, 100, 1, 10, null, 0, 0, LoadRunner.Arrival.burst, 1));
        assertThat(result.measured().getLast().sendMs()).isGreaterThan(400);
        assertThat(result.senderLag().fellBehind()).isFalse();
        assertThat(result.senderLag().maxMs()).isLessThan(30); // scheduling noise only: the 400 ms of slot waits are not counted
    }

    @Test
    void run_finiteWorkload_stopsAtItsEnd() throws Exception {
        Workload three = new Workload() {
            @Override
            public String name() {
                return "three";
            }

            @Override
            public BenchRequest request(int index) {
                return new BenchRequest(index, "p" + index, null, 1, 1);
            }

            @Override
            public int size() {
                return 3;
            }

            @Override
            public java.util.Map<String, Object> params() {
                return java.util.Map.of();
            }
        };
        FakeSender sender = new FakeSender(1);
        LoadRunner.Result result = new LoadRunner(three, sender).run(new LoadRunner.Plan(2, 0, 0, 100, null, 1, 0));
        assertThat(result.warmup()).extracting(RequestRecord::index).containsExactly(0);
        assertThat(result.measured()).extracting(RequestRecord::index).containsExactly(1, 2);
    }
}
