package io.kvserve.gateway.tenant;

import io.kvserve.kvshare.ingest.FailFastRedis;
import io.kvserve.testsupport.redis.RedisEndpoint;
import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.RedisClient;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import io.lettuce.core.api.StatefulRedisConnection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A real Redis for one test: a fail-fast client as the gateway has, a unique key prefix, connections
 * ("replicas") that a test may close to simulate an outage; {@link #close()} deletes the test's keys.
 */
public final class TenancyTestRedis implements AutoCloseable {

    public final RedisClient client;
    public final StatefulRedisConnection<String, String> connection;
    public final RedisStatus status;
    public final String prefix;
    private final List<StatefulRedisConnection<String, String>> extra = new ArrayList<>();

    public TenancyTestRedis(RedisEndpoint endpoint, String testName) {
        this.client = FailFastRedis.client(endpoint.uri(), Duration.ofMillis(500));
        this.connection = client.connect();
        this.status = new RedisStatus(connection);
        this.prefix = endpoint.uniqueKeyPrefix("gw-" + testName);
    }

    /** Another connection, as another gateway replica (or one a test then closes) has. */
    public StatefulRedisConnection<String, String> newConnection() {
        StatefulRedisConnection<String, String> c = client.connect();
        extra.add(c);
        return c;
    }

    /** Every key under the test's prefix. */
    public List<String> keys() {
        List<String> keys = new ArrayList<>();
        ScanCursor cursor = ScanCursor.INITIAL;
        do {
            KeyScanCursor<String> page = connection.sync().scan(cursor, ScanArgs.Builder.matches(prefix + "*").limit(1000));
            keys.addAll(page.getKeys());
            cursor = page;
        } while (!cursor.isFinished());
        return keys;
    }

    /** Everything stored under the test's prefix, keys and values, as one text (to search for secrets). */
    public String dump() {
        StringBuilder b = new StringBuilder();
        for (String key : keys()) {
            b.append(key).append('\n');
            switch (connection.sync().type(key)) {
                case "hash" -> connection.sync().hgetall(key).forEach((f, v) -> b.append(f).append('=').append(v).append('\n'));
                case "string" -> b.append(connection.sync().get(key)).append('\n');
                case "set" -> connection.sync().smembers(key).forEach(m -> b.append(m).append('\n'));
                case "zset" -> connection.sync().zrange(key, 0, -1).forEach(m -> b.append(m).append('\n'));
                default -> b.append("?\n");
            }
        }
        return b.toString();
    }

    @Override
    public void close() {
        for (StatefulRedisConnection<String, String> c : extra) {
            if (c.isOpen()) {
                c.close();
            }
        }
        List<String> keys = keys();
        if (!keys.isEmpty()) {
            connection.sync().del(keys.toArray(String[]::new));
        }
        connection.close();
        client.shutdown();
    }
}
