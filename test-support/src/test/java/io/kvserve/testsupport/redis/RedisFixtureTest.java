package io.kvserve.testsupport.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

@RealRedis
class RedisFixtureTest {

    @Test
    void endpoint_injected_storesAndReadsBackThroughARealClient(RedisEndpoint endpoint) {
        String key = endpoint.uniqueKeyPrefix("fixture") + "k";
        RedisClient client = RedisClient.create(endpoint.uri());
        try (StatefulRedisConnection<String, String> connection = client.connect()) {
            RedisCommands<String, String> redis = connection.sync();
            redis.set(key, "v1");
            assertThat(redis.get(key)).isEqualTo("v1");
            assertThat(redis.incr(key + ":n")).isEqualTo(1L);
            redis.del(key, key + ":n");
        } finally {
            client.shutdown();
        }
    }

    @Test
    void spawnedServer_closed_stopsAnsweringPing() throws Exception {
        Optional<Path> executable = RedisServerProcess.findExecutable();
        assumeTrue(executable.isPresent(), "redis-server is not on PATH");
        RedisEndpoint endpoint;
        try (RedisServerProcess process = RedisServerProcess.start(executable.get())) {
            endpoint = process.endpoint();
            assertThat(RespPing.ping(endpoint, Duration.ofSeconds(1))).isTrue();
        }
        assertThat(RespPing.ping(endpoint, Duration.ofMillis(300))).isFalse();
    }
}
