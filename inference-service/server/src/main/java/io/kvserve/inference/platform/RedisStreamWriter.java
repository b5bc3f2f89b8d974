package io.kvserve.inference.platform;

import io.kvserve.common.events.KvEventEntry;
import org.springframework.data.redis.connection.RedisStreamCommands.XAddOptions;
import org.springframework.data.redis.connection.stream.StreamRecords;
import org.springframework.data.redis.core.StringRedisTemplate;

/** XADDs entries to one stream, trimming it with {@code MAXLEN ~ maxLen}. */
final class RedisStreamWriter implements KvEventStreamWriter {

    private final StringRedisTemplate redis;
    private final String stream;
    private final XAddOptions options;

    RedisStreamWriter(StringRedisTemplate redis, String stream, long maxLen) {
        this.redis = redis;
        this.stream = stream;
        this.options = XAddOptions.maxlen(maxLen).approximateTrimming(true);
    }

    @Override
    public void append(KvEventEntry entry) {
        redis.opsForStream().add(StreamRecords.newRecord().in(stream).ofMap(entry.toFields()), options);
    }

    @Override
    public boolean ping() {
        try {
            return "PONG".equalsIgnoreCase(redis.execute(connection -> connection.ping(), true));
        } catch (RuntimeException e) {
            return false;
        }
    }
}
