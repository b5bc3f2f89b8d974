package io.kvserve.kvshare.tenant;

import io.kvserve.common.kvcache.BlockHasher;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;

import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Every tenant's secret salt, the root of its block-hash chains ({@link BlockHasher}).
 *
 * <h2>Design</h2>
 * A salt is 32 bytes from {@link SecureRandom}, created the first time anyone asks for the tenant
 * and never changed afterwards. Several kvshare replicas (and the scheduler) may ask at once, so
 * creation is one Lua script: {@code HSETNX salt} on {@code <prefix>tenant:<id>}, and only if that
 * won, {@code HSET created_ms} and {@code SADD <prefix>tenants}; the script returns whichever salt is
 * stored, so every racer gets the winner's. The layout is in {@code docs/redis-schema.md}.
 *
 * <p>Salts are cached in a small LRU map ({@code maxCachedTenants}, default 10 000). A cached salt
 * is re-read from Redis after {@code cacheTtl} (default 10 s): salts never change, but an operator
 * may {@link #delete} a tenant, and the other replicas must stop using the old salt. So for up to
 * {@code cacheTtl} after a delete, another replica may still hash with the old salt.
 *
 * <p>The salt is the tenant's secret: with it anybody can compute the tenant's chains and probe its
 * cached prompts. So it is never logged, never put into an exception message and never part of a
 * {@code toString()}; callers get a fresh copy of the bytes.
 *
 * <p>Thread-safe. Blocking (synchronous Lettuce commands): call it off event-loop threads.
 */
public final class TenantSalts {

    /** Bytes of a new salt. */
    public static final int SALT_BYTES = 32;

    /** Default most tenants cached in memory. */
    public static final int DEFAULT_MAX_CACHED_TENANTS = 10_000;

    /** Default time after which a cached salt is checked against Redis again. */
    public static final Duration DEFAULT_CACHE_TTL = Duration.ofSeconds(10);

    // KEYS[1] tenant hash, KEYS[2] tenants set; ARGV[1] new salt (base64), ARGV[2] now ms, ARGV[3] tenant id
    private static final String CREATE_SCRIPT = """
            if redis.call('HSETNX', KEYS[1], 'salt', ARGV[1]) == 1 then
              redis.call('HSET', KEYS[1], 'created_ms', ARGV[2])
              redis.call('SADD', KEYS[2], ARGV[3])
            end
            return redis.call('HGET', KEYS[1], 'salt')
            """;

    // KEYS[1] tenant hash, KEYS[2] tenants set; ARGV[1] tenant id
    private static final String DELETE_SCRIPT = """
            redis.call('SREM', KEYS[2], ARGV[1])
            return redis.call('DEL', KEYS[1])
            """;

    private final RedisCommands<String, String> redis;
    private final TenantKeys keys;
    private final SecureRandom random = new SecureRandom();
    private final long cacheTtlNanos;
    private final Map<String, Cached> cache;

    private record Cached(byte[] salt, long loadedAtNanos) {
        @Override
        public String toString() {
            return "Cached[salt=<secret>]";
        }
    }

    /** Salts under {@link TenantKeys#DEFAULT_PREFIX} with the default cache. */
    public TenantSalts(StatefulRedisConnection<String, String> connection) {
        this(connection, TenantKeys.DEFAULT_PREFIX);
    }

    /** Salts under {@code keyPrefix} (e.g. {@code "kvshare:"}) with the default cache. */
    public TenantSalts(StatefulRedisConnection<String, String> connection, String keyPrefix) {
        this(connection, keyPrefix, DEFAULT_MAX_CACHED_TENANTS, DEFAULT_CACHE_TTL);
    }

    /**
     * @param connection       a Lettuce connection (shared; only synchronous commands are used)
     * @param keyPrefix        the key prefix, {@code "kvshare:"} in production
     * @param maxCachedTenants most salts kept in memory, least recently used evicted
     * @param cacheTtl         how long a cached salt is used before it is checked in Redis again
     *                         (bounds how long a deleted tenant's salt lingers on other replicas)
     */
    public TenantSalts(StatefulRedisConnection<String, String> connection, String keyPrefix, int maxCachedTenants,
                       Duration cacheTtl) {
        Objects.requireNonNull(connection, "connection");
        Objects.requireNonNull(cacheTtl, "cacheTtl");
        if (maxCachedTenants < 1) {
            throw new IllegalArgumentException("maxCachedTenants must be >= 1, got " + maxCachedTenants);
        }
        if (cacheTtl.isNegative()) {
            throw new IllegalArgumentException("cacheTtl must be >= 0, got " + cacheTtl);
        }
        this.redis = connection.sync();
        this.keys = new TenantKeys(keyPrefix);
        this.cacheTtlNanos = cacheTtl.toNanos();
        this.cache = Collections.synchronizedMap(new LinkedHashMap<>(64, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Cached> eldest) {
                return size() > maxCachedTenants;
            }
        });
    }

    /** The key names used. */
    public TenantKeys keys() {
        return keys;
    }

    /**
     * The tenant's salt (a fresh copy), created atomically across replicas if the tenant has none.
     *
     * @throws IllegalArgumentException if {@code tenantId} is not a valid tenant id ({@link TenantIds})
     */
    public byte[] saltOf(String tenantId) {
        TenantIds.requireValid(tenantId);
        byte[] cached = cached(tenantId);
        if (cached != null) {
            return cached.clone();
        }
        byte[] fresh = new byte[SALT_BYTES];
        random.nextBytes(fresh);
        String stored = redis.eval(CREATE_SCRIPT, ScriptOutputType.VALUE,
                new String[] {keys.tenant(tenantId), keys.tenants()},
                Base64.getEncoder().encodeToString(fresh), Long.toString(System.currentTimeMillis()), tenantId);
        byte[] salt = decode(tenantId, stored);
        cache.put(tenantId, new Cached(salt, System.nanoTime()));
        return salt.clone();
    }

    /** The tenant's salt (a fresh copy) if it has one; never creates it. */
    public Optional<byte[]> existingSalt(String tenantId) {
        TenantIds.requireValid(tenantId);
        byte[] cached = cached(tenantId);
        if (cached != null) {
            return Optional.of(cached.clone());
        }
        String stored = redis.hget(keys.tenant(tenantId), "salt");
        if (stored == null) {
            return Optional.empty();
        }
        byte[] salt = decode(tenantId, stored);
        cache.put(tenantId, new Cached(salt, System.nanoTime()));
        return Optional.of(salt.clone());
    }

    /**
     * Whether the tenant has a salt. Cached like the salt itself (a hit query with a caller's chain
     * asks this every time; the salt is read, not just tested, so that the next call finds it cached).
     */
    public boolean exists(String tenantId) {
        return existingSalt(tenantId).isPresent();
    }

    /** Every tenant id that has a salt, sorted. */
    public List<String> tenantIds() {
        List<String> ids = new ArrayList<>(redis.smembers(keys.tenants()));
        Collections.sort(ids);
        return ids;
    }

    /**
     * Removes the tenant's namespace: its salt and its entry in the tenant set. The next
     * {@link #saltOf} creates a new, unrelated salt, so the tenant's old chains never hit again; the
     * KV blocks they name stay in the instances' caches until evicted (nobody can name them now).
     * Other replicas may use the old salt for up to their {@code cacheTtl}. Statistics are kept.
     */
    public void delete(String tenantId) {
        TenantIds.requireValid(tenantId);
        cache.remove(tenantId);
        // a script, not MULTI: a transaction on a shared connection would take in other threads' commands
        redis.eval(DELETE_SCRIPT, ScriptOutputType.INTEGER,
                new String[] {keys.tenant(tenantId), keys.tenants()}, tenantId);
        cache.remove(tenantId);
    }

    private byte[] cached(String tenantId) {
        Cached c = cache.get(tenantId);
        if (c == null) {
            return null;
        }
        if (System.nanoTime() - c.loadedAtNanos() > cacheTtlNanos) {
            cache.remove(tenantId);
            return null;
        }
        return c.salt();
    }

    private static byte[] decode(String tenantId, String stored) {
        byte[] salt;
        try {
            salt = Base64.getDecoder().decode(stored);
        } catch (IllegalArgumentException e) {
            // no cause and no value: either could carry the salt
            throw new IllegalStateException("the salt of tenant " + tenantId + " in Redis is not base64");
        }
        if (salt.length < BlockHasher.MIN_SALT_BYTES) {
            throw new IllegalStateException("the salt of tenant " + tenantId + " in Redis has " + salt.length
                    + " bytes, at least " + BlockHasher.MIN_SALT_BYTES + " needed");
        }
        return salt;
    }

    @Override
    public String toString() {
        return "TenantSalts[" + keys.prefix() + ", " + cache.size() + " cached]";
    }
}
