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
 *   <li>open loop: requests sent at Poisson arrival times of {@code requestRate} per second whatever
 *       the server's state, at most {@code maxConcurrency} in flight when given (a request whose
 *       time has come waits for a slot, as vLLM's semaphore makes it wait).</li>
 * </ul>
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
     */
    record Plan(int concurrency, double requestRate, int maxConcurrency, int numRequests, Duration duration, int numWarmup, long seed) {

        Plan {
            if (numRequests < 0 && duration == null) {
                throw new IllegalArgumentException("give --num-requests or --duration");
            }
        }

        boolean openLoop() {
            return concurrency == 0;
        }
    }

    /** The measured requests (by index) and how long the measured phase took. */
    record Result(List<RequestRecord> warmup, List<RequestRecord> measured, double durationSeconds) {
    }

    private final Workload workload;
    private final Sender sender;
    private final ThreadFactory users = Thread.ofVirtual().name("bench-user-", 0).factory();

    LoadRunner(Workload workload, Sender sender) {
        this.workload = workload;
        this.sender = sender;
    }

    Result run(Plan plan) throws InterruptedException {
        List<RequestRecord> warmup = List.of();
        if (plan.numWarmup() > 0) {
            int users = plan.openLoop() ? (plan.maxConcurrency() > 0 ? plan.maxConcurrency() : plan.numWarmup()) : plan.concurrency();
            warmup = closedLoop(Math.min(users, plan.numWarmup()), 0, plan.numWarmup(), null, true).records;
        }
        Phase measured = plan.openLoop()
                ? openLoop(plan, plan.numWarmup())
                : closedLoop(plan.concurrency(), plan.numWarmup(), plan.numRequests(), plan.duration(), false);
        return new Result(warmup, measured.records, measured.durationSeconds);
    }

    private record Phase(List<RequestRecord> records, double durationSeconds) {
    }

    private Phase closedLoop(int numUsers, int firstIndex, int numRequests, Duration duration, boolean warmup) throws InterruptedException {
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
        return new Phase(sorted(records), (System.nanoTime() - start) / 1e9);
    }

    private Phase openLoop(Plan plan, int firstIndex) throws InterruptedException {
        PoissonArrivals arrivals = new PoissonArrivals(plan.requestRate(), plan.seed());
        Semaphore slots = plan.maxConcurrency() > 0 ? new Semaphore(plan.maxConcurrency()) : null;
        List<CompletableFuture<RequestRecord>> inFlight = new ArrayList<>();
        long start = System.nanoTime();
        long deadline = plan.duration() == null ? Long.MAX_VALUE : start + plan.duration().toNanos();
        for (int i = 0; plan.numRequests() < 0 || i < plan.numRequests(); i++) {
            long at = start + (long) (arrivals.nextSeconds() * 1e9);
            if (plan.duration() != null && at - deadline >= 0) {
                break;
            }
            for (long wait = at - System.nanoTime(); wait > 0; wait = at - System.nanoTime()) {
                LockSupport.parkNanos(wait);
                if (Thread.interrupted()) {
                    throw new InterruptedException();
                }
            }
            if (slots != null) {
                slots.acquire();
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
        return new Phase(sorted(records), (System.nanoTime() - start) / 1e9);
    }

    private static List<RequestRecord> sorted(Collection<RequestRecord> records) {
        List<RequestRecord> list = new ArrayList<>(records);
        list.sort(Comparator.comparingInt(RequestRecord::index));
        return List.copyOf(list);
    }
}
