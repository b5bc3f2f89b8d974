package io.kvserve.gateway.tenant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kvserve.common.openai.OpenAiException;
import io.kvserve.testsupport.redis.RealRedis;
import io.kvserve.testsupport.redis.RedisEndpoint;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

@RealRedis
class KeyAuthenticatorTest {

    private static final TenancyProperties.Auth AUTH = new TenancyProperties.Auth(Duration.ofSeconds(5),
            Duration.ofMinutes(10), 1000);

    private TenancyTestRedis redis;
    private TenantStore store;
    private MutableClock clock;

    @BeforeEach
    void setUp(RedisEndpoint endpoint, TestInfo info) {
        redis = new TenancyTestRedis(endpoint, info.getTestMethod().orElseThrow().getName());
        store = new TenantStore(redis.connection, redis.prefix, redis.status);
        clock = MutableClock.at("2026-11-22T10:00:00Z");
        store.create(new Tenant("acme", "Acme", 3, false, new Limits(60L, null, null, null), clock.instant())).block();
    }

    @AfterEach
    void tearDown() {
        redis.close();
    }

    /** Creates a key of {@code tenant} in Redis; returns {secret, key id}. */
    private String[] newKey(String tenant, Set<Scope> scopes, Instant expiresAt, Limits limits) {
        String secret = ApiKeys.newKey();
        String keyId = ApiKeys.newKeyId();
        ApiKey key = new ApiKey(keyId, tenant, "ci", scopes, expiresAt, false, limits, ApiKeys.hint(secret),
                clock.instant());
        assertThat(store.createKey(key, ApiKeys.sha256Hex(secret)).block()).isTrue();
        return new String[] {secret, keyId};
    }

    private KeyAuthenticator authenticator(TenantStore store, RedisStatus status, RedisOutagePolicy policy,
                                           TenancyProperties.Auth auth) {
        return new KeyAuthenticator(store, status, policy, auth, clock);
    }

    private static OpenAiException refusal(KeyAuthenticator auth, String header) {
        try {
            auth.authenticate(header).block();
        } catch (OpenAiException e) {
            return e;
        }
        throw new AssertionError("authenticate(" + header + ") succeeded");
    }

    @Test
    void authenticate_createdKey_yieldsTheCaller() {
        String[] key = newKey("acme", Scope.all(), null, new Limits(null, 1000L, null, null));
        KeyAuthenticator auth = authenticator(store, redis.status, RedisOutagePolicy.CACHED_KEYS, AUTH);

        Caller caller = auth.authenticate("Bearer " + key[0]).block();

        assertThat(caller).isEqualTo(new Caller("acme", key[1], "ci", Scope.all(), 3, new Limits(60L, null, null, null),
                new Limits(null, 1000L, null, null)));
        assertThat(auth.authenticate("bearer " + key[0]).block()).isEqualTo(caller);
    }

    @Test
    void createKey_stored_holdsNoPlaintextOnlyTheSha256() {
        String[] key = newKey("acme", Scope.all(), null, Limits.NONE);

        String dump = redis.dump();

        assertThat(dump).doesNotContain(key[0]).doesNotContain(key[0].substring(7))
                .contains(ApiKeys.sha256Hex(key[0])).contains(key[0].substring(0, 10));
        assertThat(redis.keys()).contains(redis.prefix + "key:" + ApiKeys.sha256Hex(key[0]),
                redis.prefix + "keyid:" + key[1], redis.prefix + "tenant:acme:keys");
    }

    @Test
    void authenticate_wrongKey_401InvalidApiKeyWithTheKeyMasked() {
        newKey("acme", Scope.all(), null, Limits.NONE);
        KeyAuthenticator auth = authenticator(store, redis.status, RedisOutagePolicy.CACHED_KEYS, AUTH);
        String wrong = ApiKeys.newKey();

        OpenAiException e = refusal(auth, "Bearer " + wrong);

        assertThat(e.status()).isEqualTo(401);
        assertThat(e.error().type()).isEqualTo("invalid_request_error");
        assertThat(e.error().code()).isEqualTo("invalid_api_key");
        assertThat(e.error().message()).startsWith("Incorrect API key provided: " + wrong.substring(0, 9) + "***..."
                + wrong.substring(47)).doesNotContain(wrong);
    }

