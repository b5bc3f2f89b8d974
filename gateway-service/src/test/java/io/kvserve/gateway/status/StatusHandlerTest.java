package io.kvserve.gateway.status;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.kvserve.common.events.InstanceRegistration;
import io.kvserve.common.events.InstanceStatus;
import io.kvserve.common.events.RedisKeys;
import io.kvserve.common.openai.OpenAiJson;
import io.kvserve.gateway.admin.OperatorToken;
import io.kvserve.gateway.quota.QuotaService;
import io.kvserve.gateway.tenant.Limits;
import io.kvserve.gateway.tenant.RedisOutagePolicy;
import io.kvserve.gateway.tenant.TenancyTestRedis;
import io.kvserve.gateway.tenant.Tenant;
import io.kvserve.gateway.tenant.TenantStore;
import io.kvserve.testsupport.redis.RealRedis;
import io.kvserve.testsupport.redis.RedisEndpoint;
import io.lettuce.core.RedisConnectionException;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.springframework.http.MediaType;
import org.springframework.test.web.reactive.server.WebTestClient;
import tools.jackson.databind.JsonNode;

/** {@code /status} and {@code /status/api} on real Redis: the credential, and what the data shows. */
@RealRedis
class StatusHandlerTest {

    private static final String TOKEN = "op-status-token";

    private final String run = UUID.randomUUID().toString().substring(0, 8);
    private final String instanceId = "status-" + run;
    private TenancyTestRedis redis;
    private TenantStore store;
    private QuotaService quotas;
    private CircuitBreakerRegistry breakers;
    private RecentRequests recent;

    @BeforeEach
    void setUp(RedisEndpoint endpoint, TestInfo info) {
        redis = new TenancyTestRedis(endpoint, "status-" + info.getTestMethod().orElseThrow().getName());
        store = new TenantStore(redis.connection, redis.prefix, redis.status);
        quotas = new QuotaService(() -> redis.connection, redis.prefix, redis.status, RedisOutagePolicy.CACHED_KEYS,
                Duration.ofMinutes(15), Duration.ofDays(35), InstantSource.system(),
                new SimpleMeterRegistry());
        breakers = CircuitBreakerRegistry.ofDefaults();
        recent = new RecentRequests(50);
    }

    @AfterEach
    void tearDown() {
        redis.connection.sync().zrem(RedisKeys.INSTANCES, instanceId);
        redis.connection.sync().del(RedisKeys.instance(instanceId));
        redis.close();
    }

    private WebTestClient client(String operatorToken, LiveInstances instances) {
        StatusReport report = new StatusReport(instances, store, quotas, breakers, recent, () -> 7, redis.status,
                InstantSource.system());
        return WebTestClient.bindToRouterFunction(new StatusHandler(new OperatorToken(operatorToken,
                "The status API"), report).routes()).build();
    }

    private WebTestClient client() {
        return client(TOKEN, new LiveInstances(() -> redis.connection));
    }

    /** Registers an instance as an inference instance's heartbeat does (PlacementServiceTest's way). */
    private void register(long heartbeatAtMs) {
        InstanceRegistration registration = new InstanceRegistration(instanceId, "http://" + instanceId + ":8000",
                "tiny-" + run, "llama", 16, 256, 4096, 4096, "e1", heartbeatAtMs - 60_000, heartbeatAtMs, 3, 1,
                0.42, 123.5, InstanceStatus.READY);
        redis.connection.sync().hset(RedisKeys.instance(instanceId), registration.toHash());
        redis.connection.sync().pexpire(RedisKeys.instance(instanceId), 600_000);
        redis.connection.sync().zadd(RedisKeys.INSTANCES, heartbeatAtMs, instanceId);
    }

    private static JsonNode find(JsonNode array, String field, String value) {
        for (JsonNode node : array) {
            if (value.equals(node.path(field).asString())) {
                return node;
            }
        }
        throw new AssertionError("no element with " + field + "=" + value + " in " + array);
    }

