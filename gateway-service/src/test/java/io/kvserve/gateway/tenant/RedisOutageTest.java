package io.kvserve.gateway.tenant;

import static org.assertj.core.api.Assertions.assertThat;

import io.kvserve.common.openai.OpenAiException;
import io.kvserve.gateway.quota.Admission;
import io.kvserve.gateway.quota.QuotaService;
import io.kvserve.testsupport.redis.RealRedis;
import io.kvserve.testsupport.redis.RedisEndpoint;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/** The production {@link TenancyRedis} through a proxy that the test cuts and restores: a real outage. */
@RealRedis
class RedisOutageTest {

    private TenancyTestRedis redis;
    private CuttableProxy proxy;
    private TenancyRedis gatewayRedis;

    @BeforeEach
    void setUp(RedisEndpoint endpoint, TestInfo info) throws Exception {
        redis = new TenancyTestRedis(endpoint, info.getTestMethod().orElseThrow().getName());
        proxy = new CuttableProxy(endpoint.host(), endpoint.port());
        gatewayRedis = new TenancyRedis(new TenancyProperties.Redis("redis://127.0.0.1:" + proxy.port(), redis.prefix,
                Duration.ofMillis(500), Duration.ofMillis(100)));
    }

    @AfterEach
    void tearDown() throws Exception {
        gatewayRedis.close();
        proxy.close();
        redis.close();
    }

    private String newKey(TenantStore store, Limits tenantLimits) {
        store.create(new Tenant("acme", "Acme", 1, false, tenantLimits, Instant.now())).block();
        String secret = ApiKeys.newKey();
        store.createKey(new ApiKey(ApiKeys.newKeyId(), "acme", "ci", Scope.all(), null, false, Limits.NONE,
                ApiKeys.hint(secret), Instant.now()), ApiKeys.sha256Hex(secret)).block();
        return secret;
    }

    private static void awaitStatus(RedisStatus status, boolean up) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (status.up() != up && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(status.up()).as("redis up").isEqualTo(up);
    }

    @Test
    void cachedKeys_redisCutThenRestored_servesKnownKeysLimitsLocallyThenRedisAgain() throws Exception {
        RedisStatus status = gatewayRedis.status();
        TenantStore store = new TenantStore(gatewayRedis::connection, redis.prefix, status);
        KeyAuthenticator auth = new KeyAuthenticator(store, status, RedisOutagePolicy.CACHED_KEYS,
                new TenancyProperties.Auth(Duration.ofMillis(100), Duration.ofMinutes(10), 1000), InstantSource.system());
        QuotaService quotas = new QuotaService(gatewayRedis::connection, redis.prefix, status,
                RedisOutagePolicy.CACHED_KEYS, Duration.ofMinutes(15), Duration.ofDays(35), InstantSource.system(),
                new SimpleMeterRegistry());
        String secret = newKey(new TenantStore(redis.connection, redis.prefix, redis.status),
                new Limits(3L, null, null, null));
        String other = ApiKeys.newKey();
        Caller caller = auth.authenticate("Bearer " + secret).block();
        assertThat(quotas.admit(caller, 1).block()).isInstanceOf(Admission.Admitted.class);

        proxy.cut();
        awaitStatus(status, false);

        assertThat(auth.authenticate("Bearer " + secret).block()).isEqualTo(caller);
        try {
            auth.authenticate("Bearer " + other).block();
            throw new AssertionError("an unknown key authenticated during the outage");
        } catch (OpenAiException e) {
            assertThat(e.status()).isEqualTo(503);
        }
        for (int i = 0; i < 3; i++) {
            assertThat(quotas.admit(caller, 1).block()).isInstanceOf(Admission.Admitted.class);
        }
        assertThat(quotas.admit(caller, 1).block()).isInstanceOf(Admission.Rejected.class);

        proxy.restore();
        awaitStatus(status, true);

        // Redis's counters again: one request of three was charged there before the outage
        assertThat(quotas.admit(caller, 1).block()).isInstanceOf(Admission.Admitted.class);
        assertThat(quotas.admit(caller, 1).block()).isInstanceOf(Admission.Admitted.class);
        Admission third = quotas.admit(caller, 1).block();
        assertThat(third).isInstanceOf(Admission.Rejected.class);
        assertThat(redis.connection.sync().get(redis.prefix + "q:t:acme:rpm")).isNotNull();
        assertThat(auth.authenticate("Bearer " + secret).block()).isEqualTo(caller);
    }

    @Test
    void tenancyRedis_redisDownAtStart_connectsWhenItComesUp() throws Exception {
        gatewayRedis.close();
        proxy.cut();
        gatewayRedis = new TenancyRedis(new TenancyProperties.Redis("redis://127.0.0.1:" + proxy.port(), redis.prefix,
                Duration.ofMillis(500), Duration.ofMillis(100)));
        assertThat(gatewayRedis.status().up()).isFalse();
        TenantStore store = new TenantStore(gatewayRedis::connection, redis.prefix, gatewayRedis.status());
        try {
            store.tenants().block();
            throw new AssertionError("listed tenants without Redis");
        } catch (RuntimeException e) {
            assertThat(RedisStatus.isOutage(e)).isTrue();
        }

        proxy.restore();
        awaitStatus(gatewayRedis.status(), true);

        assertThat(store.tenants().block()).isEmpty();
    }
}
