package io.kvserve.kvshare.tenant;

import io.kvserve.testsupport.redis.RealRedis;
import io.kvserve.testsupport.redis.RedisEndpoint;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@RealRedis
class TenantSaltsTest {

    private TenantRedis redis;
    private TenantSalts salts;

    @BeforeEach
    void setUp(RedisEndpoint endpoint, TestInfo info) {
        redis = new TenantRedis(endpoint, info.getTestMethod().orElseThrow().getName());
        salts = new TenantSalts(redis.connection, redis.prefix);
    }

    @AfterEach
    void tearDown() {
        redis.close();
    }

    @Test
    void saltOf_newTenant_creates32RandomBytesOnceWithTheDocumentedLayout() {
        byte[] salt = salts.saltOf("acme");

        assertThat(salt).hasSize(32);
        assertThat(salts.saltOf("acme")).isEqualTo(salt);
        var hash = redis.connection.sync().hgetall(redis.prefix + "tenant:acme");
        assertThat(hash.keySet()).containsExactlyInAnyOrder("salt", "created_ms");
        assertThat(Base64.getDecoder().decode(hash.get("salt"))).isEqualTo(salt);
        assertThat(Long.parseLong(hash.get("created_ms"))).isCloseTo(System.currentTimeMillis(),
                org.assertj.core.data.Offset.offset(60_000L));
        assertThat(redis.connection.sync().smembers(redis.prefix + "tenants")).containsExactly("acme");
        assertThat(salts.saltOf("globex")).isNotEqualTo(salt);
    }

    @Test
    void saltOf_returnedArrayMutated_cachedSaltUnchanged() {
        byte[] salt = salts.saltOf("acme");
        byte[] copy = salt.clone();
        salt[0] ^= 1;

        assertThat(salts.saltOf("acme")).isEqualTo(copy);
    }

