package io.kvserve.gateway.tenant;

/**
 * What the gateway does while its Redis (keys, tenants, quota counters) is unreachable
 * ({@code gateway.redis-outage}).
 */
public enum RedisOutagePolicy {
    /**
     * Keys authenticated within {@code gateway.auth.stale-ttl} keep being served from this replica's
     * memory, and their quotas are enforced per replica in memory (so N replicas admit up to N times a
     * limit); unknown keys get 503.
     */
    CACHED_KEYS,
    /** Every request gets 503 until Redis answers again. */
    FAIL_CLOSED,
    /** Keys known to this replica are served as in {@link #CACHED_KEYS}, but no quota is enforced. */
    FAIL_OPEN
}
