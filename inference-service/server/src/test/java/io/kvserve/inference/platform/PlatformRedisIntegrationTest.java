package io.kvserve.inference.platform;

import static org.assertj.core.api.Assertions.assertThat;

import io.kvserve.common.events.InstanceRegistration;
import io.kvserve.common.events.InstanceStatus;
import io.kvserve.common.events.KvEventEntry;
import io.kvserve.common.events.KvStreamEvent;
import io.kvserve.common.events.RedisKeys;
import io.kvserve.common.kvcache.BlockHash;
import io.kvserve.common.kvcache.BlockHasher;
import io.kvserve.common.model.gen.ModelGenerator;
import io.kvserve.common.model.gen.ModelPreset;
import io.kvserve.engine.EngineRequest;
import io.kvserve.engine.FinishReason;
import io.kvserve.engine.RequestOutput;
import io.kvserve.engine.sample.SamplingParams;
import io.kvserve.inference.InferenceServerApplication;
import io.kvserve.inference.model.ModelHost;
import io.kvserve.inference.model.ModelState;
import io.kvserve.inference.model.ServedModel;
import io.kvserve.testsupport.redis.RealRedis;
import io.kvserve.testsupport.redis.RedisEndpoint;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.data.domain.Range;
import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.connection.stream.MapRecord;
import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * The whole instance against a real Redis: registration, heartbeats, the KV event stream (reset,
 * seq without gaps, stored hashes equal to {@link BlockHasher}'s), the re-announce channel and
 * unregistration on close. The application is started with {@link SpringApplicationBuilder} on a
 * random port (what {@code @SpringBootTest(webEnvironment = RANDOM_PORT)} does) because the test
 * closes the context itself to see the registration go.
 */
@RealRedis
class PlatformRedisIntegrationTest {

    private static final byte[] SALT = "platform-test-salt-0123456789abc".getBytes(StandardCharsets.US_ASCII);

    @TempDir
    Path dir;

    private LettuceConnectionFactory factory;
    private StringRedisTemplate redis;
    private String stream;
    private ConfigurableApplicationContext context;

    @BeforeEach
    void connect(RedisEndpoint endpoint) {
        factory = new LettuceConnectionFactory(new RedisStandaloneConfiguration(endpoint.host(), endpoint.port()));
        factory.afterPropertiesSet();
        factory.start();
        redis = new StringRedisTemplate(factory);
        redis.afterPropertiesSet();
        stream = endpoint.uniqueKeyPrefix("platform") + "kv-events";
    }

    @AfterEach
    void cleanUp() {
        if (context != null) {
            context.close();
        }
        redis.delete(stream);
        factory.destroy();
    }

    @Test
    void instance_registersPublishesKvEventsReannouncesAndUnregisters(RedisEndpoint endpoint) throws Exception {
        Path model = dir.resolve("tiny.gguf");
        new ModelGenerator(ModelPreset.TINY, 42).writeGguf(model, ModelGenerator.WeightType.F32);
        String id = "it-" + UUID.randomUUID().toString().substring(0, 8);
        context = new SpringApplicationBuilder(InferenceServerApplication.class).run(
                "--server.port=0", "--kvserve.engine.model=" + model, "--kvserve.engine.threads=1",
                "--kvserve.engine.kv-cache.num-blocks=64", "--kvserve.redis.url=" + endpoint.uri(),
                "--kvserve.redis.kv-event-stream=" + stream, "--kvserve.instance.id=" + id,
                "--kvserve.instance.heartbeat-interval=200ms", "--kvserve.instance.registration-ttl=5s");
        ModelHost host = context.getBean(ModelHost.class);
        awaitTrue("the model is ready", () -> host.state() == ModelState.READY);

        // registration: a hash with a TTL and a member of the sorted set
        String key = RedisKeys.instance(id);
        awaitTrue("the registration", () -> redis.hasKey(key));
        InstanceRegistration registration = InstanceRegistration.fromHash(hashOf(key));
        assertThat(registration.id()).isEqualTo(id);
        assertThat(registration.status()).isEqualTo(InstanceStatus.READY);
        assertThat(registration.blockSize()).isEqualTo(16);
        assertThat(registration.numKvBlocks()).isEqualTo(64);
        assertThat(registration.url()).startsWith("http://").doesNotEndWith(":0");
        assertThat(redis.getExpire(key, TimeUnit.MILLISECONDS)).isBetween(1L, 5_000L);
        assertThat(redis.opsForZSet().score(RedisKeys.INSTANCES, id)).isNotNull();

        // the stream starts with the epoch's reset
        awaitTrue("the reset entry", () -> !entries().isEmpty());
        KvEventEntry first = entries().getFirst();
        assertThat(first.seq()).isEqualTo(1);
        assertThat(first.instance()).isEqualTo(id);
        assertThat(first.epoch()).isEqualTo(registration.epoch());
        assertThat(first.events().getFirst()).isEqualTo(new KvStreamEvent.Reset());

        // a generation of a 2-full-block prompt: stored events with BlockHasher's hashes, seq without gaps
        ServedModel served = host.require();
        int[] prompt = new Random(3).ints(40, 3, served.info().vocabSize()).toArray();
        CompletableFuture<RequestOutput> done = new CompletableFuture<>();
        served.engine().submit(EngineRequest.of("it-1", prompt, SamplingParams.builder().maxTokens(4)
                .ignoreEos(true).build()).withTenant("tenant-it", SALT, 0), output -> {
                    if (output.finished()) {
                        done.complete(output);
                    }
                });
        done.get(60, TimeUnit.SECONDS);
        List<BlockHash> chain = new BlockHasher(16).hashChain(SALT, prompt, prompt.length);
        awaitTrue("the stored events", () -> storedHashes(entries()).size() >= 2);
        List<KvEventEntry> entries = entries();
        assertSeqWithoutGaps(entries);
        assertThat(storedHashes(entries).subList(0, 2)).isEqualTo(chain);
        KvStreamEvent.Stored stored = (KvStreamEvent.Stored) entries.stream().flatMap(e -> e.events().stream())
                .filter(e -> e instanceof KvStreamEvent.Stored).findFirst().orElseThrow();
        assertThat(stored.parentHash()).isEmpty();
        assertThat(stored.blockSize()).isEqualTo(16);
        assertThat(context.getBean(MeterRegistry.class).counter("kvserve.kv.events.published").count())
                .isGreaterThanOrEqualTo(2); // kvserve_kv_events_published_total in Prometheus

        // the re-announce channel: cleared, then every cached block again
        int numBefore = entries.size();
        redis.convertAndSend(RedisKeys.reannounceChannel(id), "reannounce");
        awaitTrue("the re-announce", () -> entries().stream().skip(numBefore)
                .anyMatch(e -> e.events().contains(new KvStreamEvent.Cleared())));
        awaitTrue("the re-announced blocks", () -> {
            List<KvEventEntry> after = entries().subList(numBefore, entries().size());
            return storedHashes(after).containsAll(chain);
        });
        assertSeqWithoutGaps(entries());

        // heartbeats refresh the figures
        long beat = registration.heartbeatAtMs();
        awaitTrue("a later heartbeat", () -> InstanceRegistration.fromHash(hashOf(key)).heartbeatAtMs() > beat);

        // closing with a request in flight: draining while it finishes, then unregistered
        CompletableFuture<RequestOutput> slow = new CompletableFuture<>();
        CountDownLatch running = new CountDownLatch(1);
        served.engine().submit(EngineRequest.of("it-slow", new int[] {5, 6, 7}, SamplingParams.builder().maxTokens(20)
                .ignoreEos(true).build()), output -> {
                    running.countDown();
                    sleep(50); // on the engine thread: keeps the request in flight for about a second
                    if (output.finished()) {
                        slow.complete(output);
                    }
                });
        assertThat(running.await(30, TimeUnit.SECONDS)).isTrue();
        awaitTrue("the request counted as running", () -> served.engine().stats().numRunning() == 1);
        ConfigurableApplicationContext closing = context;
        context = null;
        Thread closer = Thread.ofPlatform().start(closing::close);
        awaitTrue("status draining", () -> {
            Map<String, String> hash = hashOf(key);
            return hash.isEmpty() || "draining".equals(hash.get("status"));
        });
        assertThat(slow).isNotDone();
        closer.join(60_000);
        assertThat(slow.get(1, TimeUnit.SECONDS).finishReason()).isEqualTo(FinishReason.LENGTH);
        assertThat(redis.hasKey(key)).isFalse();
        assertThat(redis.opsForZSet().score(RedisKeys.INSTANCES, id)).isNull();
    }

    private List<KvEventEntry> entries() {
        List<KvEventEntry> out = new ArrayList<>();
        for (MapRecord<String, Object, Object> record : redis.opsForStream().range(stream, Range.unbounded())) {
            Map<String, String> fields = new LinkedHashMap<>();
            record.getValue().forEach((k, v) -> fields.put(k.toString(), v.toString()));
            out.add(KvEventEntry.fromFields(fields));
        }
        return out;
    }

    private Map<String, String> hashOf(String key) {
        Map<String, String> hash = new LinkedHashMap<>();
        redis.opsForHash().entries(key).forEach((k, v) -> hash.put(k.toString(), v.toString()));
        return hash;
    }

    private static List<BlockHash> storedHashes(List<KvEventEntry> entries) {
        List<BlockHash> hashes = new ArrayList<>();
        for (KvEventEntry entry : entries) {
            for (KvStreamEvent event : entry.events()) {
                if (event instanceof KvStreamEvent.Stored s) {
                    hashes.addAll(s.blockHashes());
                }
            }
        }
        return hashes;
    }

    private static void assertSeqWithoutGaps(List<KvEventEntry> entries) {
        Set<String> epochs = new HashSet<>();
        for (int i = 0; i < entries.size(); i++) {
            assertThat(entries.get(i).seq()).as("entry %d", i).isEqualTo(i + 1);
            epochs.add(entries.get(i).epoch());
        }
        assertThat(epochs).hasSize(1);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void awaitTrue(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(20);
        }
    }
}
