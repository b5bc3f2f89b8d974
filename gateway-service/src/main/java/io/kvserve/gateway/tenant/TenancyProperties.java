package io.kvserve.gateway.tenant;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Tenancy configuration of the gateway (keys, quotas, admin API), under {@code gateway.*}.
 *
 * @param redis       the Redis holding tenants, keys, quota counters and usage
 * @param redisOutage what to do while that Redis is unreachable ({@code CACHED_KEYS}, {@code FAIL_CLOSED},
 *                    {@code FAIL_OPEN}); see {@link RedisOutagePolicy}
 * @param auth        API key authentication
 * @param admin       the operator API under {@code /admin/v1}
 * @param quota       quota enforcement and usage accounting
 */
@ConfigurationProperties("gateway")
public record TenancyProperties(
        @DefaultValue Redis redis,
        @DefaultValue("CACHED_KEYS") RedisOutagePolicy redisOutage,
        @DefaultValue Auth auth,
        @DefaultValue Admin admin,
        @DefaultValue Quota quota) {

    public TenancyProperties {
        if (auth.staleTtl().compareTo(auth.cacheTtl()) < 0) {
            throw new IllegalArgumentException("gateway.auth.stale-ttl (" + auth.staleTtl()
                    + ") must be >= gateway.auth.cache-ttl (" + auth.cacheTtl() + "): the stale cache serves keys "
                    + "during a Redis outage and must outlive the fresh one");
        }
    }

    /**
     * @param url            {@code redis://host:port[/db]}
     * @param keyPrefix      prefix of every key the gateway owns (layout: docs/redis-schema.md)
     * @param commandTimeout a Redis command gives up after this long and counts as an outage
     * @param probeInterval  how often Redis is pinged to notice an outage's end
     */
    public record Redis(
            @DefaultValue("redis://127.0.0.1:6379") String url,
            @DefaultValue("kvserve:gw:") String keyPrefix,
            @DefaultValue("500ms") Duration commandTimeout,
            @DefaultValue("1s") Duration probeInterval) {

        public Redis {
            if (url.isBlank()) {
                throw new IllegalArgumentException("gateway.redis.url is required (redis://host:port)");
            }
            if (keyPrefix.isEmpty()) {
                throw new IllegalArgumentException("gateway.redis.key-prefix must not be empty (default kvserve:gw:); "
                        + "the gateway's keys must not mix with other services' keys");
            }
            requirePositive("gateway.redis.command-timeout", commandTimeout);
            requirePositive("gateway.redis.probe-interval", probeInterval);
        }
    }

    /**
     * @param cacheTtl how long an authenticated key is served from memory without asking Redis; a disabled
     *                 or deleted key keeps working on a replica for at most this long
     * @param staleTtl during a Redis outage ({@code CACHED_KEYS}, {@code FAIL_OPEN}), keys authenticated
     *                 within this long are still served
     * @param maxCachedKeys most keys held in each of the two caches
     */
    public record Auth(
            @DefaultValue("5s") Duration cacheTtl,
            @DefaultValue("10m") Duration staleTtl,
            @DefaultValue("100000") int maxCachedKeys) {

        public Auth {
            requirePositive("gateway.auth.cache-ttl", cacheTtl);
            requirePositive("gateway.auth.stale-ttl", staleTtl);
            if (maxCachedKeys < 1) {
                throw new IllegalArgumentException("gateway.auth.max-cached-keys must be >= 1, got " + maxCachedKeys);
            }
        }
    }

    /**
     * @param operatorToken bearer token of the admin API; empty disables it (every admin call answers 403)
     * @param maxBodyBytes  largest admin request body; larger ones get 413
     */
    public record Admin(
            @DefaultValue("") String operatorToken,
            @DefaultValue("65536") int maxBodyBytes) {

        public Admin {
            if (maxBodyBytes < 1024) {
                throw new IllegalArgumentException("gateway.admin.max-body-bytes must be >= 1024, got " + maxBodyBytes);
            }
        }
    }

    /**
     * @param leaseTtl       an admitted request's concurrent-stream slot is freed after this long even if the
     *                       gateway that holds it dies without releasing it; longer than the longest stream
     * @param usageRetention how long the per-day usage counters are kept in Redis
     */
    public record Quota(
            @DefaultValue("15m") Duration leaseTtl,
            @DefaultValue("35d") Duration usageRetention) {

        public Quota {
            requirePositive("gateway.quota.lease-ttl", leaseTtl);
            if (usageRetention.compareTo(Duration.ofDays(1)) < 0) {
                throw new IllegalArgumentException("gateway.quota.usage-retention must be >= 1d (usage is kept per "
                        + "UTC day), got " + usageRetention);
            }
        }
    }

    private static void requirePositive(String key, Duration value) {
        if (value.isNegative() || value.isZero()) {
            throw new IllegalArgumentException(key + " must be positive, got " + value);
        }
    }
}
