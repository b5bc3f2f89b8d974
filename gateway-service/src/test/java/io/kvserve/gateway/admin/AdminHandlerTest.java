package io.kvserve.gateway.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.kvserve.common.openai.OpenAiException;
import io.kvserve.gateway.quota.Admission;
import io.kvserve.gateway.quota.QuotaService;
import io.kvserve.gateway.tenant.ApiKeys;
import io.kvserve.gateway.tenant.Caller;
import io.kvserve.gateway.tenant.KeyAuthenticator;
import io.kvserve.gateway.tenant.MutableClock;
import io.kvserve.gateway.tenant.RedisOutagePolicy;
import io.kvserve.gateway.tenant.TenancyProperties;
import io.kvserve.gateway.tenant.TenancyTestRedis;
import io.kvserve.gateway.tenant.TenantStore;
import io.kvserve.testsupport.redis.RealRedis;
import io.kvserve.testsupport.redis.RedisEndpoint;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.test.web.reactive.server.WebTestClient;

@RealRedis
class AdminHandlerTest {

    private static final String TOKEN = "op-secret-token";

    private TenancyTestRedis redis;
    private MutableClock clock;
    private TenantStore store;
    private QuotaService quotas;
    private KeyAuthenticator authenticator;
    private WebTestClient client;

    @BeforeEach
    void setUp(RedisEndpoint endpoint, TestInfo info) {
        redis = new TenancyTestRedis(endpoint, info.getTestMethod().orElseThrow().getName());
        clock = MutableClock.at("2026-11-22T10:00:00Z");
        store = new TenantStore(redis.connection, redis.prefix, redis.status);
        quotas = new QuotaService(() -> redis.connection, redis.prefix, redis.status, RedisOutagePolicy.CACHED_KEYS,
                Duration.ofMinutes(15), Duration.ofDays(35), clock, new SimpleMeterRegistry());
        authenticator = new KeyAuthenticator(store, redis.status, RedisOutagePolicy.CACHED_KEYS,
                new TenancyProperties.Auth(Duration.ofSeconds(5), Duration.ofMinutes(10), 1000), clock);
        client = client(TOKEN);
    }

    @AfterEach
    void tearDown() {
        redis.close();
    }

    private WebTestClient client(String token) {
        AdminHandler handler = new AdminHandler(store, quotas, authenticator, token, 65536, clock);
        return WebTestClient.bindToRouterFunction(AdminRoutes.routes(handler)).build();
    }

    private WebTestClient.ResponseSpec post(String path, String json) {
        return client.post().uri(path).header("Authorization", "Bearer " + TOKEN)
                .contentType(MediaType.APPLICATION_JSON).bodyValue(json).exchange();
    }

    private WebTestClient.ResponseSpec patch(String path, String json) {
        return client.patch().uri(path).header("Authorization", "Bearer " + TOKEN)
                .contentType(MediaType.APPLICATION_JSON).bodyValue(json).exchange();
    }

