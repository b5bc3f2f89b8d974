package io.kvserve.inference.config;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The platform's Redis, under {@code kvserve.redis.*}. Unset, the instance is a complete single-node
 * OpenAI server; set, it also registers itself and publishes its KV events.
 *
 * @param url           {@code redis://host:port[/db]} (or {@code rediss://}); empty for none
 * @param kvEventStream the Redis Stream KV events go to (kvshare consumes it)
 * @param kvEventStreamMaxLen approximate most entries the stream keeps (XADD MAXLEN ~)
 */
@ConfigurationProperties("kvserve.redis")
public record RedisProperties(
        @DefaultValue("") String url,
        @DefaultValue("kvserve:kv-events") String kvEventStream,
        @DefaultValue("1000000") long kvEventStreamMaxLen) {

    public boolean configured() {
        return !url.isBlank();
    }
}
