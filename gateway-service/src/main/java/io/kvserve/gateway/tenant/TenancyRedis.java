package io.kvserve.gateway.tenant;

import io.kvserve.kvshare.ingest.FailFastRedis;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisConnectionException;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.StringCodec;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway's tenancy Redis: a fail-fast Lettuce client ({@link FailFastRedis}: commands fail at once
 * while disconnected and time out after {@code gateway.redis.command-timeout}), one shared connection
 * (thread-safe; Lettuce pipelines concurrent commands on it) and its {@link RedisStatus}. One bean owns
 * all three, so that no {@code RedisClient} bean competes with other parts of the gateway.
 *
 * <p>The gateway starts even when Redis is down: the first connection is then made in the background
 * (each probe or call retries it) and, until it is, every call fails as an outage and the outage policy
 * applies. Once connected, Lettuce reconnects by itself.
 */
public final class TenancyRedis implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(TenancyRedis.class);

    private final RedisClient client;
    private final String url;
    private final RedisStatus status;
    private final AtomicBoolean connecting = new AtomicBoolean();
    private volatile StatefulRedisConnection<String, String> connection;

    public TenancyRedis(TenancyProperties.Redis properties) {
        this.url = properties.url();
        this.client = FailFastRedis.client(url, properties.commandTimeout());
        Duration connectTimeout = properties.commandTimeout().multipliedBy(4);
        client.setOptions(client.getOptions().mutate()
                .socketOptions(SocketOptions.builder().connectTimeout(connectTimeout).build()).build());
        try {
            connection = client.connect();
        } catch (RedisConnectionException e) {
            log.warn("gateway Redis {} is unreachable at start ({}); the outage policy is in force until it answers",
                    redacted(url), e.getMessage());
        }
        this.status = new RedisStatus(this::connection, connection != null);
        status.startProbing(properties.probeInterval());
    }

    /**
     * The shared connection; while none was ever made, starts an attempt in the background and throws
     * {@link RedisConnectionException} (an outage to the callers).
     */
    public StatefulRedisConnection<String, String> connection() {
        StatefulRedisConnection<String, String> c = connection;
        if (c != null) {
            return c;
        }
        if (connecting.compareAndSet(false, true)) {
            client.connectAsync(StringCodec.UTF8, io.lettuce.core.RedisURI.create(url)).whenComplete((made, e) -> {
                if (made != null) {
                    connection = made;
                    log.warn("gateway Redis {} connected", redacted(url));
                }
                connecting.set(false);
            });
        }
        throw new RedisConnectionException("gateway Redis " + redacted(url) + " not connected yet");
    }

    public RedisStatus status() {
        return status;
    }

    @Override
    public void close() {
        status.close();
        StatefulRedisConnection<String, String> c = connection;
        if (c != null) {
            c.close();
        }
        client.shutdown();
    }

    /** The URL without a password, for logs. */
    private static String redacted(String url) {
        return url.replaceAll("//[^@/]*@", "//***@");
    }
}
