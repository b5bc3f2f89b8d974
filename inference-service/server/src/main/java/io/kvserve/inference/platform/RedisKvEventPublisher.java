package io.kvserve.inference.platform;

import io.kvserve.common.events.KvEventEntry;
import io.kvserve.common.events.KvStreamEvent;
import io.kvserve.engine.kv.KvEvent;
import io.kvserve.engine.kv.KvEventListener;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

/**
 * Publishes the engine's prefix-cache events to the KV event stream (format in
 * {@code docs/redis-schema.md}).
 *
 * <h2>Design</h2>
 * The engine calls {@link #onEvent} on its step-loop thread, which must never wait for Redis. So
 * {@code onEvent} only appends to a bounded lock-free queue (one small node per event; the bound is
 * an {@link AtomicInteger}) and, when {@code batchThreshold} events are waiting, unparks the
 * publisher thread. That platform thread wakes every {@code flushInterval} or when unparked, merges
 * what is waiting ({@link KvEventBatcher}) and XADDs one entry per at most {@code maxEventsPerEntry}
 * engine events, numbered {@code seq} 1, 2, 3, ... within this instance's epoch.
 *
 * <p>Nothing is ever silently lost:
 * <ul>
 *   <li>The first entry of the epoch starts with a {@code reset} event (retried until one XADD
 *       succeeds), so a consumer drops whatever it knew about an earlier run of this instance.</li>
 *   <li>When the queue is full (Redis slow or down) an event is dropped and counted; an entry whose
 *       XADD fails is dropped and its seq is not reused. Either way the next entry's seq jumps, so a
 *       consumer sees the gap.</li>
 *   <li>After such a loss, once Redis answers again, the publisher asks the engine to re-announce
 *       its whole cache ({@code cleared} then every cached block), which heals the consumer's index.
 *       kvshare can ask for the same through {@link #requestReannounce()} (the pub/sub channel).</li>
 * </ul>
 * A cache larger than the queue bound cannot be re-announced whole; size {@code capacity} above the
 * number of KV blocks.
 */
public final class RedisKvEventPublisher implements KvEventListener, SmartLifecycle {

    private static final Logger LOG = LoggerFactory.getLogger(RedisKvEventPublisher.class);

    private final KvEventStreamWriter writer;
    private final Supplier<String> instanceId;
    private final String epoch;
    private final String model;
    private final int capacity;
    private final int batchThreshold;
    private final int maxEventsPerEntry;
    private final Duration flushInterval;
    private final Runnable reannouncer;
    private final LongSupplier clockMs;
    private final RateLimitedLog failures = new RateLimitedLog(LOG, 30, TimeUnit.SECONDS);

    // the bridge from the engine thread
    private final ConcurrentLinkedQueue<KvEvent> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger numQueued = new AtomicInteger();
    private final AtomicBoolean lostEvents = new AtomicBoolean();   // dropped since the last entry: jump seq
    private final AtomicBoolean needsReannounce = new AtomicBoolean();
    private final AtomicLong numPublished = new AtomicLong();
    private final AtomicLong numDropped = new AtomicLong();
    private final Counter publishedCounter;
    private final Counter droppedCounter;

    // owned by the publisher thread
    private final KvEventBatcher batcher = new KvEventBatcher();
    private long nextSeq = 1;
    private boolean resetPending = true;

    private volatile boolean running;
    private volatile Thread thread;

    /**
     * @param writer            the stream
     * @param instanceId        this instance's id, asked for at the first entry (it may need the server port)
     * @param epoch             this run's epoch
     * @param model             the served model's name
     * @param capacity          most events waiting; more are dropped
     * @param batchThreshold    events waiting that wake the publisher before the interval ends
     * @param maxEventsPerEntry most engine events in one stream entry
     * @param flushInterval     how often the publisher wakes
     * @param reannouncer       asks the engine to re-announce its cache (non-blocking)
     * @param meters            where the published/dropped counters go; null for none
     * @param clockMs           epoch milliseconds for the {@code ts} field
     */
    public RedisKvEventPublisher(KvEventStreamWriter writer, Supplier<String> instanceId, String epoch, String model,
                                 int capacity, int batchThreshold, int maxEventsPerEntry, Duration flushInterval,
                                 Runnable reannouncer, MeterRegistry meters, LongSupplier clockMs) {
        this.writer = Objects.requireNonNull(writer, "writer");
        this.instanceId = Objects.requireNonNull(instanceId, "instanceId");
        this.epoch = Objects.requireNonNull(epoch, "epoch");
        this.model = Objects.requireNonNull(model, "model");
        if (capacity < 1 || batchThreshold < 1 || maxEventsPerEntry < 1) {
            throw new IllegalArgumentException("capacity (" + capacity + "), batchThreshold (" + batchThreshold
                    + ") and maxEventsPerEntry (" + maxEventsPerEntry + ") must be >= 1");
        }
        this.capacity = capacity;
        this.batchThreshold = batchThreshold;
        this.maxEventsPerEntry = maxEventsPerEntry;
        this.flushInterval = Objects.requireNonNull(flushInterval, "flushInterval");
        this.reannouncer = Objects.requireNonNull(reannouncer, "reannouncer");
        this.clockMs = Objects.requireNonNull(clockMs, "clockMs");
        this.publishedCounter = meters == null ? null : Counter.builder("kvserve.kv.events.published")
                .description("engine KV events written to the Redis stream").register(meters);
        this.droppedCounter = meters == null ? null : Counter.builder("kvserve.kv.events.dropped")
                .description("engine KV events lost (buffer full or XADD failed); a re-announce follows")
                .register(meters);
    }

