package io.kvserve.scheduler.service;

import static org.assertj.core.api.Assertions.assertThat;

import io.kvserve.common.events.InstanceRegistration;
import io.kvserve.common.events.InstanceStatus;
import io.kvserve.common.events.KvEventEntry;
import io.kvserve.common.events.KvStreamEvent;
import io.kvserve.common.events.RedisKeys;
import io.kvserve.common.kvcache.BlockHasher;
import io.kvserve.common.model.gen.ModelGenerator;
import io.kvserve.common.model.gen.ModelPreset;
import io.kvserve.common.openai.OpenAiJson;
import io.kvserve.common.tokenizer.Tokenizer;
import io.kvserve.kvshare.KvshareApplication;
import io.kvserve.kvshare.tenant.PublishedPrefixes;
import io.kvserve.kvshare.tenant.TenantSalts;
import io.kvserve.scheduler.SchedulerApplication;
import io.kvserve.testsupport.redis.RealRedis;
import io.kvserve.testsupport.redis.RedisEndpoint;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;

/**
 * The scheduler as the gateway calls it, on real Redis and a real kvshare: two instances of a model
 * are registered, one of them has published (as an instance does, on the KV event stream) the blocks
 * of a tenant's prompt; the placement follows the cached prefix for that tenant, not for another.
 */