    @Test
    void saltOf_eightReplicasRaceForANewTenant_allGetTheSameSalt() throws Exception {
        int numThreads = 8;
        List<TenantSalts> replicas = new ArrayList<>();
        for (int i = 0; i < numThreads; i++) {
            replicas.add(new TenantSalts(redis.newConnection(), redis.prefix));
        }
        CountDownLatch start = new CountDownLatch(1);
        List<Future<byte[]>> results = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(numThreads)) {
            for (TenantSalts replica : replicas) {
                Callable<byte[]> race = () -> {
                    start.await();
                    return replica.saltOf("racer");
                };
                results.add(pool.submit(race));
            }
            start.countDown();
            Set<String> distinct = new HashSet<>();
            for (Future<byte[]> f : results) {
                distinct.add(Base64.getEncoder().encodeToString(f.get()));
            }
            assertThat(distinct).hasSize(1);
        }
        assertThat(salts.tenantIds()).containsExactly("racer");
    }

    @Test
    void saltOf_anotherReplica_readsTheSameSalt() {
        byte[] salt = salts.saltOf("acme");
        TenantSalts replica = new TenantSalts(redis.newConnection(), redis.prefix);

        assertThat(replica.existingSalt("acme")).hasValueSatisfying(s -> assertThat(s).isEqualTo(salt));
        assertThat(replica.saltOf("acme")).isEqualTo(salt);
        assertThat(replica.exists("acme")).isTrue();
    }

    @Test
    void exists_onAnotherReplica_answeredFromItsCacheAfterTheFirstCall() {
        salts.saltOf("acme");
        TenantSalts replica = new TenantSalts(redis.newConnection(), redis.prefix);
        assertThat(replica.exists("acme")).isTrue();

        // removed behind the replica's back: within its cache TTL (10 s) it still answers from memory,
        // as a hit query with a caller's chain asks this on every call
        redis.connection.sync().del(redis.prefix + "tenant:acme");

        assertThat(replica.exists("acme")).isTrue();
        assertThat(new TenantSalts(redis.newConnection(), redis.prefix).exists("acme")).isFalse();
    }

    @Test
    void existingSalt_unknownTenant_isEmptyAndCreatesNothing() {
        assertThat(salts.existingSalt("nobody")).isEmpty();
        assertThat(salts.exists("nobody")).isFalse();
        assertThat(salts.tenantIds()).isEmpty();
        assertThat(redis.keys()).isEmpty();
    }

    @Test
    void tenantIds_afterSeveralTenants_listsThemSorted() {
        salts.saltOf("zeta");
        salts.saltOf("alpha");
        salts.saltOf("mid.dle:1_a-b");

        assertThat(salts.tenantIds()).containsExactly("alpha", "mid.dle:1_a-b", "zeta");
    }

    @Test
    void delete_thenSaltOf_createsANewSalt() {
        byte[] old = salts.saltOf("acme");

        salts.delete("acme");

        assertThat(salts.exists("acme")).isFalse();
        assertThat(salts.existingSalt("acme")).isEmpty();
        assertThat(salts.tenantIds()).doesNotContain("acme");
        byte[] fresh = salts.saltOf("acme");
        assertThat(fresh).hasSize(32).isNotEqualTo(old);
        assertThat(salts.tenantIds()).containsExactly("acme");
    }

    @Test
    void delete_onAnotherReplica_seenHereAfterTheCacheTtl() throws Exception {
        TenantSalts shortCache = new TenantSalts(redis.newConnection(), redis.prefix, 100, Duration.ofMillis(50));
        byte[] old = shortCache.saltOf("acme");

        salts.delete("acme");
        Thread.sleep(100);

        assertThat(shortCache.existingSalt("acme")).isEmpty();
        assertThat(shortCache.saltOf("acme")).isNotEqualTo(old);
    }

    @Test
    void saltOf_invalidTenantIds_refusedWithPreciseMessages() {
        assertThatThrownBy(() -> salts.saltOf("has space"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("tenant id 'has space' has ' ' (U+0020) at index 3; only [A-Za-z0-9._:-] is allowed");
        assertThatThrownBy(() -> salts.saltOf(""))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("tenant id is empty; it must be 1..128 characters of [A-Za-z0-9._:-]");
        assertThatThrownBy(() -> salts.saltOf("a".repeat(129)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("tenant id is 129 characters long, at most 128 allowed");
        assertThatThrownBy(() -> salts.existingSalt("tab\there"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("U+0009 at index 3");
        assertThatThrownBy(() -> salts.delete("a/b"))
                .hasMessageContaining("'/' (U+002F) at index 1");
        assertThatThrownBy(() -> salts.saltOf(null)).isInstanceOf(NullPointerException.class);
        assertThat(salts.saltOf("a".repeat(128))).hasSize(32);
        assertThat(redis.keys()).containsExactlyInAnyOrder(
                redis.prefix + "tenant:" + "a".repeat(128), redis.prefix + "tenants");
    }

    @Test
    void saltInRedisCorrupt_messageNamesTheTenantButNotTheValue() {
        String notBase64 = "!!secret-ish-value!!";
        redis.connection.sync().hset(redis.prefix + "tenant:broken", "salt", notBase64);
        String tooShort = Base64.getEncoder().encodeToString(new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
        redis.connection.sync().hset(redis.prefix + "tenant:short", "salt", tooShort);

        assertThatThrownBy(() -> salts.saltOf("broken"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("the salt of tenant broken in Redis is not base64")
                .hasNoCause();
        assertThatThrownBy(() -> salts.existingSalt("short"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageNotContaining(tooShort);
    }

    @Test
    void toString_afterUse_neverShowsTheSalt() {
        String salt = Base64.getEncoder().encodeToString(salts.saltOf("acme"));
        String hex = java.util.HexFormat.of().formatHex(salts.saltOf("acme"));

        assertThat(salts.toString()).doesNotContain(salt).doesNotContain(hex);
        assertThat(salts.keys().toString()).doesNotContain(salt);
    }
}
