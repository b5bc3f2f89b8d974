package io.kvserve.kvshare.ingest;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.TimeoutOptions;
import java.time.Duration;

/**
 * The Lettuce client the platform's Redis readers use (kvshare, the scheduler): while Redis is away,
 * commands fail at once instead of queueing for the reconnect, and any command gives up after
 * {@code commandTimeout}, so a caller can answer "unknown" or fall back instead of hanging.
 */
public final class FailFastRedis {

    private FailFastRedis() {
    }

    public static RedisClient client(String url, Duration commandTimeout) {
        RedisClient client = RedisClient.create(RedisURI.create(url));
        client.setOptions(ClientOptions.builder()
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .timeoutOptions(TimeoutOptions.enabled(commandTimeout))
                .build());
        return client;
    }
}