    private WebTestClient.ResponseSpec get(String path) {
        return client.get().uri(path).header("Authorization", "Bearer " + TOKEN).exchange();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> body(WebTestClient.ResponseSpec response) {
        return (Map<String, Object>) response.expectBody(Map.class).returnResult().getResponseBody();
    }

    private void createAcme() {
        post("/admin/v1/tenants", """
                {"id": "acme", "name": "Acme Corp", "weight": 2, "limits": {"requests_per_minute": 60}}""")
                .expectStatus().isCreated();
    }

    @Test
    void anyRoute_withoutOrWithWrongToken_401() {
        client.get().uri("/admin/v1/tenants").exchange().expectStatus().isUnauthorized()
                .expectBody().jsonPath("$.error.code").isEqualTo("invalid_operator_token")
                .jsonPath("$.error.type").isEqualTo("invalid_request_error");
        client.get().uri("/admin/v1/tenants").header("Authorization", "Bearer wrong").exchange()
                .expectStatus().isUnauthorized()
                .expectBody().jsonPath("$.error.message").value(m -> assertThat((String) m).contains("wrong"));
        client.post().uri("/admin/v1/tenants").header("Authorization", "Bearer " + TOKEN + "x")
                .contentType(MediaType.APPLICATION_JSON).bodyValue("{\"id\":\"acme\"}").exchange()
                .expectStatus().isUnauthorized();
        assertThat(redis.keys()).isEmpty();
    }

    @Test
    void anyRoute_noOperatorTokenConfigured_403Disabled() {
        client("").get().uri("/admin/v1/tenants").header("Authorization", "Bearer ").exchange()
                .expectStatus().isForbidden()
                .expectBody().jsonPath("$.error.code").isEqualTo("admin_disabled");
    }

    @Test
    void createTenant_new_201ThenGetAndList() {
        Map<String, Object> created = body(post("/admin/v1/tenants", """
                {"id": "acme", "name": "Acme Corp", "weight": 2, "limits": {"requests_per_minute": 60}}""")
                .expectStatus().isCreated());

        assertThat(created).containsEntry("object", "tenant").containsEntry("id", "acme")
                .containsEntry("name", "Acme Corp").containsEntry("weight", 2).containsEntry("disabled", false)
                .containsEntry("limits", Map.of("requests_per_minute", 60))
                .containsEntry("created_at", (int) clock.instant().getEpochSecond());
        assertThat(body(get("/admin/v1/tenants/acme").expectStatus().isOk())).isEqualTo(created);
        assertThat(body(get("/admin/v1/tenants").expectStatus().isOk()))
                .containsEntry("object", "list").containsEntry("data", List.of(created));
    }

    @Test
    void createTenant_existing_409() {
        createAcme();

        post("/admin/v1/tenants", "{\"id\": \"acme\"}").expectStatus().isEqualTo(HttpStatus.CONFLICT)
                .expectBody().jsonPath("$.error.code").isEqualTo("tenant_exists")
                .jsonPath("$.error.param").isEqualTo("id");
    }

    @Test
    void createTenant_badFields_400NamingTheParam() {
        post("/admin/v1/tenants", "{\"id\": \"ac me\"}").expectStatus().isBadRequest()
                .expectBody().jsonPath("$.error.param").isEqualTo("id")
                .jsonPath("$.error.message").value(m -> assertThat((String) m).contains("U+0020").contains("index 2"));
        post("/admin/v1/tenants", "{\"name\": \"x\"}").expectStatus().isBadRequest()
                .expectBody().jsonPath("$.error.param").isEqualTo("id");
        post("/admin/v1/tenants", "{\"id\": \"acme\", \"weight\": 0}").expectStatus().isBadRequest()
                .expectBody().jsonPath("$.error.param").isEqualTo("weight");
        post("/admin/v1/tenants", "{\"id\": \"acme\", \"limits\": {\"tokens_per_minute\": -5}}")
                .expectStatus().isBadRequest()
                .expectBody().jsonPath("$.error.param").isEqualTo("limits.tokens_per_minute");
        post("/admin/v1/tenants", "{\"id\": \"acme\", \"limits\": {\"rpm\": 5}}").expectStatus().isBadRequest()
                .expectBody().jsonPath("$.error.param").isEqualTo("limits.rpm");
        post("/admin/v1/tenants", "{\"id\": \"acme\", \"color\": \"red\"}").expectStatus().isBadRequest()
                .expectBody().jsonPath("$.error.param").isEqualTo("color");
        assertThat(redis.keys()).isEmpty();
    }

    @Test
    void createTenant_invalidJsonOrEmpty_400() {
        post("/admin/v1/tenants", "{\"id\": ").expectStatus().isBadRequest()
                .expectBody().jsonPath("$.error.message").value(m -> assertThat((String) m).startsWith("The body is not valid JSON"));
        post("/admin/v1/tenants", "[1]").expectStatus().isBadRequest();
        client.post().uri("/admin/v1/tenants").header("Authorization", "Bearer " + TOKEN).exchange()
                .expectStatus().isBadRequest();
    }

    @Test
    void createTenant_bodyOver64KiB_413() {
        String big = "{\"id\": \"acme\", \"name\": \"" + "x".repeat(70_000) + "\"}";

        post("/admin/v1/tenants", big).expectStatus().isEqualTo(HttpStatus.CONTENT_TOO_LARGE)
                .expectBody().jsonPath("$.error.code").isEqualTo("request_too_large");
    }

    @Test
    void patchTenant_fields_changedAndLimitsNullRemoved() {
        createAcme();

        Map<String, Object> patched = body(patch("/admin/v1/tenants/acme", """
                {"weight": 5, "disabled": true, "limits": {"requests_per_minute": null, "daily_token_budget": 1000}}""")
                .expectStatus().isOk());

        assertThat(patched).containsEntry("weight", 5).containsEntry("disabled", true)
                .containsEntry("name", "Acme Corp").containsEntry("limits", Map.of("daily_token_budget", 1000));
        assertThat(body(get("/admin/v1/tenants/acme").expectStatus().isOk())).isEqualTo(patched);
        patch("/admin/v1/tenants/nobody", "{\"weight\": 5}").expectStatus().isNotFound()
                .expectBody().jsonPath("$.error.code").isEqualTo("tenant_not_found");
    }

    @Test
    void createKey_returnsThePlaintextOnce_listNeverShowsIt_keyAuthenticates() {
        createAcme();

        Map<String, Object> created = body(post("/admin/v1/tenants/acme/keys", """
                {"name": "ci", "scopes": ["models", "chat.completions"], "expires_in_seconds": 3600,
                 "limits": {"tokens_per_minute": 5000}}""").expectStatus().isCreated());

        String secret = (String) created.get("key");
        String keyId = (String) created.get("id");
        assertThat(secret).matches("sk-kvs-[0-9A-Za-z]{43}");
        assertThat(keyId).startsWith("key_");
        assertThat(created).containsEntry("object", "api_key").containsEntry("tenant_id", "acme")
                .containsEntry("scopes", List.of("chat.completions", "models"))
                .containsEntry("expires_at", (int) clock.instant().plusSeconds(3600).getEpochSecond())
                .containsEntry("hint", secret.substring(0, 10))
                .containsEntry("limits", Map.of("tokens_per_minute", 5000));
        String listed = get("/admin/v1/tenants/acme/keys").expectStatus().isOk().expectBody(String.class)
                .returnResult().getResponseBody();
        assertThat(listed).contains(keyId).contains(secret.substring(0, 10)).doesNotContain(secret)
                .doesNotContain(secret.substring(10)).doesNotContain(ApiKeys.sha256Hex(secret))
                .doesNotContain("\"key\"");
        assertThat(redis.dump()).doesNotContain(secret);
        Caller caller = authenticator.authenticate("Bearer " + secret).block();
        assertThat(caller.keyId()).isEqualTo(keyId);
        assertThat(caller.tenantWeight()).isEqualTo(2);
    }

    @Test
    void createKey_badFields_400AndUnknownTenant404() {
        createAcme();
        post("/admin/v1/tenants/acme/keys", "{}").expectStatus().isBadRequest()
                .expectBody().jsonPath("$.error.param").isEqualTo("name");
        post("/admin/v1/tenants/acme/keys", "{\"name\": \"x\", \"scopes\": [\"embeddings\"]}")
                .expectStatus().isBadRequest().expectBody().jsonPath("$.error.param").isEqualTo("scopes");
        post("/admin/v1/tenants/acme/keys", "{\"name\": \"x\", \"expires_at\": \"tomorrow\"}")
                .expectStatus().isBadRequest().expectBody().jsonPath("$.error.param").isEqualTo("expires_at");
        post("/admin/v1/tenants/acme/keys", "{\"name\": \"x\", \"expires_at\": \"2020-01-01T00:00:00Z\"}")
                .expectStatus().isBadRequest().expectBody().jsonPath("$.error.param").isEqualTo("expires_at");
        post("/admin/v1/tenants/acme/keys", "{\"name\": \"x\", \"expires_in_seconds\": 0}")
                .expectStatus().isBadRequest().expectBody().jsonPath("$.error.param").isEqualTo("expires_in_seconds");
        post("/admin/v1/tenants/globex/keys", "{\"name\": \"x\"}").expectStatus().isNotFound();
        Map<String, Object> ok = body(post("/admin/v1/tenants/acme/keys",
                "{\"name\": \"x\", \"expires_at\": \"2027-01-31T00:00:00Z\"}").expectStatus().isCreated());
        assertThat(ok).containsEntry("expires_at", 1_801_353_600);
    }

    @Test
    void patchKey_disabled_refusedAtOnceOnThisReplica() {
        createAcme();
        Map<String, Object> created = body(post("/admin/v1/tenants/acme/keys", "{\"name\": \"ci\"}")
                .expectStatus().isCreated());
        String secret = (String) created.get("key");
        assertThat(authenticator.authenticate("Bearer " + secret).block()).isNotNull();

        Map<String, Object> patched = body(patch("/admin/v1/tenants/acme/keys/" + created.get("id"),
                "{\"disabled\": true, \"name\": \"old ci\", \"limits\": {\"max_concurrent_streams\": 4}}")
                .expectStatus().isOk());

        assertThat(patched).containsEntry("disabled", true).containsEntry("name", "old ci")
                .containsEntry("limits", Map.of("max_concurrent_streams", 4)).doesNotContainKey("key");
        try {
            authenticator.authenticate("Bearer " + secret).block();
            throw new AssertionError("a disabled key authenticated");
        } catch (OpenAiException e) {
            assertThat(e.status()).isEqualTo(401);
        }
        patch("/admin/v1/tenants/acme/keys/key_nope", "{\"disabled\": true}").expectStatus().isNotFound()
                .expectBody().jsonPath("$.error.code").isEqualTo("key_not_found");
    }

    @Test
    void deleteKey_existing_goneAndRefused() {
        createAcme();
        Map<String, Object> created = body(post("/admin/v1/tenants/acme/keys", "{\"name\": \"ci\"}")
                .expectStatus().isCreated());
        String secret = (String) created.get("key");
        authenticator.authenticate("Bearer " + secret).block();

        client.delete().uri("/admin/v1/tenants/acme/keys/" + created.get("id"))
                .header("Authorization", "Bearer " + TOKEN).exchange().expectStatus().isOk()
                .expectBody().jsonPath("$.deleted").isEqualTo(true);

        assertThat(body(get("/admin/v1/tenants/acme/keys").expectStatus().isOk())).containsEntry("data", List.of());
        client.delete().uri("/admin/v1/tenants/acme/keys/" + created.get("id"))
                .header("Authorization", "Bearer " + TOKEN).exchange().expectStatus().isNotFound();
        try {
            authenticator.authenticate("Bearer " + secret).block();
            throw new AssertionError("a deleted key authenticated");
        } catch (OpenAiException e) {
            assertThat(e.status()).isEqualTo(401);
        }
        assertThat(redis.keys()).containsExactlyInAnyOrder(redis.prefix + "tenants", redis.prefix + "tenant:acme");
    }

    @Test
    void usage_afterARequest_perDayCountsAndCurrentState() {
        createAcme();
        Map<String, Object> created = body(post("/admin/v1/tenants/acme/keys", "{\"name\": \"ci\"}")
                .expectStatus().isCreated());
        Caller caller = authenticator.authenticate("Bearer " + created.get("key")).block();
        Admission.Admitted a = (Admission.Admitted) quotas.admit(caller, 100).block();
        a.lease().release(io.kvserve.gateway.quota.Usage.of(30, 40, 10)).block();

        Map<String, Object> usage = body(get("/admin/v1/tenants/acme/usage?days=2").expectStatus().isOk());

        assertThat(usage).containsEntry("tenant_id", "acme").containsEntry("data", List.of(
                Map.of("date", "2026-11-21", "requests", 0, "prompt_tokens", 0, "completion_tokens", 0,
                        "cached_tokens", 0, "total_tokens", 0),
                Map.of("date", "2026-11-22", "requests", 1, "prompt_tokens", 30, "completion_tokens", 40,
                        "cached_tokens", 10, "total_tokens", 70)));
        assertThat(usage).containsEntry("current", Map.of("requests_per_minute",
                Map.of("limit", 60, "used", 1, "reset_ms", 1000)));
        get("/admin/v1/tenants/acme/usage?days=0").expectStatus().isBadRequest()
                .expectBody().jsonPath("$.error.param").isEqualTo("days");
        get("/admin/v1/tenants/nobody/usage").expectStatus().isNotFound();
    }
}
