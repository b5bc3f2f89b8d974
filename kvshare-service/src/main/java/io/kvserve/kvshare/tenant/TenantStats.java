package io.kvserve.kvshare.tenant;

import io.lettuce.core.RedisFuture;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.api.sync.RedisCommands;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.LongAdder;

/**
 * Per-tenant and per-instance prefix-cache hit counters in Redis.
 *
 * <p>{@link #record} runs on every hit query, so it never waits: it issues asynchronous
 * {@code HINCRBY}s on the shared Lettuce connection (which writes them back to back, a pipeline
 * without a round trip per command) and returns. A failed write is counted in {@link #numErrors()},
 * never thrown: losing a statistic must not fail a query. Counters are exact only while Redis answers.
 *
 * <p>Keys: HASH {@code <prefix>stats:tenant:<id>} {@code {queries, query_blocks, hit_blocks}}, HASH
 * {@code <prefix>stats:instance:<id>} {@code {queries, hit_blocks}}, SET {@code <prefix>stats:instances}.
 * A tenant's {@code hit_blocks} counts the best instance of each query (so it never exceeds
 * {@code query_blocks}); an instance's counts its own hits.
 *
 * <p>Who may read: a tenant's view only that tenant and operators, instance views only operators.
 * This class does not know who asks; the API layer enforces it. Never expose one tenant's numbers to
 * another: hit rates over time leak what others send (see "Why tenancy is designed this way").
 *
 * <p>Thread-safe. {@link #record} never blocks; the two readers do.
 */
public final class TenantStats {

    private final RedisAsyncCommands<String, String> async;
    private final RedisCommands<String, String> sync;
    private final TenantKeys keys;
    private final LongAdder numRecorded = new LongAdder();
    private final LongAdder numErrors = new LongAdder();

    /** Counters under {@code keyPrefix} (e.g. {@code "kvshare:"}). */
    public TenantStats(StatefulRedisConnection<String, String> connection, String keyPrefix) {
        Objects.requireNonNull(connection, "connection");
        this.async = connection.async();
        this.sync = connection.sync();
        this.keys = new TenantKeys(keyPrefix);
    }

    /**
     * Adds one query of {@code tenantId} over {@code numQueryBlocks} full blocks that found
     * {@code hitsByInstance} cached blocks on each instance asked. Returns at once.
     *
     * @throws IllegalArgumentException for an invalid tenant id, a negative count, a hit count above
     *                                  {@code numQueryBlocks} or an empty instance id (bugs of the caller)
     */
    public void record(String tenantId, int numQueryBlocks, Map<String, Integer> hitsByInstance) {
        TenantIds.requireValid(tenantId);
        Objects.requireNonNull(hitsByInstance, "hitsByInstance");
        if (numQueryBlocks < 0) {
            throw new IllegalArgumentException("numQueryBlocks must be >= 0, got " + numQueryBlocks);
        }
        int bestHitBlocks = 0;
        for (Map.Entry<String, Integer> e : hitsByInstance.entrySet()) {
            TenantIds.requireName("instance id", e.getKey());
            int hits = Objects.requireNonNull(e.getValue(), "hit blocks of instance " + e.getKey());
            if (hits < 0 || hits > numQueryBlocks) {
                throw new IllegalArgumentException("instance " + e.getKey() + " has " + hits
                        + " hit blocks, outside 0.." + numQueryBlocks + " (numQueryBlocks)");
            }
            bestHitBlocks = Math.max(bestHitBlocks, hits);
        }
        try {
            String tenantKey = keys.tenantStats(tenantId);
            watch(async.hincrby(tenantKey, "queries", 1));
            watch(async.hincrby(tenantKey, "query_blocks", numQueryBlocks));
            watch(async.hincrby(tenantKey, "hit_blocks", bestHitBlocks));
            if (!hitsByInstance.isEmpty()) {
                for (Map.Entry<String, Integer> e : hitsByInstance.entrySet()) {
                    String instanceKey = keys.instanceStats(e.getKey());
                    watch(async.hincrby(instanceKey, "queries", 1));
                    watch(async.hincrby(instanceKey, "hit_blocks", e.getValue()));
                }
                watch(async.sadd(keys.statsInstances(), hitsByInstance.keySet().toArray(String[]::new)));
            }
        } catch (RuntimeException e) {
            // Lettuce refuses at once when its request queue is full or the connection is closed for good
            numErrors.increment();
        }
        numRecorded.increment();
    }

    /** One tenant's counters (zeros if it has none). Blocking. */
    public TenantStatsView of(String tenantId) {
        TenantIds.requireValid(tenantId);
        Map<String, String> h = sync.hgetall(keys.tenantStats(tenantId));
        return new TenantStatsView(tenantId, count(h, "queries"), count(h, "query_blocks"), count(h, "hit_blocks"));
    }

    /** Every instance's counters, by instance id, sorted. Blocking (one round trip per instance, pipelined). */
    public Map<String, InstanceStatsView> instances() {
        List<String> ids = new ArrayList<>(sync.smembers(keys.statsInstances()));
        Collections.sort(ids);
        Map<String, RedisFuture<Map<String, String>>> futures = new LinkedHashMap<>();
        for (String id : ids) {
            futures.put(id, async.hgetall(keys.instanceStats(id)));
        }
        Map<String, InstanceStatsView> out = new TreeMap<>();
        for (Map.Entry<String, RedisFuture<Map<String, String>>> e : futures.entrySet()) {
            Map<String, String> h = await(e.getValue());
            out.put(e.getKey(), new InstanceStatsView(e.getKey(), count(h, "queries"), count(h, "hit_blocks")));
        }
        return Collections.unmodifiableMap(out);
    }

    /** Calls of {@link #record} so far (on this replica). */
    public long numRecorded() {
        return numRecorded.sum();
    }

    /** Redis commands of {@link #record} that failed (on this replica); their counts are lost. */
    public long numErrors() {
        return numErrors.sum();
    }

    private void watch(RedisFuture<?> future) {
        future.whenComplete((v, error) -> {
            if (error != null) {
                numErrors.increment();
            }
        });
    }

    private static long count(Map<String, String> h, String field) {
        String v = h.get(field);
        return v == null ? 0 : Long.parseLong(v);
    }

    private static <T> T await(RedisFuture<T> future) {
        try {
            return future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while reading instance statistics", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("reading instance statistics failed: " + e.getCause().getMessage(),
                    e.getCause());
        }
    }

    @Override
    public String toString() {
        return "TenantStats[" + keys.prefix() + ", " + numRecorded() + " recorded, " + numErrors() + " errors]";
    }
}
