package io.kvserve.kvshare.tenant;

import io.kvserve.testsupport.redis.RealRedis;
import io.kvserve.testsupport.redis.RedisEndpoint;
import io.lettuce.core.api.StatefulRedisConnection;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@RealRedis
class TenantStatsTest {

    private TenantRedis redis;
    private TenantStats stats;

    @BeforeEach
    void setUp(RedisEndpoint endpoint, TestInfo info) {
        redis = new TenantRedis(endpoint, info.getTestMethod().orElseThrow().getName());
        stats = new TenantStats(redis.connection, redis.prefix);
    }

    @AfterEach
    void tearDown() {
        redis.close();
    }

    @Test
    void record_severalCalls_countersAddUp() {
        stats.record("acme", 10, Map.of("i-1", 4, "i-2", 7));
        stats.record("acme", 6, Map.of("i-1", 6));
        stats.record("acme", 3, Map.of());
        stats.record("globex", 5, Map.of("i-2", 5, "i-3", 0));

        // the readers share the connection, so they run after the recorded increments
        assertThat(stats.of("acme")).isEqualTo(new TenantStatsView("acme", 3, 19, 13));
        assertThat(stats.of("acme").hitRate()).isEqualTo(13.0 / 19);
        assertThat(stats.of("globex")).isEqualTo(new TenantStatsView("globex", 1, 5, 5));
        assertThat(stats.instances()).containsExactly(
                Map.entry("i-1", new InstanceStatsView("i-1", 2, 10)),
                Map.entry("i-2", new InstanceStatsView("i-2", 2, 12)),
                Map.entry("i-3", new InstanceStatsView("i-3", 1, 0)));
        assertThat(stats.numRecorded()).isEqualTo(4);
        assertThat(stats.numErrors()).isZero();
    }

    @Test
    void record_fromTwoReplicas_countersAddUpInRedis() {
        TenantStats replica = new TenantStats(redis.newConnection(), redis.prefix);
        stats.record("acme", 8, Map.of("i-1", 8));
        replica.record("acme", 8, Map.of("i-2", 2));

        // the two replicas' writes travel on two connections, fire-and-forget: wait until both landed
        TenantStatsView expected = new TenantStatsView("acme", 2, 16, 10);
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (!replica.of("acme").equals(expected) && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertThat(replica.of("acme")).isEqualTo(expected);
        assertThat(redis.connection.sync().hgetall(redis.prefix + "stats:tenant:acme"))
                .containsExactlyInAnyOrderEntriesOf(Map.of("queries", "2", "query_blocks", "16", "hit_blocks", "10"));
        assertThat(redis.connection.sync().hgetall(redis.prefix + "stats:instance:i-2"))
                .containsExactlyInAnyOrderEntriesOf(Map.of("queries", "1", "hit_blocks", "2"));
    }

    @Test
    void of_tenantWithoutQueries_isZeros() {
        assertThat(stats.of("nobody")).isEqualTo(new TenantStatsView("nobody", 0, 0, 0));
        assertThat(stats.of("nobody").hitRate()).isZero();
        assertThat(stats.instances()).isEmpty();
    }

    @Test
    void record_badArguments_refused() {
        assertThatThrownBy(() -> stats.record("acme", 4, Map.of("i-1", 5)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("instance i-1 has 5 hit blocks, outside 0..4 (numQueryBlocks)");
        assertThatThrownBy(() -> stats.record("acme", -1, Map.of()))
                .hasMessage("numQueryBlocks must be >= 0, got -1");
        assertThatThrownBy(() -> stats.record("a cme", 1, Map.of()))
                .hasMessageContaining("at index 1");
        assertThatThrownBy(() -> stats.record("acme", 1, Map.of("", 0)))
                .hasMessage("instance id must be 1..256 characters, got 0");
        assertThat(stats.of("acme").queries()).isZero();
    }

    @Test
    void record_redisUnreachable_countsErrorsInsteadOfThrowing() throws Exception {
        StatefulRedisConnection<String, String> closed = redis.newConnection();
        TenantStats broken = new TenantStats(closed, redis.prefix);
        closed.close();

        broken.record("acme", 4, Map.of("i-1", 2));

        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (broken.numErrors() == 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(broken.numErrors()).isPositive();
        assertThat(broken.numRecorded()).isEqualTo(1);
        assertThat(stats.of("acme").queries()).isZero();
    }
}