    @Test
    void authenticate_missingOrMalformedHeader_401InvalidApiKey() {
        KeyAuthenticator auth = authenticator(store, redis.status, RedisOutagePolicy.CACHED_KEYS, AUTH);
        String key = newKey("acme", Scope.all(), null, Limits.NONE)[0];

        assertThat(refusal(auth, null).error().message()).startsWith("You didn't provide an API key.");
        assertThat(refusal(auth, "").status()).isEqualTo(401);
        assertThat(refusal(auth, "Bearer ").error().message()).startsWith("You didn't provide an API key.");
        assertThat(refusal(auth, "Basic " + key).error().message()).contains("must use Bearer auth");
        assertThat(refusal(auth, "Bearer " + key + "\n").error().message()).contains("control character");
        assertThat(refusal(auth, "Bearer " + "a".repeat(600)).error().message()).contains("at most 512");
        assertThat(refusal(auth, "Bearer sk-proj-123").error().message())
                .isEqualTo("Incorrect API key provided: ***. Ask your administrator for a valid key.");
        for (String header : new String[] {null, "Basic " + key, "Bearer \u0000", "Bearer x"}) {
            OpenAiException e = refusal(auth, header);
            assertThat(e.status()).isEqualTo(401);
            assertThat(e.error().code()).isEqualTo("invalid_api_key");
        }
    }

    @Test
    void authenticate_disabledKey_401() {
        String[] key = newKey("acme", Scope.all(), null, Limits.NONE);
        var stored = store.key("acme", key[1]).block();
        ApiKey k = stored.getValue();
        store.replaceKey(new ApiKey(k.keyId(), k.tenantId(), k.name(), k.scopes(), null, true, k.limits(), k.hint(),
                k.createdAt()), stored.getKey()).block();
        KeyAuthenticator auth = authenticator(store, redis.status, RedisOutagePolicy.CACHED_KEYS, AUTH);

        OpenAiException e = refusal(auth, "Bearer " + key[0]);

        assertThat(e.status()).isEqualTo(401);
        assertThat(e.error().code()).isEqualTo("invalid_api_key");
        assertThat(e.error().message()).contains("has been disabled").contains(key[1]).doesNotContain(key[0]);
    }

    @Test
    void authenticate_disabledTenant_403TenantDisabled() {
        String[] key = newKey("acme", Scope.all(), null, Limits.NONE);
        Tenant t = store.tenant("acme").block();
        store.replace(new Tenant(t.id(), t.name(), t.weight(), true, t.limits(), t.createdAt())).block();
        KeyAuthenticator auth = authenticator(store, redis.status, RedisOutagePolicy.CACHED_KEYS, AUTH);

        OpenAiException e = refusal(auth, "Bearer " + key[0]);

        assertThat(e.status()).isEqualTo(403);
        assertThat(e.error().type()).isEqualTo("permission_error");
        assertThat(e.error().code()).isEqualTo("tenant_disabled");
    }

    @Test
    void authenticate_expiredKey_401FromTheMomentItExpires() {
        String[] key = newKey("acme", Scope.all(), clock.instant().plusSeconds(60), Limits.NONE);
        KeyAuthenticator auth = authenticator(store, redis.status, RedisOutagePolicy.CACHED_KEYS, AUTH);
        assertThat(auth.authenticate("Bearer " + key[0]).block().keyId()).isEqualTo(key[1]);

        clock.advance(Duration.ofSeconds(60));

        OpenAiException e = refusal(auth, "Bearer " + key[0]);
        assertThat(e.status()).isEqualTo(401);
        assertThat(e.error().message()).contains("expired at 2026-11-22T10:01:00Z");
    }

    @Test
    void requireScope_keyWithoutTheScope_403InsufficientScope() {
        String[] key = newKey("acme", EnumSet.of(Scope.MODELS), null, Limits.NONE);
        KeyAuthenticator auth = authenticator(store, redis.status, RedisOutagePolicy.CACHED_KEYS, AUTH);

        Caller caller = auth.authenticate("Bearer " + key[0]).block();

        assertThat(caller.allows(Scope.MODELS)).isTrue();
        assertThat(caller.allows(Scope.CHAT_COMPLETIONS)).isFalse();
        caller.requireScope(Scope.MODELS);
        assertThatThrownBy(() -> caller.requireScope(Scope.CHAT_COMPLETIONS))
                .isInstanceOfSatisfying(OpenAiException.class, e -> {
                    assertThat(e.status()).isEqualTo(403);
                    assertThat(e.error().code()).isEqualTo("insufficient_scope");
                    assertThat(e.error().message()).contains("chat.completions");
                });
    }