    @Test
    void api_withoutOrWithWrongToken_401() {
        client().get().uri("/status/api").exchange()
                .expectStatus().isUnauthorized()
                .expectHeader().contentType(MediaType.APPLICATION_JSON)
                .expectBody().jsonPath("$.error.code").isEqualTo("invalid_operator_token")
                .jsonPath("$.error.type").isEqualTo("invalid_request_error")
                .jsonPath("$.error.message").value(m -> assertThat((String) m).contains("none was given"));
        client().get().uri("/status/api").header("Authorization", "Bearer " + TOKEN + "x").exchange()
                .expectStatus().isUnauthorized()
                .expectBody().jsonPath("$.error.message").value(m -> assertThat((String) m).contains("wrong"));
        client().get().uri("/status/api").header("Authorization", TOKEN).exchange() // not "Bearer ..."
                .expectStatus().isUnauthorized();
    }

    @Test
    void api_noOperatorTokenConfigured_403Disabled() {
        client("", new LiveInstances(() -> redis.connection)).get().uri("/status/api")
                .header("Authorization", "Bearer ").exchange()
                .expectStatus().isForbidden()
                .expectBody().jsonPath("$.error.code").isEqualTo("admin_disabled");
    }

    @Test
    void api_registeredInstanceAndCreatedTenant_appear() {
        long heartbeatAtMs = System.currentTimeMillis() - 1500;
        register(heartbeatAtMs);
        String tenantId = "acme-" + run;
        assertThat(store.create(new Tenant(tenantId, "Acme Corp", 2, false,
                new Limits(600L, 200_000L, 32L, null), Instant.now())).block()).isTrue();
        breakers.circuitBreaker(instanceId); // the gateway has called it: its breaker exists, closed
        recent.add(new RecentRequest(System.currentTimeMillis(), "req-" + run, tenantId, "chat.completions",
                "tiny-" + run, instanceId, 2, "200", 48, 100, 40, 8, 35.5, 120.0));

        byte[] bytes = client().get().uri("/status/api").header("Authorization", "Bearer " + TOKEN).exchange()
                .expectStatus().isOk()
                .expectHeader().contentType(MediaType.APPLICATION_JSON)
                .expectHeader().valueEquals("Cache-Control", "no-store")
                .expectBody().returnResult().getResponseBody();
        JsonNode body = OpenAiJson.MAPPER.readTree(bytes);

        assertThat(body.path("object").asString()).isEqualTo("gateway.status");
        assertThat(body.path("gateway").path("open_streams").asInt()).isEqualTo(7);
        assertThat(body.path("gateway").path("redis").asString()).isEqualTo("up");

        JsonNode instance = find(body.path("instances").path("data"), "id", instanceId);
        assertThat(instance.path("model").asString()).isEqualTo("tiny-" + run);
        assertThat(instance.path("status").asString()).isEqualTo("ready");
        assertThat(instance.path("num_running").asInt()).isEqualTo(3);
        assertThat(instance.path("num_waiting").asInt()).isEqualTo(1);
        assertThat(instance.path("kv_cache_usage").asDouble()).isEqualTo(0.42);
        assertThat(instance.path("tokens_per_second").asDouble()).isEqualTo(123.5);
        assertThat(instance.path("heartbeat_at_ms").asLong()).isEqualTo(heartbeatAtMs);
        assertThat(instance.path("heartbeat_age_ms").asLong()).isBetween(1500L, 60_000L);
        assertThat(instance.path("circuit_breaker").asString()).isEqualTo("CLOSED");
        assertThat(instance.path("gateway").path("num_requests").asLong()).isEqualTo(1);
        assertThat(instance.path("gateway").path("num_prompt_tokens").asLong()).isEqualTo(100);
        assertThat(instance.path("gateway").path("num_cached_tokens").asLong()).isEqualTo(40);
        assertThat(instance.path("gateway").path("prefix_hit_rate").asDouble()).isEqualTo(0.4);

        JsonNode tenant = find(body.path("tenants").path("data"), "id", tenantId);
        assertThat(tenant.path("name").asString()).isEqualTo("Acme Corp");
        assertThat(tenant.path("weight").asInt()).isEqualTo(2);
        assertThat(tenant.path("disabled").asBoolean()).isFalse();
        assertThat(tenant.path("limits").path("requests_per_minute").asLong()).isEqualTo(600);
        assertThat(tenant.path("limits").has("daily_token_budget")).isFalse();
        assertThat(tenant.path("today").path("requests").asLong()).isZero();
        assertThat(tenant.path("rate_limits").path("requests_per_minute").path("limit").asLong()).isEqualTo(600);
        assertThat(tenant.path("rate_limits").path("max_concurrent_streams").path("used").asLong()).isZero();

        JsonNode request = body.path("recent_requests").get(0);
        assertThat(request.path("request_id").asString()).isEqualTo("req-" + run);
        assertThat(request.path("instance_id").asString()).isEqualTo(instanceId);
        assertThat(request.path("num_attempts").asInt()).isEqualTo(2);
        assertThat(request.path("predicted_hit_tokens").asInt()).isEqualTo(48);
        assertThat(request.path("cached_tokens").asInt()).isEqualTo(40);
        assertThat(request.path("time_to_first_token_ms").asDouble()).isEqualTo(35.5);
    }

