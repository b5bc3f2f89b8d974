package io.kvserve.scheduler.service;

import io.kvserve.common.events.InstanceRegistration;
import io.kvserve.common.events.InstanceStatus;
import io.kvserve.common.events.KvEventEntry;
import io.kvserve.common.events.KvStreamEvent;
import io.kvserve.common.events.RedisKeys;
import io.kvserve.common.kvcache.BlockHasher;
import io.kvserve.common.model.ModelFile;
import io.kvserve.common.model.gen.ModelGenerator;
import io.kvserve.common.model.gen.ModelPreset;
import io.kvserve.common.tokenizer.Tokenizer;
import io.kvserve.kvshare.KvshareApplication;
import io.kvserve.kvshare.tenant.TenantSalts;
import io.kvserve.scheduler.SchedulerApplication;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Placement latency end to end through the service ({@code bin/kvserve bench-placement}): kvshare and
 * the scheduler run in this JVM on the given Redis; 16 instances are registered and half of them
 * announce the blocks of a 4k-token tenant prompt; then {@code POST /v1/place} is timed for that
 * prompt (parse, tokenize 4k tokens, hash 256 blocks, kvshare queries them over 16 instances, score).
 *
 * <pre>bin/kvserve bench-placement [--redis-url redis://127.0.0.1:6379] [--instances 16] [--tokens 4096] [--requests 2000]</pre>
 */
public final class PlacementBenchmark {

    public static void main(String[] args) throws Exception {
        String redisUrl = "redis://127.0.0.1:6379";
        int numInstances = 16;
        int numTokens = 4096;
        int numRequests = 2000;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--redis-url" -> redisUrl = args[++i];
                case "--instances" -> numInstances = Integer.parseInt(args[++i]);
                case "--tokens" -> numTokens = Integer.parseInt(args[++i]);
                case "--requests" -> numRequests = Integer.parseInt(args[++i]);
                default -> {
                    System.err.println("usage: bench-placement [--redis-url URL] [--instances 16] [--tokens 4096] "
                            + "[--requests 2000]");
                    System.exit(2);
                }
            }
        }
        String run = UUID.randomUUID().toString().substring(0, 8);
        String model = "bench-" + run;
        String prefix = "kvshare-bench-" + run + ":";
        String stream = "kvserve:kv-events:bench-" + run;
        Path dir = Files.createTempDirectory("kvserve-bench-placement");
        Path modelFile = dir.resolve("model.gguf");
        new ModelGenerator(ModelPreset.SMOLLM2_135M, 1).writeGguf(modelFile, ModelGenerator.WeightType.Q8_0);
        List<String> ids = new ArrayList<>();
        try (RedisClient client = RedisClient.create(redisUrl);
             StatefulRedisConnection<String, String> redis = client.connect()) {
            // a prompt of about numTokens tokens, as the scheduler will tokenize it
            String text;
            int[] promptIds;
            try (ModelFile file = ModelFile.open(modelFile)) {
                Tokenizer tokenizer = file.tokenizer().tokenizer();
                StringBuilder sb = new StringBuilder();
                int n = 0;
                while ((promptIds = tokenizer.encode(sb.toString(), Tokenizer.EncodeOptions.PROMPT)).length < numTokens) {
                    sb.append("word").append(n++ % 97).append(' ');
                }
                text = sb.toString();
            }
            byte[] salt = new TenantSalts(redis, prefix).saltOf("acme");
            var chain = new BlockHasher().hashChain(salt, promptIds, promptIds.length);
            long now = System.currentTimeMillis();
            for (int i = 0; i < numInstances; i++) {
                String id = "bench-" + run + "-" + i;
                ids.add(id);
                redis.sync().hset(RedisKeys.instance(id), new InstanceRegistration(id, "http://" + id + ":8000", model,
                        "llama", 16, 8192, 8192, 131072, "e1", now, now, i % 4, 0, 0.2, 0, InstanceStatus.READY).toHash());
                redis.sync().pexpire(RedisKeys.instance(id), 3_600_000);
                redis.sync().zadd(RedisKeys.INSTANCES, now, id);
                int numHeld = i % 2 == 0 ? chain.size() * (i + 1) / numInstances : 0;
                redis.sync().xadd(stream, new KvEventEntry(id, "e1", 1, model, now, List.of(new KvStreamEvent.Reset(),
                        new KvStreamEvent.Stored(chain.subList(0, Math.max(1, numHeld)), Optional.empty(), 16))).toFields());
            }
            // the instances heart-beat (their reported load stays as registered), as live ones do
            var heartbeats = java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
            heartbeats.scheduleWithFixedDelay(() -> {
                for (String id : ids) {
                    redis.async().hset(RedisKeys.instance(id), "heartbeat_at_ms", Long.toString(System.currentTimeMillis()));
                }
            }, 200, 200, java.util.concurrent.TimeUnit.MILLISECONDS);
            ConfigurableApplicationContext kvshare = KvshareApplication.create().run("--server.port=0",
                    "--kvshare.redis-url=" + redisUrl, "--kvshare.key-prefix=" + prefix, "--kvshare.kv-event-stream=" + stream,
                    "--kvshare.consumer-group=bench-" + run, "--logging.level.root=WARN");
            ConfigurableApplicationContext scheduler = SchedulerApplication.create().run("--server.port=0",
                    "--scheduler.redis-url=" + redisUrl, "--scheduler.kvshare-key-prefix=" + prefix,
                    "--scheduler.kvshare-url=http://localhost:" + kvshare.getEnvironment().getProperty("local.server.port"),
                    "--scheduler.models." + model + "=" + modelFile, "--logging.level.root=WARN");
            try {
                String url = "http://localhost:" + scheduler.getEnvironment().getProperty("local.server.port") + "/v1/place";
                String body = "{\"api\":\"completions\",\"tenant_id\":\"acme\",\"request\":{\"model\":\"" + model
                        + "\",\"prompt\":\"" + text + "\",\"max_tokens\":16}}";
                HttpClient http = HttpClient.newHttpClient();
                HttpRequest request = HttpRequest.newBuilder(URI.create(url)).header("content-type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(body)).build();
                String first = "";
                for (int i = 0; i < 200; i++) { // warm-up, and wait for kvshare to index the blocks
                    first = http.send(request, HttpResponse.BodyHandlers.ofString()).body();
                }
                var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                        .getOperatingSystemMXBean();
                long cpuNanos0 = os.getProcessCpuTime();
                long[] gc0 = gcCountAndMillis();
                long[] micros = new long[numRequests];
                for (int i = 0; i < numRequests; i++) {
                    long t0 = System.nanoTime();
                    HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
                    micros[i] = (System.nanoTime() - t0) / 1000;
                    if (response.statusCode() != 200) {
                        throw new IllegalStateException("placement failed: " + response.body());
                    }
                }
                long cpuNanos = os.getProcessCpuTime() - cpuNanos0;
                long[] gc1 = gcCountAndMillis();
                Arrays.sort(micros);
                System.out.printf("bench-placement: %d-token prompt (%d blocks), %d instances, %d placements, policy combined%n",
                        promptIds.length, chain.size(), numInstances, numRequests);
                System.out.println("sample answer: " + first.replaceAll("\"prompt_token_ids\":\\[[^]]*]", "\"prompt_token_ids\":[...]")
                        .replaceAll("\"cache_salt\":\"[^\"]*\"", "\"cache_salt\":\"<redacted>\""));
                System.out.printf("latency (HTTP round trip, one client): p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms%n",
                        micros[numRequests / 2] / 1000.0, micros[numRequests * 9 / 10] / 1000.0,
                        micros[numRequests * 99 / 100] / 1000.0, micros[numRequests - 1] / 1000.0);
                System.out.printf("this JVM (client, scheduler, kvshare): %.2f ms of CPU per placement; %d GC pauses, "
                        + "%d ms in all%n", cpuNanos / 1e6 / numRequests, gc1[0] - gc0[0], gc1[1] - gc0[1]);
                // where the time goes: the services' own timers (means over warm-up and measured calls)
                var placement = scheduler.getBean(io.micrometer.core.instrument.MeterRegistry.class)
                        .find("kvserve_scheduler_placement_latency").timer();
                var query = kvshare.getBean(io.micrometer.core.instrument.MeterRegistry.class)
                        .find("kvshare_query_latency").timer();
                System.out.printf("inside the services (mean): scheduler parse..answer %.2f ms, of which kvshare's "
                        + "hit query %.2f ms%n",
                        placement.mean(java.util.concurrent.TimeUnit.MILLISECONDS),
                        query.mean(java.util.concurrent.TimeUnit.MILLISECONDS));
            } finally {
                heartbeats.shutdownNow();
                scheduler.close();
                kvshare.close();
                for (String id : ids) {
                    redis.sync().zrem(RedisKeys.INSTANCES, id);
                    redis.sync().del(RedisKeys.instance(id));
                }
                redis.sync().del(stream);
                List<String> keys = redis.sync().keys(prefix + "*");
                if (!keys.isEmpty()) {
                    redis.sync().del(keys.toArray(String[]::new));
                }
            }
        }
        System.exit(0);
    }

    /** Collections and milliseconds spent in them so far, over all collectors. */
    private static long[] gcCountAndMillis() {
        long count = 0;
        long millis = 0;
        for (var gc : java.lang.management.ManagementFactory.getGarbageCollectorMXBeans()) {
            count += Math.max(0, gc.getCollectionCount());
            millis += Math.max(0, gc.getCollectionTime());
        }
        return new long[] {count, millis};
    }
}