    @Test
    void authenticate_keyDisabledInRedis_servedFromCacheWithinTtlRefusedAfter() throws InterruptedException {
        String[] key = newKey("acme", Scope.all(), null, Limits.NONE);
        KeyAuthenticator auth = authenticator(store, redis.status, RedisOutagePolicy.CACHED_KEYS,
                new TenancyProperties.Auth(Duration.ofMillis(400), Duration.ofMinutes(10), 1000));
        assertThat(auth.authenticate("Bearer " + key[0]).block()).isNotNull();
        var stored = store.key("acme", key[1]).block();
        ApiKey k = stored.getValue();
        store.replaceKey(new ApiKey(k.keyId(), k.tenantId(), k.name(), k.scopes(), null, true, k.limits(), k.hint(),
                k.createdAt()), stored.getKey()).block();

        assertThat(auth.authenticate("Bearer " + key[0]).block()).isNotNull();
        Thread.sleep(600);

        assertThat(refusal(auth, "Bearer " + key[0]).error().message()).contains("has been disabled");
    }

    @Test
    void authenticate_hotKey_noRedisCallWithinTtl() {
        String[] key = newKey("acme", Scope.all(), null, Limits.NONE);
        KeyAuthenticator auth = authenticator(store, redis.status, RedisOutagePolicy.CACHED_KEYS, AUTH);
        auth.authenticate("Bearer " + key[0]).block();
        String sha = ApiKeys.sha256Hex(key[0]);
        redis.connection.sync().del(redis.prefix + "key:" + sha);

        assertThat(auth.authenticate("Bearer " + key[0]).block().keyId()).isEqualTo(key[1]);
        auth.forget(sha);
        assertThat(refusal(auth, "Bearer " + key[0]).status()).isEqualTo(401);
    }

    // ---- Redis outage: a second authenticator on a connection the test closes

    @Test
    void authenticate_redisDownCachedKeys_servesKnownKeyRefusesUnknownWith503() throws InterruptedException {
        String[] known = newKey("acme", Scope.all(), null, Limits.NONE);
        String[] unknownToReplica = newKey("acme", Scope.all(), null, Limits.NONE);
        var connection = redis.newConnection();
        RedisStatus status = new RedisStatus(connection);
        KeyAuthenticator auth = authenticator(new TenantStore(connection, redis.prefix, status), status,
                RedisOutagePolicy.CACHED_KEYS, new TenancyProperties.Auth(Duration.ofMillis(100), Duration.ofMinutes(10), 1000));
        assertThat(auth.authenticate("Bearer " + known[0]).block()).isNotNull();

        connection.close();
        Thread.sleep(200); // past the fresh TTL: the next call asks Redis

        assertThat(auth.authenticate("Bearer " + known[0]).block().keyId()).isEqualTo(known[1]);
        assertThat(status.up()).isFalse();
        assertThat(auth.redisUp()).isFalse();
        OpenAiException e = refusal(auth, "Bearer " + unknownToReplica[0]);
        assertThat(e.status()).isEqualTo(503);
        assertThat(e.error().type()).isEqualTo("service_unavailable");
        assertThat(e.retryAfter()).contains(Duration.ofSeconds(5));
    }

    @Test
    void authenticate_redisDownFailClosed_refusesEvenCachedKeysWith503() {
        String[] known = newKey("acme", Scope.all(), null, Limits.NONE);
        var connection = redis.newConnection();
        RedisStatus status = new RedisStatus(connection);
        KeyAuthenticator auth = authenticator(new TenantStore(connection, redis.prefix, status), status,
                RedisOutagePolicy.FAIL_CLOSED, AUTH);
        assertThat(auth.authenticate("Bearer " + known[0]).block()).isNotNull();

        connection.close();
        status.ping().onErrorResume(x -> reactor.core.publisher.Mono.empty()).block();

        assertThat(status.up()).isFalse();
        assertThat(refusal(auth, "Bearer " + known[0]).status()).isEqualTo(503);
    }

    @Test
    void authenticate_redisDownFailOpen_servesKnownKeys() throws InterruptedException {
        String[] known = newKey("acme", Scope.all(), null, Limits.NONE);
        var connection = redis.newConnection();
        RedisStatus status = new RedisStatus(connection);
        KeyAuthenticator auth = authenticator(new TenantStore(connection, redis.prefix, status), status,
                RedisOutagePolicy.FAIL_OPEN, new TenancyProperties.Auth(Duration.ofMillis(100), Duration.ofMinutes(10), 1000));
        assertThat(auth.authenticate("Bearer " + known[0]).block()).isNotNull();

        connection.close();
        Thread.sleep(200);

        assertThat(auth.authenticate("Bearer " + known[0]).block().keyId()).isEqualTo(known[1]);
        assertThat(refusal(auth, "Bearer " + ApiKeys.newKey()).status()).isEqualTo(503);
    }

    @Test
    void ping_redisBack_marksUpAgain() {
        redis.status.noteFailure(new io.lettuce.core.RedisConnectionException("test"));
        assertThat(redis.status.up()).isFalse();

        redis.status.ping().block();

        assertThat(redis.status.up()).isTrue();
    }
}
