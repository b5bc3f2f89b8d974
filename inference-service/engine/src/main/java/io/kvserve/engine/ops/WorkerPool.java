package io.kvserve.engine.ops;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed team of threads that runs one {@link RangeKernel} over {@code [0, numItems)} split into
 * equal contiguous shares, the calling thread taking share 0.
 *
 * <h2>Design</h2>
 * A decode step issues hundreds of matmuls of tens of microseconds each, so the cost of handing
 * out work has to be well under a microsecond when the team is warm:
 * <ol>
 * <li>Static partitioning: share {@code i} of {@code numThreads} is
 *     {@code [numItems * i / numThreads, numItems * (i + 1) / numThreads)}. No queue, no stealing,
 *     no task object per call; and a given item is always computed by the same code in the same
 *     order whatever the thread count, so results do not depend on it.</li>
 * <li>Hand-off by a generation counter: the caller stores the kernel and item count in plain
 *     fields, then increments the volatile {@code generation} (the write publishes both);
 *     workers wait for a new generation, run their share and decrement {@code pending}.</li>
 * <li>Workers spin ({@link Thread#onSpinWait()}) for {@link #SPIN_NANOS} after each share, since
 *     the next matmul usually follows within microseconds, then park; the caller unparks only
 *     workers that said they were parking. Between steps the team therefore sleeps. The caller,
 *     done with its share, spins {@link #CALLER_SPIN_NANOS} and then yields, so that on a machine
 *     with fewer free cores than threads it does not hold the core a worker is waiting for.</li>
 * <li>Workers are platform daemon threads: kernels are long CPU loops, which virtual threads
 *     would pin anyway.</li>
 * </ol>
 * Not thread-safe: one thread (the engine's step loop) calls {@link #parallelFor}. The fork/join
 * pool was not used because its per-call task allocation and work stealing buy nothing for
 * equal-cost rows (compare ggml's own static split of rows across threads, [1]).
 *
 * <p>[1] ggml/src/ggml-cpu/ggml-cpu.c, {@code ggml_compute_forward_mul_mat}: rows split in
 * {@code ith/nth} chunks, threads synchronised by a barrier.
 */
public final class WorkerPool implements AutoCloseable {

    /** A loop body over items {@code [start, end)}, run on thread {@code threadIndex}. */
    @FunctionalInterface
    public interface RangeKernel {
        void run(int start, int end, int threadIndex);
    }

    /** How long an idle worker spins before it parks. */
    static final long SPIN_NANOS = 100_000;
    /** How long the caller spins for the workers' shares before it yields its core to them. */
    static final long CALLER_SPIN_NANOS = 20_000;

    private final int numThreads;
    private final Thread[] workers;
    private final boolean[] parking; // (numThreads): written by worker i under its volatile protocol below
    private final AtomicInteger pending = new AtomicInteger();
    private volatile int generation;
    private volatile boolean closed;
    private volatile Throwable failure;
    private RangeKernel kernel; // published by the volatile write of generation
    private int numItems; // published by the volatile write of generation

    /** A team of {@code numThreads} (>= 1) threads, the caller included. */
    public WorkerPool(int numThreads) {
        if (numThreads < 1) {
            throw new IllegalArgumentException("numThreads must be >= 1, got " + numThreads);
        }
        this.numThreads = numThreads;
        this.parking = new boolean[numThreads];
        this.workers = new Thread[numThreads - 1];
        for (int i = 1; i < numThreads; i++) {
            int index = i;
            workers[i - 1] = Thread.ofPlatform().daemon().name("kvserve-ops-" + i).unstarted(() -> work(index));
            workers[i - 1].start();
        }
    }

    public int numThreads() {
        return numThreads;
    }

    /** Runs {@code kernel} over {@code [0, numItems)} on all threads and returns when all are done. */
    public void parallelFor(int numItems, RangeKernel kernel) {
        if (closed) {
            throw new IllegalStateException("worker pool is closed");
        }
        if (numThreads == 1 || numItems < numThreads) {
            kernel.run(0, numItems, 0);
            return;
        }
        this.kernel = kernel;
        this.numItems = numItems;
        pending.set(numThreads - 1);
        generation++;
        for (int i = 1; i < numThreads; i++) {
            if (isParking(i)) {
                LockSupport.unpark(workers[i - 1]);
            }
        }
        Throwable own = null;
        try {
            kernel.run(0, shareEnd(numItems, 0), 0);
        } catch (Throwable t) {
            own = t;
        }
        awaitWorkers();
        this.kernel = null;
        Throwable other = failure;
        if (own != null || other != null) {
            failure = null;
            Throwable t = own != null ? own : other;
            if (t instanceof RuntimeException re) {
                throw re;
            }
            if (t instanceof Error e) {
                throw e;
            }
            throw new IllegalStateException(t);
        }
    }

    /**
     * Spins while the workers are likely to finish soon, then yields: on an oversubscribed
     * machine a spinning caller would hold the core a descheduled worker needs.
     */
    private void awaitWorkers() {
        int spins = 0;
        long yieldAfter = 0;
        while (pending.get() != 0) {
            if (++spins < 64) {
                Thread.onSpinWait();
                continue;
            }
            spins = 0;
            long now = System.nanoTime();
            if (yieldAfter == 0) {
                yieldAfter = now + CALLER_SPIN_NANOS;
            } else if (now > yieldAfter) {
                Thread.yield();
            }
        }
    }

    private int shareEnd(int numItems, int index) {
        return (int) ((long) numItems * (index + 1) / numThreads);
    }

    private boolean isParking(int index) {
        synchronized (parking) {
            return parking[index];
        }
    }

    private void setParking(int index, boolean value) {
        synchronized (parking) {
            parking[index] = value;
        }
    }

    private void work(int index) {
        int seen = 0;
        while (true) {
            int g = generation;
            if (g == seen) {
                long spinUntil = System.nanoTime() + SPIN_NANOS;
                while ((g = generation) == seen && System.nanoTime() < spinUntil) {
                    Thread.onSpinWait();
                }
                if (g == seen) {
                    // announce, re-check, then park: the caller unparks after bumping generation,
                    // so either we see the new generation or it sees parking == true
                    setParking(index, true);
                    while ((g = generation) == seen && !closed) {
                        LockSupport.park(this);
                    }
                    setParking(index, false);
                }
            }
            seen = g;
            if (closed) {
                return;
            }
            try {
                int n = numItems;
                kernel.run((int) ((long) n * index / numThreads), shareEnd(n, index), index);
            } catch (Throwable t) {
                failure = t;
            } finally {
                pending.decrementAndGet();
            }
        }
    }

    /** Stops and joins the workers. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        generation++;
        for (Thread w : workers) {
            LockSupport.unpark(w);
        }
        for (Thread w : workers) {
            try {
                w.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
