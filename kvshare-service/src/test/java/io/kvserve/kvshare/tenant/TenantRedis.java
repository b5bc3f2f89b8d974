package io.kvserve.kvshare.tenant;

import io.kvserve.testsupport.redis.RedisEndpoint;
import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.RedisClient;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import io.lettuce.core.api.StatefulRedisConnection;

import java.util.ArrayList;
import java.util.List;

/** A Redis client with a unique key prefix for one test; {@link #close()} deletes its keys. */
final class TenantRedis implements AutoCloseable {

    final RedisClient client;
    final StatefulRedisConnection<String, String> connection;
    final String prefix;
    private final List<StatefulRedisConnection<String, String>> extra = new ArrayList<>();

    TenantRedis(RedisEndpoint endpoint, String testName) {
        this.client = RedisClient.create(endpoint.uri());
        this.connection = client.connect();
        this.prefix = endpoint.uniqueKeyPrefix("tenant-" + testName);
    }

    /** Another connection, as another replica would have. */
    StatefulRedisConnection<String, String> newConnection() {
        StatefulRedisConnection<String, String> c = client.connect();
        extra.add(c);
        return c;
    }

    List<String> keys() {
        List<String> keys = new ArrayList<>();
        ScanCursor cursor = ScanCursor.INITIAL;
        do {
            KeyScanCursor<String> page = connection.sync().scan(cursor, ScanArgs.Builder.matches(prefix + "*").limit(1000));
            keys.addAll(page.getKeys());
            cursor = page;
        } while (!cursor.isFinished());
        return keys;
    }

    @Override
    public void close() {
        try {
            List<String> keys = keys();
            if (!keys.isEmpty()) {
                connection.sync().del(keys.toArray(String[]::new));
            }
        } finally {
            extra.stream().filter(StatefulRedisConnection::isOpen).forEach(StatefulRedisConnection::close);
            connection.close();
            client.shutdown();
        }
    }
}
