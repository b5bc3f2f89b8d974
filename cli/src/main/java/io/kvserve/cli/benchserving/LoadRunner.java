package io.kvserve.cli.benchserving;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * Drives the load, in one of two shapes (the two of vLLM's {@code benchmark_serving}):
 * <ul>
 *   <li>closed loop: {@code concurrency} users, each sending its next request when its previous one
 *       has ended, until {@code numRequests} have been sent or {@code duration} has passed;</li>
 *   <li>open loop: requests sent at their arrival times whatever the server's state (Poisson
 *       arrivals of {@code requestRate} per second, bursts of {@code burstSize} at that mean rate, or
 *       a trace's timestamps), at most {@code maxConcurrency} in flight when given (a request whose
 *       time has come waits for a slot, as vLLM's semaphore makes it wait).</li>
 * </ul>
 * In the open loop the runner also watches itself: the sender lag of a request is how late it was
 * sent for reasons of the generator's own (building and handing over requests, waking up), not the
 * intended wait for a slot: lag_i = ready_i - e_i, where e_i = max(at_i, b_i) is the time an ideal
 * generator could have sent it, b_i the moment the previous request got its slot if it had to wait
 * for one, else e_{i-1}. A run whose largest lag exceeds 10% of the schedule's span could not
 * generate the asked rate, and says so ({@link SenderLag#fellBehind()}).
 * A warm-up phase first sends {@code numWarmup} requests closed loop (at the run's concurrency) and
 * waits for all of them; then the measured phase starts, so no warm-up request overlaps it. Users are
 * virtual threads that wait on the asynchronous client; requests never throw.
 */
final class LoadRunner {

    /** Sends one request; the future never completes exceptionally. */
    interface Sender {
        CompletableFuture<RequestRecord> send(BenchRequest request, boolean warmup, long phaseStartNanos);
    }

    /**
     * @param concurrency    closed-loop users; 0 for open loop
     * @param requestRate    open-loop requests per second ({@code Infinity}: all at once); ignored in closed loop
     * @param maxConcurrency most requests in flight in open loop; 0 for no limit
     * @param numRequests    measured requests; -1 for as many as {@code duration} allows
     * @param duration       stop sending after this long; null for no limit
     * @param numWarmup      warm-up requests before the measured ones
     * @param seed           of the arrival times
     * @param arrival        how the measured requests arrive: {@code closed} with {@code concurrency}, else the open loop's shape
     * @param burstSize      requests per burst with {@code burst}
     */
    record Plan(int concurrency, double requestRate, int maxConcurrency, int numRequests, Duration duration, int numWarmup, long seed,
                Arrival arrival, int burstSize) {

        Plan {
            if (numRequests < 0 && duration == null) {
                throw new IllegalArgumentException("give --num-requests or --duration");
            }
            if ((arrival == Arrival.closed) != (concurrency > 0)) {
                throw new IllegalArgumentException("a closed loop has users (--concurrency), an open loop (" + arrival + ") has none");
            }
        }

        /** Closed loop with {@code concurrency} users, else Poisson arrivals. */
        Plan(int concurrency, double requestRate, int maxConcurrency, int numRequests, Duration duration, int numWarmup, long seed) {
            this(concurrency, requestRate, maxConcurrency, numRequests, duration, numWarmup, seed,
                    concurrency > 0 ? Arrival.closed : Arrival.poisson, 1);
        }

        boolean openLoop() {
            return concurrency == 0;
        }
    }

    /** How the measured requests arrive; the names are the report's {@code config.arrival}. */
    enum Arrival { poisson, burst, trace, closed }

    /**
     * How far behind its schedule the open loop's sender fell.
     *
     * @param maxMs         the largest sender lag of a request (0 in a closed loop)
     * @param plannedSpanMs the scheduled time of the last request sent
     * @param fellBehind    whether {@code maxMs} exceeded 10% of {@code plannedSpanMs} (never with all requests at time 0)
     */
    record SenderLag(double maxMs, double plannedSpanMs, boolean fellBehind) {

        static final SenderLag NONE = new SenderLag(0, 0, false);

        static SenderLag of(double maxMs, double plannedSpanMs) {
            return new SenderLag(maxMs, plannedSpanMs, plannedSpanMs > 0 && maxMs > 0.1 * plannedSpanMs);
        }
    }

    /** The measured requests (by index), how long the measured phase took, and the open loop's sender lag. */
    record Result(List<RequestRecord> warmup, List<RequestRecord> measured, double durationSeconds, SenderLag senderLag) {
    }

    private final Workload workload;
    private final Sender sender;
    private final ThreadFactory users = Thread.ofVirtual().name("bench-user-", 0).factory();

    LoadRunner(Workload workload, Sender sender) {
        this.workload = workload;
        this.sender = sender;
    }

    Result run(Plan plan) throws InterruptedException {
        return run(plan, () -> { });
    }

    /** Runs the plan; {@code beforeMeasured} runs between the warm-up and the measured phase (a metrics scrape). */
    Result run(Plan plan, Runnable beforeMeasured) throws InterruptedException {
        List<RequestRecord> warmup = List.of();
        if (plan.numWarmup() > 0) {
            int users = plan.openLoop() ? (plan.maxConcurrency() > 0 ? plan.maxConcurrency() : plan.numWarmup()) : plan.concurrency();
            warmup = closedLoop(Math.min(users, plan.numWarmup()), 0, plan.numWarmup(), null, true).records;
        }
        beforeMeasured.run();
        Phase measured = plan.openLoop()
                ? openLoop(plan, plan.numWarmup())
                : closedLoop(plan.concurrency(), plan.numWarmup(), plan.numRequests(), plan.duration(), false);
        return new Result(warmup, measured.records, measured.durationSeconds, measured.senderLag);
    }

    private record Phase(List<RequestRecord> records, double durationSeconds, SenderLag senderLag) {
    }

    /** The measured requests a finite workload (a trace) still has after {@code firstIndex}, or {@code numRequests}. */
    private int cap(int firstIndex, int numRequests) {
        int size = workload.size();
        if (size < 0) {
            return numRequests;
        }
        int left = Math.max(0, size - firstIndex);
        return numRequests < 0 ? left : Math.min(numRequests, left);
    }

    private ArrivalSchedule schedule(Plan plan, int firstIndex) {
        return switch (plan.arrival()) {
            case poisson -> new PoissonArrivals(plan.requestRate(), plan.seed());
            case burst -> new BurstArrivals(plan.requestRate(), plan.burstSize());
            case trace -> {
                if (!(workload instanceof TraceWorkload trace)) {
                    throw new IllegalArgumentException("--arrival trace replays a trace's timestamps: give --workload trace --trace FILE");
                }
                int[] next = {firstIndex};
                yield () -> trace.secondsAfter(firstIndex, next[0]++);
            }
            case closed -> throw new IllegalStateException("a closed loop has no arrival schedule");
        };
    }

    private Phase closedLoop(int numUsers, int firstIndex, int numRequestsAsked, Duration duration, boolean warmup) throws InterruptedException {
        int numRequests = cap(firstIndex, numRequestsAsked);
        ConcurrentLinkedQueue<RequestRecord> records = new ConcurrentLinkedQueue<>();
        AtomicInteger issued = new AtomicInteger();
        long start = System.nanoTime();
        long deadline = duration == null ? Long.MAX_VALUE : start + duration.toNanos();
        List<Thread> threads = new ArrayList<>(numUsers);
        for (int u = 0; u < numUsers; u++) {
            threads.add(users.newThread(() -> {
                while (deadline == Long.MAX_VALUE || System.nanoTime() - deadline < 0) {
                    int i = issued.getAndIncrement();
                    if (numRequests >= 0 && i >= numRequests) {
                        return;
                    }
                    records.add(sender.send(workload.request(firstIndex + i), warmup, start).join());
                }
            }));
        }
        threads.forEach(Thread::start);
        for (Thread t : threads) {
            t.join();
        }
        return new Phase(sorted(records), (System.nanoTime() - start) / 1e9, SenderLag.NONE);
    }

    private Phase openLoop(Plan plan, int firstIndex) throws InterruptedException {
        ArrivalSchedule arrivals = schedule(plan, firstIndex);
        int numRequests = cap(firstIndex, plan.numRequests());
        Semaphore slots = plan.maxConcurrency() > 0 ? new Semaphore(plan.maxConcurrency()) : null;
        List<CompletableFuture<RequestRecord>> inFlight = new ArrayList<>();
        long start = System.nanoTime();
        long deadline = plan.duration() == null ? Long.MAX_VALUE : start + plan.duration().toNanos();
        long baselineNanos = start;
        long maxLagNanos = 0;
        long plannedSpanNanos = 0;
        for (int i = 0; numRequests < 0 || i < numRequests; i++) {
            long offset = (long) (arrivals.nextSeconds() * 1e9);
            long at = start + offset;
            if (plan.duration() != null && at - deadline >= 0) {
                break;
            }
            for (long wait = at - System.nanoTime(); wait > 0; wait = at - System.nanoTime()) {
                LockSupport.parkNanos(wait);
                if (Thread.interrupted()) {
                    throw new InterruptedException();
                }
            }
            long ready = System.nanoTime();
            long ideal = Math.max(at, baselineNanos);
            maxLagNanos = Math.max(maxLagNanos, ready - ideal);
            plannedSpanNanos = Math.max(plannedSpanNanos, offset);
            baselineNanos = ideal;
            if (slots != null && !slots.tryAcquire()) {
                slots.acquire();
                baselineNanos = System.nanoTime();
            }
            CompletableFuture<RequestRecord> sent = sender.send(workload.request(firstIndex + i), false, start);
            if (slots != null) {
                sent.whenComplete((r, e) -> slots.release());
            }
            inFlight.add(sent);
        }
        List<RequestRecord> records = new ArrayList<>(inFlight.size());
        for (CompletableFuture<RequestRecord> f : inFlight) {
            records.add(f.join());
        }
        return new Phase(sorted(records), (System.nanoTime() - start) / 1e9, SenderLag.of(maxLagNanos / 1e6, plannedSpanNanos / 1e6));
    }

    private static List<RequestRecord> sorted(Collection<RequestRecord> records) {
        List<RequestRecord> list = new ArrayList<>(records);
        list.sort(Comparator.comparingInt(RequestRecord::index));
        return List.copyOf(list);
    }
}
