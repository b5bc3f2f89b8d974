package io.kvserve.gateway.tenant;

import io.kvserve.kvshare.ingest.FailFastRedis;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;

/**
 * The gateway's tenancy Redis: a fail-fast Lettuce client ({@link FailFastRedis}: commands fail at once
 * while disconnected and time out after {@code gateway.redis.command-timeout}), one shared connection
 * (thread-safe; Lettuce pipelines concurrent commands on it) and its {@link RedisStatus}. One bean that
 * owns all three, so that no {@code RedisClient} bean competes with other parts of the gateway.
 */
public final class TenancyRedis implements AutoCloseable {

    private final RedisClient client;
    private final StatefulRedisConnection<String, String> connection;
    private final RedisStatus status;

    /**
     * Connects now: Redis must be reachable when the gateway starts (as for kvshare); after that, Lettuce
     * reconnects by itself and the outage policy covers the gap.
     */
    public TenancyRedis(TenancyProperties.Redis properties) {
        this.client = FailFastRedis.client(properties.url(), properties.commandTimeout());
        this.connection = client.connect();
        this.status = new RedisStatus(connection);
        status.startProbing(properties.probeInterval());
    }

    public StatefulRedisConnection<String, String> connection() {
        return connection;
    }

    public RedisStatus status() {
        return status;
    }

    @Override
    public void close() {
        status.close();
        connection.close();
        client.shutdown();
    }
}