    @Test
    void api_neverCalledInstance_hasNoBreakerAndCreatesNone() {
        register(System.currentTimeMillis());
        byte[] bytes = client().get().uri("/status/api").header("Authorization", "Bearer " + TOKEN).exchange()
                .expectStatus().isOk().expectBody().returnResult().getResponseBody();
        JsonNode instance = find(OpenAiJson.MAPPER.readTree(bytes).path("instances").path("data"), "id", instanceId);
        assertThat(instance.path("circuit_breaker").isNull()).isTrue();
        assertThat(instance.path("gateway").path("prefix_hit_rate").isNull()).isTrue();
        assertThat(breakers.find(instanceId)).isEmpty();
    }

    @Test
    void api_registryUnreadable_sectionSaysWhyAndTheRestIsThere() {
        WebTestClient client = client(TOKEN, new LiveInstances(() -> {
            throw new RedisConnectionException("registry Redis not connected yet");
        }));
        client.get().uri("/status/api").header("Authorization", "Bearer " + TOKEN).exchange()
                .expectStatus().isOk()
                .expectBody()
                .jsonPath("$.instances.error").value(e -> assertThat((String) e).contains("Redis is unreachable"))
                .jsonPath("$.instances.data").isEmpty()
                .jsonPath("$.tenants.data").isArray();
    }

    @Test
    void page_loadsWithoutToken_withItsAssetsAndAStrictPolicy() {
        client().get().uri("/status").exchange()
                .expectStatus().isOk()
                .expectHeader().contentTypeCompatibleWith(MediaType.TEXT_HTML)
                .expectHeader().value("Content-Security-Policy", csp -> assertThat(csp).contains("script-src 'self'")
                        .doesNotContain("unsafe-inline"))
                .expectBody(String.class).value(html -> assertThat(html).contains("id=\"login-form\"")
                        .contains("/status/status.js").doesNotContain("<script>"));
        client().get().uri("/status/status.js").exchange().expectStatus().isOk()
                .expectHeader().contentTypeCompatibleWith(MediaType.valueOf("text/javascript"))
                .expectBody(String.class).value(js -> assertThat(js).contains("/status/api").doesNotContain("innerHTML"));
        client().get().uri("/status/status.css").exchange().expectStatus().isOk()
                .expectHeader().contentTypeCompatibleWith(MediaType.valueOf("text/css"));
    }
}
