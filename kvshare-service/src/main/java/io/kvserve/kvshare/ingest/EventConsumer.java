package io.kvserve.kvshare.ingest;

import io.kvserve.common.events.KvEventEntry;
import io.kvserve.common.events.RedisKeys;
import io.kvserve.kvshare.config.KvshareProperties;
import io.kvserve.kvshare.index.ApplyResult;
import io.kvserve.kvshare.index.KvIndex;
import io.lettuce.core.Consumer;
import io.lettuce.core.RedisBusyException;
import io.lettuce.core.RedisClient;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.XAutoClaimArgs;
import io.lettuce.core.XGroupCreateArgs;
import io.lettuce.core.XReadArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

/**
 * Folds the instances' KV events into the index: one platform thread per replica reads the stream
 * through the consumer group (so replicas share the entries and a restart resumes from its pending
 * entries), applies each entry with one atomic script, and acknowledges it.
 *
 * <pre>
 *   start: XGROUP CREATE (MKSTREAM; an existing group is fine) -&gt; replay this consumer's pending entries
 *   loop:  XREADGROUP COUNT n BLOCK 1s &gt;  -&gt; decode -&gt; KvIndex.apply -&gt; XACK
 *          malformed entry: counted, logged once a minute, acknowledged (never stops the loop)
 *   every registry-refresh:
 *          registry refresh; an indexed instance gone from the registry for dead-instance-grace -&gt; dropInstance
 *          gaps older than gap-grace -&gt; PUBLISH kvserve:instance:&lt;id&gt;:reannounce, clearGaps
 *          XAUTOCLAIM entries another replica left pending for 30 s (it died)
 *   Redis down: the loop backs off (1 s) and retries; queries answer "unknown" meanwhile
 * </pre>
 */
public final class EventConsumer implements SmartLifecycle {

    private static final Logger LOG = LoggerFactory.getLogger(EventConsumer.class);
    private static final Duration CLAIM_IDLE = Duration.ofSeconds(30);
    private static final long LOG_EVERY_MS = 60_000;

    private final RedisClient client;
    private final KvIndex index;
    private final InstanceRegistry registry;
    private final KvshareProperties properties;
    private final String consumer;
    private final Counter entriesApplied;
    private final Counter entriesDuplicate;
    private final Counter entriesMalformed;
    private final Counter blocksStored;
    private final Counter blocksRemoved;
    private final Counter gapSeqs;
    private final Counter reannounceRequests;
    private final Counter instancesDropped;
    private final AtomicLong lag = new AtomicLong(-1);
    private final Map<String, Long> notLiveSinceMs = new HashMap<>();

    private volatile boolean running;
    private volatile boolean redisUp;
    private Thread thread;
    private long lastMaintenanceMs;
    private long lastMalformedLogMs;

    public EventConsumer(RedisClient client, KvIndex index, InstanceRegistry registry, KvshareProperties properties,
                         MeterRegistry meters) {
        this.client = client;
        this.index = index;
        this.registry = registry;
        this.properties = properties;
        this.consumer = properties.consumer();
        this.entriesApplied = Counter.builder("kvshare_entries_total").tag("status", "applied").register(meters);
        this.entriesDuplicate = Counter.builder("kvshare_entries_total").tag("status", "duplicate").register(meters);
        this.entriesMalformed = Counter.builder("kvshare_entries_total").tag("status", "malformed").register(meters);
        this.blocksStored = Counter.builder("kvshare_blocks_stored_total").register(meters);
        this.blocksRemoved = Counter.builder("kvshare_blocks_removed_total").register(meters);
        this.gapSeqs = Counter.builder("kvshare_gap_seqs_total")
                .description("Sequence numbers found missing in an instance's events").register(meters);
        this.reannounceRequests = Counter.builder("kvshare_reannounce_requests_total").register(meters);
        this.instancesDropped = Counter.builder("kvshare_instances_dropped_total")
                .description("Instances whose entries were dropped (registration expired)").register(meters);
        meters.gauge("kvshare_stream_lag_entries", lag, AtomicLong::doubleValue);
    }