@RealRedis
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PlacementServiceTest {

    private final HttpClient http = HttpClient.newHttpClient();
    private final String run = UUID.randomUUID().toString().substring(0, 8);
    private final String model = "tiny-" + run;
    private final String saturatedModel = "busy-" + run;
    private final String prefix = "kvshare-sched-" + run + ":";
    private final String stream = "kvserve:kv-events:sched-" + run;
    private RedisClient client;
    private StatefulRedisConnection<String, String> redis;
    private ConfigurableApplicationContext kvshare;
    private ConfigurableApplicationContext scheduler;
    private ConfigurableApplicationContext degraded;
    private ConfigurableApplicationContext prefixOnly;
    private String schedulerUrl;
    private Path modelFile;
    private String redisUrl;

    @BeforeAll
    void start(RedisEndpoint endpoint, @TempDir Path dir) throws Exception {
        redisUrl = endpoint.uri();
        client = RedisClient.create(endpoint.uri());
        redis = client.connect();
        modelFile = dir.resolve("tiny.gguf");
        new ModelGenerator(ModelPreset.TINY, 42).writeGguf(modelFile, ModelGenerator.WeightType.F32);
        register("hot-" + run, 1);
        register("cold-" + run, 0);
        kvshare = KvshareApplication.create().run("--server.port=0", "--kvshare.redis-url=" + endpoint.uri(),
                "--kvshare.key-prefix=" + prefix, "--kvshare.kv-event-stream=" + stream,
                "--kvshare.consumer-group=sched-" + run, "--kvshare.registry-refresh=100ms",
                "--kvshare.query-timeout=2s", "--spring.application.name=sched-test-kvshare");
        String kvshareUrl = "http://localhost:" + kvshare.getEnvironment().getProperty("local.server.port");
        scheduler = SchedulerApplication.create().run("--server.port=0", "--scheduler.redis-url=" + endpoint.uri(),
                "--scheduler.kvshare-url=" + kvshareUrl, "--scheduler.kvshare-timeout=2s",
                "--scheduler.kvshare-key-prefix=" + prefix, "--scheduler.models." + model + "=" + modelFile,
                "--scheduler.models." + saturatedModel + "=" + modelFile, "--scheduler.registry-refresh=100ms",
                "--scheduler.max-load=4", "--scheduler.queue-size=1", "--scheduler.max-queue-wait=20s",
                "--spring.application.name=sched-test");
        schedulerUrl = "http://localhost:" + scheduler.getEnvironment().getProperty("local.server.port");
    }

    @AfterAll
    void stop() {
        if (degraded != null) {
            degraded.close();
        }
        if (prefixOnly != null) {
            prefixOnly.close();
        }
        if (scheduler != null) {
            scheduler.close();
        }
        if (kvshare != null) {
            kvshare.close();
        }
        redis.sync().zrem(RedisKeys.INSTANCES, "hot-" + run, "cold-" + run, "busy-" + run);
        redis.sync().del(RedisKeys.instance("hot-" + run), RedisKeys.instance("cold-" + run),
                RedisKeys.instance("busy-" + run), stream);
        redis.close();
        client.shutdown();
    }

    private void register(String id, int numRunning) {
        register(id, model, numRunning);
    }

    private void register(String id, String model, int numRunning) {
        long now = System.currentTimeMillis();
        InstanceRegistration registration = new InstanceRegistration(id, "http://" + id + ":8000", model, "llama", 16,
                256, 4096, 4096, "e1", now, now, numRunning, 0, 0.1, 0, InstanceStatus.READY);
        redis.sync().hset(RedisKeys.instance(id), registration.toHash());
        redis.sync().pexpire(RedisKeys.instance(id), 600_000);
        redis.sync().zadd(RedisKeys.INSTANCES, now, id);
    }

    private String prompt(String words) {
        return "{\"api\":\"completions\",\"tenant_id\":\"%s\",\"request\":{\"model\":\"" + model
                + "\",\"prompt\":\"" + words + "\",\"max_tokens\":8}}";
    }

    @Test
    void placement_followsTheTenantsCachedPrefix_notAnotherTenants() throws Exception {
        String text = "the same long system prompt for every request of this tenant ".repeat(30);
        // what an instance publishes after serving acme's prompt: its blocks under acme's salt
        int[] ids;
        try (var file = io.kvserve.common.model.ModelFile.open(modelFile)) {
            ids = file.tokenizer().tokenizer().encode(text, Tokenizer.EncodeOptions.PROMPT);
        }
        byte[] acmeSalt = new TenantSalts(redis, prefix).saltOf("acme");
        var chain = new BlockHasher().hashChain(acmeSalt, ids, ids.length);
        redis.sync().xadd(stream, new KvEventEntry("hot-" + run, "e1", 1, model, System.currentTimeMillis(),
                List.of(new KvStreamEvent.Reset(), new KvStreamEvent.Stored(chain, Optional.empty(), 16))).toFields());

        await(() -> place(prompt(text).formatted("acme")).path("predicted_hit_tokens").asInt() > 0, "the hit is indexed");
        JsonNode acme = place(prompt(text).formatted("acme"));
        assertThat(acme.path("instance").path("id").asString()).isEqualTo("hot-" + run);
        assertThat(acme.path("predicted_hit_tokens").asInt()).isEqualTo(chain.size() * 16);
        assertThat(acme.path("fallbacks").get(0).path("id").asString()).isEqualTo("cold-" + run);
        assertThat(acme.path("prompt_token_ids").size()).isEqualTo(ids.length);
        assertThat(acme.path("kvshare").asString()).isEqualTo("ok");
        assertThat(acme.path("cache_salt_source").asString()).isEqualTo("tenant");

        JsonNode globex = place(prompt(text).formatted("globex"));
        assertThat(globex.path("predicted_hit_tokens").asInt()).as("no hit on another tenant's blocks").isZero();
        assertThat(globex.path("instance").path("id").asString()).as("by load: the idle instance")
                .isEqualTo("cold-" + run);
    }

    @Test
    void publishedPrefix_hitsForEveryTenant_privateTailOnlyForItsOwnTenant() throws Exception {
        // prefix-only ranks by hit alone, so each answer's predicted hit is the best instance's
        // (closed in stop(), like the degraded one)
        prefixOnly = SchedulerApplication.create().run("--server.port=0", "--scheduler.redis-url=" + redisUrl,
                "--scheduler.kvshare-url=http://localhost:" + kvshare.getEnvironment().getProperty("local.server.port"),
                "--scheduler.kvshare-timeout=2s", "--scheduler.kvshare-key-prefix=" + prefix,
                "--scheduler.models." + model + "=" + modelFile, "--scheduler.registry-refresh=100ms",
                "--scheduler.policy=prefix-only", "--spring.application.name=sched-prefix-only");
        String url = "http://localhost:" + prefixOnly.getEnvironment().getProperty("local.server.port");
        String text = "a question about the quarterly numbers of this tenant and nothing else ".repeat(12);
        int[] ids;
        try (var file = io.kvserve.common.model.ModelFile.open(modelFile)) {
            ids = file.tokenizer().tokenizer().encode(text, Tokenizer.EncodeOptions.PROMPT);
        }
        // an operator publishes the prompt's first 3 blocks; the instance served acme's prompt, so it
        // holds those 3 blocks in the published namespace and the rest under acme's salt
        new PublishedPrefixes(redis, prefix).publish(model, "system", Arrays.copyOf(ids, 48));
        byte[] acmeSalt = new TenantSalts(redis, prefix).saltOf("acme");
        var chain = new BlockHasher().hashChain(acmeSalt, ids, ids.length, 3);
        redis.sync().xadd(stream, new KvEventEntry("hot-" + run, "e1", 2, model, System.currentTimeMillis(),
                List.of(new KvStreamEvent.Stored(chain, Optional.empty(), 16))).toFields());
        String body = prompt(text);

        await(() -> OpenAiJson.MAPPER.readTree(post(url, body.formatted("acme"))).path("predicted_hit_tokens").asInt()
                == chain.size() * 16, "acme's whole prompt indexed, published prefix seen by the scheduler");
        JsonNode acme = OpenAiJson.MAPPER.readTree(post(url, body.formatted("acme")));
        JsonNode globex = OpenAiJson.MAPPER.readTree(post(url, body.formatted("globex")));
        String otherStart = text.replaceFirst("a question", "one question");
        JsonNode initech = OpenAiJson.MAPPER.readTree(post(url, prompt(otherStart).formatted("initech")));

        assertThat(acme.path("num_published_blocks").asInt()).isEqualTo(3);
        assertThat(acme.path("instance").path("id").asString()).isEqualTo("hot-" + run);
        assertThat(globex.path("num_published_blocks").asInt()).isEqualTo(3);
        assertThat(globex.path("predicted_hit_tokens").asInt()).as("the published blocks only").isEqualTo(48);
        assertThat(globex.path("instance").path("id").asString()).isEqualTo("hot-" + run);
        assertThat(globex.path("kvshare").asString()).isEqualTo("ok");
        assertThat(initech.path("num_published_blocks").asInt()).as("starts otherwise").isZero();
        assertThat(initech.path("predicted_hit_tokens").asInt()).isZero();
    }

    @Test
    void everyInstanceSaturated_requestWaits_fullQueueIs429_placedWhenLoadDrops() throws Exception {
        register("busy-" + run, saturatedModel, 10); // over max-load 4
        Thread.sleep(300); // the registry refresh sees it
        String body = "{\"api\":\"completions\",\"tenant_id\":\"acme\",\"request\":{\"model\":\"" + saturatedModel
                + "\",\"prompt\":\"hello there\",\"max_tokens\":8}}";
        var waiting = http.sendAsync(HttpRequest.newBuilder(URI.create(schedulerUrl + "/v1/place"))
                .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        await(() -> {
            if (waiting.isDone()) {
                throw new AssertionError("answered instead of queued: " + waiting.join().body());
            }
            return health().contains("\"queued\":1");
        }, "the first request waits in the queue");
        assertThat(post(body)).as("the queue (size 1) is full").contains("rate_limit_exceeded");
        assertThat(waiting.isDone()).as("the first still waits").isFalse();

        register("busy-" + run, saturatedModel, 0); // a heartbeat: the load dropped
        HttpResponse<String> placed = waiting.get(10, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(placed.statusCode()).isEqualTo(200);
        assertThat(OpenAiJson.MAPPER.readTree(placed.body()).path("instance").path("id").asString())
                .isEqualTo("busy-" + run);
    }

    @Test
    void kvshareUnreachable_placesByLoadAndSaysSo_noLiveInstanceIs503() throws Exception {
        // closed in stop(): closing a Spring Boot server disposes Reactor Netty's global loops, which
        // the other servers of this JVM share
        degraded = SchedulerApplication.create().run("--server.port=0",
                "--scheduler.redis-url=" + redisUrl, "--scheduler.kvshare-url=http://127.0.0.1:1",
                "--scheduler.kvshare-key-prefix=" + prefix, "--scheduler.models." + model + "=" + modelFile,
                "--scheduler.models.nobody-" + run + "=" + modelFile, "--scheduler.registry-refresh=100ms",
                "--spring.application.name=sched-degraded");
        String url = "http://localhost:" + degraded.getEnvironment().getProperty("local.server.port");
        Thread.sleep(300); // a registry refresh
        JsonNode answer = OpenAiJson.MAPPER.readTree(post(url, prompt("hello there").formatted("acme")));
        assertThat(answer.path("kvshare").asString()).isEqualTo("unknown");
        assertThat(answer.path("reason").asString()).isEqualTo("load-only");
        assertThat(answer.path("instance").path("id").asString()).as("the idle one").isEqualTo("cold-" + run);
        String none = post(url, "{\"api\":\"completions\",\"tenant_id\":\"acme\",\"request\":{\"model\":\"nobody-"
                + run + "\",\"prompt\":\"hi\"}}");
        assertThat(none).contains("service_unavailable").contains("no live instance");
    }

    @Test
    void badRequests_getPreciseErrors() {
        assertThat(post("{\"api\":\"completions\",\"tenant_id\":\"acme\",\"request\":{\"model\":\"nope\",\"prompt\":\"hi\"}}"))
                .contains("model_not_found");
        assertThat(post("{\"api\":\"chat.completions\",\"tenant_id\":\"acme\",\"request\":{\"model\":\"" + model
                + "\",\"messages\":[{\"role\":\"wizard\",\"content\":\"hi\"}]}}")).contains("messages[0].role");
        assertThat(post("{\"api\":\"completions\",\"tenant_id\":\"acme\",\"request\":{\"model\":\"" + model
                + "\",\"prompt\":\"hi\",\"max_tokens\":100000}}")).contains("context_length_exceeded");
        assertThat(post("{\"tenant_id\":\"acme\",\"request\":{}}")).contains("\"param\":\"api\"");
    }

    @Test
    void outcomes_oneOrABatch_countedPerTenant_aBadEntryNamed() throws Exception {
        String tenant = "outcomes-" + run;
        assertThat(postTo("/v1/outcomes", "{\"tenant_id\":\"" + tenant + "\",\"predicted_hit_tokens\":32,"
                + "\"delivered_hit_tokens\":32}").statusCode()).isEqualTo(204);
        assertThat(postTo("/v1/outcomes", "{\"outcomes\":[{\"tenant_id\":\"" + tenant + "\",\"predicted_hit_tokens\":16,"
                + "\"delivered_hit_tokens\":0},{\"tenant_id\":\"" + tenant + "\",\"predicted_hit_tokens\":0,"
                + "\"delivered_hit_tokens\":16}]}").statusCode()).isEqualTo(204);
        String metrics = http.send(HttpRequest.newBuilder(URI.create(schedulerUrl + "/actuator/prometheus")).GET().build(),
                HttpResponse.BodyHandlers.ofString()).body();
        assertThat(metrics).containsPattern("kvserve_scheduler_delivered_hit_tokens_total\\{[^}]*tenant=\"" + tenant
                + "\"[^}]*} 48.0");
        HttpResponse<String> bad = postTo("/v1/outcomes", "{\"outcomes\":[{\"tenant_id\":\"t\"}]}");
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(bad.body()).contains("\"param\":\"outcomes[0]\"");
    }

    private HttpResponse<String> postTo(String path, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(schedulerUrl + path)).header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void models_listsEveryPlaceableModelWithItsContextLength() throws Exception {
        JsonNode list = OpenAiJson.MAPPER.readTree(http.send(HttpRequest.newBuilder(URI.create(schedulerUrl
                + "/v1/models")).GET().build(), HttpResponse.BodyHandlers.ofString()).body());
        assertThat(list.path("data").valueStream().map(m -> m.path("id").asString()).toList())
                .containsExactly(saturatedModel, model);
        assertThat(list.path("data").get(0).path("max_model_len").asInt()).isPositive();
    }

    private String health() {
        try {
            return http.send(HttpRequest.newBuilder(URI.create(schedulerUrl + "/actuator/health")).GET().build(),
                    HttpResponse.BodyHandlers.ofString()).body();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private JsonNode place(String body) {
        return OpenAiJson.MAPPER.readTree(post(body));
    }

    private String post(String body) {
        return post(schedulerUrl, body);
    }

    private String post(String baseUrl, String body) {
        try {
            return http.send(HttpRequest.newBuilder(URI.create(baseUrl + "/v1/place")).timeout(Duration.ofSeconds(30))
                    .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("timed out waiting until " + what);
    }
}
