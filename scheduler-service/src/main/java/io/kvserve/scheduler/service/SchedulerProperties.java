package io.kvserve.scheduler.service;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The scheduler's configuration, under {@code scheduler.*}.
 *
 * @param redisUrl            the platform's Redis (registry, tenant salts)
 * @param kvshareUrl          kvshare's base URL (hit queries); empty places by load alone
 * @param kvshareTimeout      a hit query not answered within this is treated as unknown
 * @param kvshareKeyPrefix    kvshare's key prefix (where tenant salts and published prefixes live)
 * @param blockSize           tokens per KV block, for the prompt's block-hash chain: the same as
 *                            {@code kvshare.block-size} and the instances' {@code kv-cache.block-size}
 * @param policy              round-robin, least-load, prefix-only or combined
 * @param models              model name -> model file (GGUF or HF directory) whose tokenizer and chat
 *                            template the scheduler uses, the same file the instances serve
 * @param registryRefresh     how often the instance registry is read
 * @param prefillTokensPerSecond the instances' prefill speed for the cost model (bin/kvserve bench pp)
 * @param maxLoad             an instance with this many requests (running + waiting) is saturated
 * @param maxKvUsage          an instance with this KV usage is saturated
 * @param queueSize           most requests waiting for a placement per model; more get 429
 * @param maxQueueWait        a queued request is placed within this (aging), or answered 503
 */
@ConfigurationProperties("scheduler")
public record SchedulerProperties(
        @DefaultValue("redis://127.0.0.1:6379") String redisUrl,
        @DefaultValue("") String kvshareUrl,
        @DefaultValue("250ms") Duration kvshareTimeout,
        @DefaultValue("kvshare:") String kvshareKeyPrefix,
        @DefaultValue("16") int blockSize,
        @DefaultValue("combined") String policy,
        @DefaultValue Map<String, Path> models,
        @DefaultValue("500ms") Duration registryRefresh,
        @DefaultValue("760") double prefillTokensPerSecond,
        @DefaultValue("64") int maxLoad,
        @DefaultValue("0.95") double maxKvUsage,
        @DefaultValue("1024") int queueSize,
        @DefaultValue("30s") Duration maxQueueWait) {

    public SchedulerProperties {
        models = models == null ? Map.of() : Map.copyOf(models);
        if (redisUrl.isBlank()) {
            throw new IllegalArgumentException("scheduler.redis-url is required");
        }
        if (!(prefillTokensPerSecond > 0)) {
            throw new IllegalArgumentException("scheduler.prefill-tokens-per-second must be > 0");
        }
        if (blockSize < 1) {
            throw new IllegalArgumentException("scheduler.block-size must be >= 1 (and equal kvshare.block-size), got "
                    + blockSize);
        }
        if (maxLoad < 1 || queueSize < 1) {
            throw new IllegalArgumentException("scheduler.max-load and scheduler.queue-size must be >= 1");
        }
    }
}