    /** Whether the last Redis call of the loop succeeded. */
    public boolean redisUp() {
        return redisUp;
    }

    /** Entries in the stream not yet delivered to the group (Redis 7's XINFO GROUPS lag), -1 unknown. */
    public long lag() {
        return lag.get();
    }

    @Override
    public synchronized void start() {
        if (running) {
            return;
        }
        running = true;
        thread = Thread.ofPlatform().name("kvshare-consumer").daemon(true).start(this::run);
    }

    @Override
    public void stop() {
        running = false;
        Thread t = thread;
        if (t != null) {
            t.interrupt();
            try {
                t.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    private void run() {
        while (running) {
            try (StatefulRedisConnection<String, String> connection = client.connect()) {
                connection.setTimeout(Duration.ofSeconds(5));
                RedisCommands<String, String> redis = connection.sync();
                createGroup(redis);
                index.drainPendingDrops(); // a replica that crashed mid-drop left work behind
                redisUp = true;
                replayPending(redis);
                while (running) {
                    List<StreamMessage<String, String>> messages = redis.xreadgroup(
                            Consumer.from(properties.consumerGroup(), consumer),
                            XReadArgs.Builder.count(properties.readBatch()).block(1000),
                            XReadArgs.StreamOffset.lastConsumed(properties.kvEventStream()));
                    process(redis, messages);
                    maintain(redis);
                }
            } catch (RuntimeException e) {
                if (!running) {
                    return;
                }
                if (redisUp) {
                    LOG.warn("KV event consumer lost Redis ({}); retrying every second", e.toString());
                }
                redisUp = false;
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException ie) {
                    return;
                }
            }
        }
    }

    private void createGroup(RedisCommands<String, String> redis) {
        try {
            redis.xgroupCreate(XReadArgs.StreamOffset.from(properties.kvEventStream(), "0"),
                    properties.consumerGroup(), XGroupCreateArgs.Builder.mkstream());
            LOG.info("created consumer group {} on {}", properties.consumerGroup(), properties.kvEventStream());
        } catch (RedisBusyException e) {
            // the group exists: another replica or an earlier run made it
        }
    }

    /** Entries delivered to this consumer before a restart and never acknowledged. */
    private void replayPending(RedisCommands<String, String> redis) {
        while (running) {
            List<StreamMessage<String, String>> pending = redis.xreadgroup(
                    Consumer.from(properties.consumerGroup(), consumer),
                    XReadArgs.Builder.count(properties.readBatch()),
                    XReadArgs.StreamOffset.from(properties.kvEventStream(), "0"));
            if (pending.isEmpty()) {
                return;
            }
            process(redis, pending);
        }
    }

    private void process(RedisCommands<String, String> redis, List<StreamMessage<String, String>> messages) {
        if (messages.isEmpty()) {
            return;
        }
        List<String> ids = new ArrayList<>(messages.size());
        for (StreamMessage<String, String> message : messages) {
            ids.add(message.getId());
            if (message.getBody() == null || message.getBody().isEmpty()) {
                malformed(message.getId(), "no fields (the entry was trimmed or deleted)");
                continue;
            }
            KvEventEntry entry;
            try {
                entry = KvEventEntry.fromFields(message.getBody());
            } catch (RuntimeException e) {
                malformed(message.getId(), e.getMessage());
                continue;
            }
            ApplyResult result = index.apply(entry);
            switch (result.status()) {
                case DUPLICATE -> entriesDuplicate.increment();
                default -> entriesApplied.increment();
            }
            blocksStored.increment(result.numStored());
            blocksRemoved.increment(result.numRemoved());
            if (result.numGapSeqs() > 0) {
                gapSeqs.increment(result.numGapSeqs());
                LOG.info("instance {}: {} sequence numbers missing before seq {} (epoch {})", entry.instance(),
                        result.numGapSeqs(), entry.seq(), entry.epoch());
            }
        }
        redis.xack(properties.kvEventStream(), properties.consumerGroup(), ids.toArray(String[]::new));
    }

    private void malformed(String id, String why) {
        entriesMalformed.increment();
        long now = System.currentTimeMillis();
        if (now - lastMalformedLogMs >= LOG_EVERY_MS) {
            lastMalformedLogMs = now;
            LOG.warn("skipped malformed KV event entry {} on {} ({}); further ones are counted in "
                    + "kvshare_entries_total{{status=\"malformed\"}} and logged at most once a minute",
                    id, properties.kvEventStream(), why);
        }
    }

    /** Registry, dead instances, overdue gaps, orphaned pending entries, lag: once per registry-refresh. */
    private void maintain(RedisCommands<String, String> redis) {
        long now = System.currentTimeMillis();
        if (now - lastMaintenanceMs < properties.registryRefresh().toMillis()) {
            return;
        }
        lastMaintenanceMs = now;
        registry.refresh();
        dropDeadInstances(redis, now);
        for (String id : index.instancesWithOverdueGaps(properties.gapGrace().toMillis())) {
            redis.publish(RedisKeys.reannounceChannel(id), "gap");
            index.clearGaps(id);
            reannounceRequests.increment();
            LOG.info("instance {}: asked to re-announce its cache (events missing for over {})", id,
                    properties.gapGrace());
        }
        var claimed = redis.xautoclaim(properties.kvEventStream(), XAutoClaimArgs.Builder
                .xautoclaim(Consumer.from(properties.consumerGroup(), consumer), CLAIM_IDLE, "0-0")
                .count(properties.readBatch()));
        if (claimed != null && !claimed.getMessages().isEmpty()) {
            LOG.info("claimed {} entries another replica left pending", claimed.getMessages().size());
            process(redis, claimed.getMessages());
        }
        lag.set(readLag(redis));
    }

    /** An instance indexed here but absent from the registry for {@code dead-instance-grace} is dropped. */
    private void dropDeadInstances(RedisCommands<String, String> redis, long now) {
        Set<String> live = registry.liveIds();
        long graceMs = properties.deadInstanceGrace().toMillis();
        Set<String> indexed = index.indexedInstances();
        for (String id : indexed) {
            if (live.contains(id)) {
                notLiveSinceMs.remove(id);
                continue;
            }
            long since = notLiveSinceMs.computeIfAbsent(id, k -> now);
            if (now - since >= graceMs) {
                long numDropped = index.dropInstance(id);
                notLiveSinceMs.remove(id);
                instancesDropped.increment();
                LOG.info("instance {} left the registry: dropped its {} indexed blocks", id, numDropped);
            }
        }
        notLiveSinceMs.keySet().retainAll(indexed);
    }

    private long readLag(RedisCommands<String, String> redis) {
        try {
            for (Object group : redis.xinfoGroups(properties.kvEventStream())) {
                if (group instanceof List<?> fields) {
                    String name = null;
                    Object lagValue = null;
                    for (int i = 0; i + 1 < fields.size(); i += 2) {
                        String key = String.valueOf(fields.get(i)).toLowerCase(Locale.ROOT);
                        if (key.equals("name")) {
                            name = String.valueOf(fields.get(i + 1));
                        } else if (key.equals("lag")) {
                            lagValue = fields.get(i + 1);
                        }
                    }
                    if (properties.consumerGroup().equals(name) && lagValue instanceof Number n) {
                        return n.longValue();
                    }
                }
            }
        } catch (RuntimeException e) {
            LOG.debug("XINFO GROUPS failed: {}", e.toString());
        }
        return -1;
    }

    /** Stops before the web layer goes (phase above it); starts after Redis beans exist. */
    @Override
    public int getPhase() {
        return SmartLifecycle.DEFAULT_PHASE - 100;
    }
}
