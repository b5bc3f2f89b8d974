package io.kvserve.kvshare.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.kvserve.common.events.KvEventEntry;
import io.kvserve.common.events.KvStreamEvent;
import io.kvserve.common.events.RedisKeys;
import io.kvserve.common.kvcache.BlockHash;
import io.kvserve.kvshare.config.KvshareProperties;
import io.kvserve.kvshare.index.KvIndex;
import io.kvserve.testsupport.redis.RealRedis;
import io.kvserve.testsupport.redis.RedisEndpoint;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The stream consumer on a real Redis: bad entries are skipped and counted, gaps ask for a re-announce. */
@RealRedis
class EventConsumerTest {

    private final String run = UUID.randomUUID().toString().substring(0, 8);
    private final String stream = "kvserve:kv-events:consumer-" + run;
    private RedisClient client;
    private StatefulRedisConnection<String, String> connection;
    private KvIndex index;
    private EventConsumer consumer;
    private SimpleMeterRegistry meters;

    @BeforeEach
    void start(RedisEndpoint redis) {
        client = RedisClient.create(redis.uri());
        connection = client.connect();
        KvshareProperties properties = new KvshareProperties(redis.uri(), "kvshare-consumer-" + run + ":", stream,
                "g-" + run, "c1", 16, "", Duration.ofMillis(500), 8192, 64, Duration.ofMillis(300),
                Duration.ofSeconds(60), Duration.ofMillis(100), 64);
        index = new KvIndex(client, properties.keyPrefix());
        meters = new SimpleMeterRegistry();
        consumer = new EventConsumer(client, index, new InstanceRegistry(connection::sync), properties, meters);
        consumer.start();
    }

    @AfterEach
    void stop() {
        consumer.stop();
        index.close();
        connection.sync().del(stream);
        connection.close();
        client.shutdown();
    }

    private static BlockHash hash(int i) {
        return new BlockHash(0x1234L, i);
    }

    private void publish(String instance, long seq, List<KvStreamEvent> events) {
        connection.sync().xadd(stream, new KvEventEntry(instance, "e1", seq, "tiny", System.currentTimeMillis(), events)
                .toFields());
    }

    private double counter(String name, String status) {
        var counter = meters.find(name).tag("status", status).counter();
        return counter == null ? 0 : counter.count();
    }

    @Test
    void malformedEntries_areSkippedCountedAndConsumptionGoesOn() throws InterruptedException {
        connection.sync().xadd(stream, Map.of("instance", "i1", "events", "{not json"));
        connection.sync().xadd(stream, Map.of("garbage", "yes"));
        publish("i1", 1, List.of(new KvStreamEvent.Reset(),
                new KvStreamEvent.Stored(List.of(hash(1), hash(2)), Optional.empty(), 16)));

        await(() -> index.state("i1").map(s -> s.numBlocks() == 2).orElse(false), "i1's blocks indexed");
        assertThat(counter("kvshare_entries_total", "malformed")).isEqualTo(2);
        assertThat(counter("kvshare_entries_total", "applied")).isEqualTo(1);
        assertThat(connection.sync().xpending(stream, "g-" + run).getCount()).as("everything acknowledged").isZero();
    }

    @Test
    void gapNotFilledInTime_publishesAReannounceRequest() throws InterruptedException {
        LinkedBlockingQueue<String> requests = new LinkedBlockingQueue<>();
        StatefulRedisPubSubConnection<String, String> pubsub = client.connectPubSub();
        pubsub.addListener(new RedisPubSubAdapter<>() {
            @Override
            public void message(String channel, String message) {
                requests.add(channel);
            }
        });
        pubsub.sync().subscribe(RedisKeys.reannounceChannel("i2"));
        try {
            publish("i2", 1, List.of(new KvStreamEvent.Reset()));
            publish("i2", 4, List.of(new KvStreamEvent.Stored(List.of(hash(7)), Optional.empty(), 16)));

            assertThat(requests.poll(10, TimeUnit.SECONDS)).isEqualTo(RedisKeys.reannounceChannel("i2"));
            assertThat(meters.find("kvshare_gap_seqs_total").counter().count()).isEqualTo(2);
            // the subscriber may hear the message before the consumer thread counts it
            await(() -> meters.find("kvshare_reannounce_requests_total").counter().count() == 1,
                    "the request counted");
        } finally {
            pubsub.close();
        }
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("timed out waiting until " + what);
    }
}
