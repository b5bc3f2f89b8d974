package io.kvserve.kvshare.config;

import io.kvserve.common.events.RedisKeys;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * kvshare's configuration, under {@code kvshare.*}.
 *
 * @param redisUrl        the platform's Redis ({@code redis://host:port[/db]})
 * @param keyPrefix       prefix of every key kvshare owns (the index, tenants, published prefixes, stats)
 * @param kvEventStream   the stream the inference instances publish KV events to
 * @param consumerGroup   the consumer group kvshare replicas share (each entry is applied by one replica)
 * @param consumerName    this replica's consumer name; empty takes {@code <host>-<pid>}
 * @param blockSize       tokens per block (the instances' {@code kv-cache.block-size})
 * @param operatorToken   bearer token of the operator API (tenants, published prefixes, stats); empty
 *                        disables those endpoints (403)
 * @param queryTimeout    a hit query waits at most this long for Redis, then answers "unknown"
 * @param maxChainBlocks  most blocks in one queried chain (a 128k-token prompt is 8192 blocks)
 * @param maxQueries      most queries in one batch
 * @param gapGrace        a missing sequence number not filled within this time (another replica may
 *                        still apply it) makes kvshare ask the instance to re-announce
 * @param deadInstanceGrace an indexed instance absent from the registry this long is dropped from the
 *                        index (longer than the registration TTL, so a late heartbeat is no death)
 * @param registryRefresh how often the list of live instances is read from the registry
 * @param readBatch       most stream entries read per XREADGROUP
 */
@ConfigurationProperties("kvshare")
public record KvshareProperties(
        @DefaultValue("redis://127.0.0.1:6379") String redisUrl,
        @DefaultValue("kvshare:") String keyPrefix,
        @DefaultValue(RedisKeys.DEFAULT_KV_EVENT_STREAM) String kvEventStream,
        @DefaultValue("kvshare") String consumerGroup,
        @DefaultValue("") String consumerName,
        @DefaultValue("16") int blockSize,
        @DefaultValue("") String operatorToken,
        @DefaultValue("200ms") Duration queryTimeout,
        @DefaultValue("8192") int maxChainBlocks,
        @DefaultValue("64") int maxQueries,
        @DefaultValue("2s") Duration gapGrace,
        @DefaultValue("12s") Duration deadInstanceGrace,
        @DefaultValue("1s") Duration registryRefresh,
        @DefaultValue("256") int readBatch) {

    public KvshareProperties {
        if (redisUrl.isBlank()) {
            throw new IllegalArgumentException("kvshare.redis-url is required (redis://host:port)");
        }
        if (blockSize < 1) {
            throw new IllegalArgumentException("kvshare.block-size must be >= 1, got " + blockSize);
        }
        if (maxChainBlocks < 1 || maxQueries < 1 || readBatch < 1) {
            throw new IllegalArgumentException("kvshare.max-chain-blocks, max-queries and read-batch must be >= 1");
        }
        if (queryTimeout.isNegative() || queryTimeout.isZero()) {
            throw new IllegalArgumentException("kvshare.query-timeout must be positive, got " + queryTimeout);
        }
    }

    /** The consumer name: configured, else host and pid (unique per replica, stable across its life). */
    public String consumer() {
        if (!consumerName.isBlank()) {
            return consumerName;
        }
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            host = "kvshare";
        }
        return host + "-" + ProcessHandle.current().pid();
    }
}