    /** Engine thread: queue the event, or drop and count it when the queue is full. Never blocks or throws. */
    @Override
    public void onEvent(KvEvent event) {
        int n = numQueued.incrementAndGet();
        if (n > capacity) {
            numQueued.decrementAndGet();
            dropped(1);
            return;
        }
        queue.offer(event);
        if (n == batchThreshold) {
            Thread t = thread;
            if (t != null) {
                LockSupport.unpark(t);
            }
        }
    }

    /** Asks for a re-announce of the engine's cache once Redis answers (kvshare's request). Thread-safe. */
    public void requestReannounce() {
        needsReannounce.set(true);
        Thread t = thread;
        if (t != null) {
            LockSupport.unpark(t);
        }
    }

    /** Engine events written to the stream so far. */
    public long numPublished() {
        return numPublished.get();
    }

    /** Engine events lost so far. */
    public long numDropped() {
        return numDropped.get();
    }

    /**
     * Publishes everything waiting, one entry per {@code maxEventsPerEntry} events; stops at the first
     * failed XADD. Then, if a re-announce is due and Redis answers, asks the engine for it. The
     * publisher thread's body; tests call it directly.
     */
    void flush() {
        boolean failed = false;
        boolean wrote = false;
        while (true) {
            KvEvent event;
            while (batcher.numEngineEvents() < maxEventsPerEntry && (event = queue.poll()) != null) {
                numQueued.decrementAndGet();
                batcher.add(event);
            }
            if (batcher.isEmpty() && !resetPending) {
                break;
            }
            int numEvents = batcher.numEngineEvents();
            List<KvStreamEvent> events = new ArrayList<>(numEvents + 1);
            boolean withReset = resetPending;
            if (withReset) {
                events.add(new KvStreamEvent.Reset());
            }
            events.addAll(batcher.drain());
            if (lostEvents.getAndSet(false)) {
                nextSeq++; // the gap consumers see
            }
            long seq = nextSeq++;
            try {
                writer.append(new KvEventEntry(instanceId.get(), epoch, seq, model, clockMs.getAsLong(), events));
            } catch (RuntimeException e) {
                failures.warn("could not publish KV events (seq " + seq + ", " + numEvents
                        + " events dropped; the cache is re-announced when Redis answers)", e);
                if (numEvents == 0) {
                    nextSeq = seq; // a lone reset lost nothing: no gap
                } else {
                    dropped(numEvents);
                    lostEvents.set(false); // the skipped seq is already the gap
                }
                failed = true;
                break;
            }
            wrote = true;
            resetPending = false;
            numPublished.addAndGet(numEvents);
            if (publishedCounter != null) {
                publishedCounter.increment(numEvents);
            }
        }
        if (wrote) {
            failures.recovered("publishing KV events again");
        }
        if (!failed && needsReannounce.get() && (wrote || writer.ping())) {
            needsReannounce.set(false);
            LOG.info("asking the engine to re-announce its KV cache");
            reannouncer.run();
        }
    }

    private void dropped(int numEvents) {
        if (numEvents == 0) {
            return;
        }
        lostEvents.set(true);
        needsReannounce.set(true);
        numDropped.addAndGet(numEvents);
        if (droppedCounter != null) {
            droppedCounter.increment(numEvents);
        }
    }

    private void runLoop() {
        long intervalNanos = flushInterval.toNanos();
        while (running) {
            try {
                flush();
            } catch (RuntimeException e) {
                failures.warn("the KV event publisher failed", e);
            }
            LockSupport.parkNanos(this, intervalNanos);
        }
        flush(); // what the engine emitted while it closed
    }

    @Override
    public synchronized void start() {
        if (running) {
            return;
        }
        running = true;
        thread = Thread.ofPlatform().name("kvserve-kv-events").daemon(true).start(this::runLoop);
    }

    @Override
    public void stop() {
        Thread t;
        synchronized (this) {
            if (!running) {
                return;
            }
            running = false;
            t = thread;
        }
        LockSupport.unpark(t);
        try {
            t.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        thread = null;
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    /** Starts before the model host (the reset entry comes first) and stops after it (its last events go out). */
    @Override
    public int getPhase() {
        return PlatformConfiguration.PLATFORM_PHASE;
    }
}
