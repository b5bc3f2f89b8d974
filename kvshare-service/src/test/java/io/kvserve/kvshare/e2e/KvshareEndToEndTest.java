package io.kvserve.kvshare.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.kvserve.common.model.gen.ModelGenerator;
import io.kvserve.common.model.gen.ModelPreset;
import io.kvserve.common.openai.OpenAiJson;
import io.kvserve.inference.InferenceServerApplication;
import io.kvserve.inference.platform.InstanceRegistrar;
import io.kvserve.kvshare.KvshareApplication;
import io.kvserve.kvshare.tenant.ChainHasher;
import io.kvserve.kvshare.tenant.HashedPrompt;
import io.kvserve.kvshare.tenant.PublishedPrefixes;
import io.kvserve.kvshare.tenant.TenantSalts;
import io.kvserve.testsupport.redis.RealRedis;
import io.kvserve.testsupport.redis.RedisEndpoint;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.Random;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;

/**
 * The whole loop on real parts: a real inference instance (tiny generated model) serves tenants'
 * requests and publishes its KV events to Redis; kvshare folds them into its index and answers hit
 * queries. Tenancy end to end: same prompt, other tenant, no hit; a published prefix hits for both;
 * a kvshare restart keeps the index; the instance's death empties it.
 */
@RealRedis
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class KvshareEndToEndTest {

    private static final String OPERATOR = "op-secret";
    private final HttpClient http = HttpClient.newHttpClient();
    private final String run = UUID.randomUUID().toString().substring(0, 8);
    private final String stream = "kvserve:kv-events:e2e-" + run;
    private final String prefix = "kvshare-e2e-" + run + ":";
    private final String instanceId = "e2e-" + run;
    private ConfigurableApplicationContext inference;
    private ConfigurableApplicationContext kvshare;
    private String redisUrl;
    private String inferenceUrl;
    private String kvshareUrl;

    @BeforeAll
    void start(RedisEndpoint redis, @TempDir Path dir) throws Exception {
        redisUrl = redis.uri();
        Path model = dir.resolve("tiny.gguf");
        new ModelGenerator(ModelPreset.TINY, 42).writeGguf(model, ModelGenerator.WeightType.F32);
        inference = new SpringApplicationBuilder(InferenceServerApplication.class).run(
                "--server.port=0", "--kvserve.engine.model=" + model, "--kvserve.engine.threads=1",
                "--kvserve.engine.kv-cache.num-blocks=256", "--kvserve.engine.max-model-len=512",
                "--kvserve.redis.url=" + redisUrl, "--kvserve.redis.kv-event-stream=" + stream,
                "--kvserve.instance.id=" + instanceId, "--kvserve.instance.heartbeat-interval=500ms",
                "--kvserve.instance.registration-ttl=2s", "--spring.application.name=e2e-inference");
        inferenceUrl = "http://localhost:" + inference.getEnvironment().getProperty("local.server.port");
        kvshare = startKvshare();
        await(() -> get(inferenceUrl + "/actuator/health/readiness").contains("\"UP\""), "the instance is ready");
        // kvshare reads the registry every 200 ms: until it has seen the instance, every query for
        // "tiny" is model_not_found, whatever else it asks
        // (a tenant of its own: a token-id query gives its tenant a salt, and "never-seen" must stay unknown)
        await(() -> !post(kvshareUrl + "/v1/hits", "{\"model\":\"tiny\",\"tenant\":\"setup-probe\",\"queries\":[{\"token_ids\":[1]}]}",
                null).contains("model_not_found"), "kvshare sees the instance's model");
    }

    private ConfigurableApplicationContext startKvshare() {
        ConfigurableApplicationContext context = new SpringApplicationBuilder(KvshareApplication.class).run(
                "--server.port=0", "--kvshare.redis-url=" + redisUrl, "--kvshare.key-prefix=" + prefix,
                "--kvshare.kv-event-stream=" + stream, "--kvshare.consumer-group=e2e-" + run,
                "--kvshare.operator-token=" + OPERATOR, "--kvshare.registry-refresh=200ms",
                "--kvshare.dead-instance-grace=1s", "--kvshare.query-timeout=2s",
                "--spring.application.name=e2e-kvshare");
        kvshareUrl = "http://localhost:" + context.getEnvironment().getProperty("local.server.port");
        return context;
    }

    @AfterAll
    void stop() {
        if (kvshare != null) {
            kvshare.close();
        }
        if (inference != null) {
            inference.close();
        }
    }

    private static int[] prompt(int seed, int numTokens) {
        Random random = new Random(seed);
        return IntStream.range(0, numTokens).map(i -> 3 + random.nextInt(1000)).toArray();
    }

    private String salt(String tenant) {
        // what the scheduler does: the tenant's salt from kvshare's Redis, passed to the instance
        try (var client = io.lettuce.core.RedisClient.create(redisUrl); var connection = client.connect()) {
            return Base64.getEncoder().encodeToString(new TenantSalts(connection, prefix).saltOf(tenant));
        }
    }

    private void generate(String tenant, int[] ids, int numPublishedBlocks) {
        String body = """
                {"api":"completions","tenant_id":"%s","cache_salt":"%s","prompt_token_ids":%s,
                 "num_published_blocks":%d,"request":{"model":"tiny","prompt":"x","max_tokens":1,"temperature":0}}"""
                .formatted(tenant, salt(tenant), Arrays.toString(ids), numPublishedBlocks);
        String response = post(inferenceUrl + "/internal/v1/generate", body, null);
        assertThat(response).contains("\"text_completion\"");
    }

    private JsonNode hits(String tenant, int[] ids) {
        String body = "{\"model\":\"tiny\",\"tenant\":\"" + tenant + "\",\"queries\":[{\"token_ids\":"
                + Arrays.toString(ids) + "}]}";
        JsonNode answer = OpenAiJson.MAPPER.readTree(post(kvshareUrl + "/v1/hits", body, null));
        assertThat(answer.get("status").asString()).as(answer.toString()).isEqualTo("ok");
        return answer.get("results").get(0);
    }

    /** The blocks the instance holds of {@code ids}, asked as the scheduler asks: a chain it hashed itself. */
    private int cachedBlocksByHashes(String tenant, int[] ids) {
        HashedPrompt hashed;
        try (var client = io.lettuce.core.RedisClient.create(redisUrl); var connection = client.connect()) {
            hashed = new ChainHasher(new TenantSalts(connection, prefix), new PublishedPrefixes(connection, prefix))
                    .hash("tiny", tenant, ids);
        }
        String body = "{\"model\":\"tiny\",\"tenant\":\"" + tenant + "\",\"queries\":[{\"block_hashes\":["
                + hashed.chain().stream().map(h -> "\"" + h.toHex() + "\"").collect(java.util.stream.Collectors.joining(","))
                + "]}]}";
        JsonNode answer = OpenAiJson.MAPPER.readTree(post(kvshareUrl + "/v1/hits", body, null));
        assertThat(answer.get("status").asString()).as(answer.toString()).isEqualTo("ok");
        return numCachedBlocks(answer.get("results").get(0));
    }

    private int cachedBlocks(String tenant, int[] ids) {
        return numCachedBlocks(hits(tenant, ids));
    }

    private int numCachedBlocks(JsonNode result) {
        for (JsonNode instance : result.get("instances")) {
            if (instance.get("instance_id").asString().equals(instanceId)) {
                return instance.get("num_cached_blocks").asInt();
            }
        }
        throw new AssertionError("instance " + instanceId + " not in " + result);
    }

    @Test
    @Order(2)
    void tenantPrompt_isIndexed_andInvisibleToOtherTenants_sharedPrefixHitsForBoth() throws Exception {
        int[] ids = prompt(1, 80); // 5 full blocks
        generate("acme", ids, 0);
        await(() -> cachedBlocks("acme", ids) == 5, "acme's 5 blocks indexed");
        assertThat(cachedBlocks("globex", ids)).as("same tokens, other tenant").isZero();

        // an operator publishes a 32-token system prompt; both tenants' prompts start with it
        int[] system = prompt(2, 32);
        post(kvshareUrl + "/v1/admin/published/tiny/system", "{\"token_ids\":" + Arrays.toString(system) + "}",
                OPERATOR);
        int[] acmePrompt = concat(system, prompt(3, 40));
        int[] globexPrompt = concat(system, prompt(4, 40));
        assertThat(hits("acme", acmePrompt).get("num_published_blocks").asInt()).isEqualTo(2);
        generate("acme", acmePrompt, 2);
        await(() -> cachedBlocks("acme", acmePrompt) == 4, "acme's published + private blocks indexed");

        assertThat(cachedBlocks("globex", globexPrompt)).as("globex hits the published blocks only").isEqualTo(2);
        assertThat(cachedBlocks("globex", acmePrompt)).as("acme's private tail stays private").isEqualTo(2);
        // the scheduler's form: the chain hashed by the caller with ChainHasher, sent as block_hashes
        assertThat(cachedBlocksByHashes("acme", acmePrompt)).isEqualTo(4);
        assertThat(cachedBlocksByHashes("acme", ids)).isEqualTo(5);
        assertThat(cachedBlocksByHashes("globex", globexPrompt)).as("published blocks only").isEqualTo(2);
        assertThat(cachedBlocksByHashes("globex", acmePrompt)).as("acme's private tail stays private").isEqualTo(2);
        assertThat(cachedBlocksByHashes("globex", ids)).as("same tokens, other tenant").isZero();

        // kvshare restarts: the index lives in Redis, nothing is lost (the instance is not called again:
        // closing a context disposes Reactor Netty's global loops, which the instance's server shares here)
        kvshare.close();
        kvshare = startKvshare();
        await(() -> {
            try {
                return cachedBlocks("acme", ids) == 5;
            } catch (AssertionError e) {
                return false;
            }
        }, "the restarted kvshare answers from the same index");
        assertThat(cachedBlocks("acme", acmePrompt)).isEqualTo(4);

        String stats = get(kvshareUrl + "/v1/stats", OPERATOR);
        assertThat(stats).contains("\"acme\"").contains(instanceId).doesNotContain(salt("acme"));

        // the instance leaves the registry (as when it shuts down, or its registration expires after a
        // crash), and kvshare drops its entries after the grace. Its registrar is stopped rather than
        // its whole context: two Spring Boot servers in one JVM share Reactor Netty's global event
        // loops, which closing one context disposes.
        inference.getBean(InstanceRegistrar.class).stop();
        await(() -> !OpenAiJson.MAPPER.readTree(get(kvshareUrl + "/v1/stats", OPERATOR)).get("indexed_instances")
                .toString().contains(instanceId), "the dead instance's entries dropped");
        assertThat(OpenAiJson.MAPPER.readTree(get(kvshareUrl + "/v1/stats", OPERATOR)).get("num_entries").asLong())
                .isZero();
    }

    @Test
    @Order(1)
    void badQueries_areAnsweredPrecisely() {
        assertThat(post(kvshareUrl + "/v1/hits", "{\"model\":\"nope\",\"tenant\":\"acme\",\"queries\":[{\"token_ids\":[1]}]}",
                null)).contains("model_not_found");
        assertThat(post(kvshareUrl + "/v1/hits", "{\"model\":\"tiny\",\"tenant\":\"acme\",\"queries\":[]}", null))
                .contains("\"param\":\"queries\"");
        assertThat(post(kvshareUrl + "/v1/hits", "{\"model\":\"tiny\",\"tenant\":\"acme\",\"queries\":[{\"block_hashes\":[\"abc\"]}]}",
                null)).contains("queries[0].block_hashes");
        assertThat(post(kvshareUrl + "/v1/hits", "{\"model\":\"tiny\",\"tenant\":\"never-seen\",\"queries\":[{\"block_hashes\":[\""
                + "0".repeat(32) + "\"]}]}", null)).contains("tenant_not_found");
        String oversized = java.util.stream.IntStream.range(0, 8193).mapToObj(i -> "\"" + "a".repeat(32) + "\"")
                .collect(java.util.stream.Collectors.joining(","));
        assertThat(post(kvshareUrl + "/v1/hits", "{\"model\":\"tiny\",\"tenant\":\"acme\",\"queries\":[{\"block_hashes\":["
                + oversized + "]}]}", null)).contains("too_large").contains("8192");
        assertThat(post(kvshareUrl + "/v1/hits", "{\"model\":\"tiny\",\"tenant\":\"a b\",\"queries\":[{\"token_ids\":[1]}]}",
                null)).contains("invalid_request_error");
        assertThat(get(kvshareUrl + "/v1/stats", null)).contains("operator_only");
    }

    private static int[] concat(int[] a, int[] b) {
        int[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    private String post(String url, String body, String bearer) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30))
                .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
        if (bearer != null) {
            request.header("authorization", "Bearer " + bearer);
        }
        if (url.contains("/admin/")) {
            request.method("PUT", HttpRequest.BodyPublishers.ofString(body));
        }
        return send(request.build());
    }

    private String get(String url) {
        return get(url, null);
    }

    private String get(String url, String bearer) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30)).GET();
        if (bearer != null) {
            request.header("authorization", "Bearer " + bearer);
        }
        return send(request.build());
    }

    private String send(HttpRequest request) {
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofString()).body();
        } catch (Exception e) {
            throw new AssertionError(request.uri() + ": " + e, e);
        }
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("timed out waiting until " + what);
    }
}
