package io.kvserve.kvshare.ingest;

import io.lettuce.core.api.StatefulRedisConnection;
import java.time.Duration;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/**
 * {@code redis} in /actuator/health: whether the index's Redis answers PING within 200 ms. Not in
 * the readiness group: without Redis kvshare still answers (with "unknown"), which is its contract.
 */
public final class RedisHealthIndicator implements HealthIndicator {

    private final StatefulRedisConnection<String, String> connection;
    private final EventConsumer consumer;

    public RedisHealthIndicator(StatefulRedisConnection<String, String> connection, EventConsumer consumer) {
        this.connection = connection;
        this.consumer = consumer;
    }

    @Override
    public Health health() {
        try {
            String pong = connection.async().ping().get(200, java.util.concurrent.TimeUnit.MILLISECONDS);
            return Health.up().withDetail("ping", pong).withDetail("consumer", consumer.redisUp() ? "up" : "reconnecting")
                    .withDetail("stream_lag_entries", consumer.lag()).build();
        } catch (Exception e) {
            return Health.down().withDetail("error", e.toString()).withDetail("timeout", Duration.ofMillis(200).toString())
                    .build();
        }
    }
}
