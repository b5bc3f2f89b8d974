package io.kvserve.gateway.tenant;

import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;
import reactor.core.publisher.Mono;

/**
 * Tenants and API keys in Redis. Every call is one script or command on the shared Lettuce connection
 * (non-blocking; Lettuce pipelines concurrent callers on it).
 *
 * <pre>
 *   &lt;p&gt; = gateway.redis.key-prefix (default "kvserve:gw:"), &lt;sha&gt; = SHA-256 hex of a key's secret
 *
 *   &lt;p&gt;tenants               SET   {&lt;tenant id&gt;, ...}
 *   &lt;p&gt;tenant:&lt;id&gt;           HASH  id name weight disabled created_ms [requests_per_minute tokens_per_minute
 *                                     max_concurrent_streams daily_token_budget]
 *   &lt;p&gt;tenant:&lt;id&gt;:keys      SET   {&lt;key id&gt;, ...}
 *   &lt;p&gt;key:&lt;sha&gt;            HASH  key_id tenant_id name scopes [expires_ms] disabled hint created_ms [limits as above]
 *   &lt;p&gt;keyid:&lt;key id&gt;       STRING &lt;sha&gt;                         key id -&gt; its record (admin URLs)
 *
 *   authenticate: one EVALSHA: HGETALL key:&lt;sha&gt;, then HGETALL tenant:&lt;its tenant id&gt;
 * </pre>
 *
 * The plaintext of a key is never stored. Keys are built inside the scripts from the prefix, which is
 * fine on a single Redis (and its replicas) but not on Redis Cluster, as in kvshare's {@code KvIndex}.
 * Updates are read-modify-write of the whole hash (the admin API is low-volume; the last writer wins).
 */
public final class TenantStore {

    /** A key found by its hash, with its tenant (null if the tenant was deleted under it). */
    public record Found(ApiKey key, Tenant tenant) {
    }

    /** ARGV: prefix sha -&gt; {} | {keyFields, tenantFields}. */
    private static final RedisScript LOOKUP = new RedisScript("""
            local k = redis.call('HGETALL', ARGV[1] .. 'key:' .. ARGV[2])
            if #k == 0 then return {} end
            local tid = nil
            for i = 1, #k, 2 do if k[i] == 'tenant_id' then tid = k[i + 1] end end
            return {k, redis.call('HGETALL', ARGV[1] .. 'tenant:' .. tid)}
            """);

    /** ARGV: prefix id field value ... -&gt; 1 created | 0 exists. */
    private static final RedisScript CREATE_TENANT = new RedisScript("""
            local k = ARGV[1] .. 'tenant:' .. ARGV[2]
            if redis.call('EXISTS', k) == 1 then return 0 end
            redis.call('HSET', k, unpack(ARGV, 3))
            redis.call('SADD', ARGV[1] .. 'tenants', ARGV[2])
            return 1
            """);

    /** ARGV: key field value ... -&gt; 1 replaced | 0 no such hash. */
    private static final RedisScript REPLACE_HASH = new RedisScript("""
            if redis.call('EXISTS', ARGV[1]) == 0 then return 0 end
            redis.call('DEL', ARGV[1])
            redis.call('HSET', ARGV[1], unpack(ARGV, 2))
            return 1
            """);

    /** ARGV: prefix -&gt; {tenantFields, ...}. */
    private static final RedisScript LIST_TENANTS = new RedisScript("""
            local out = {}
            for _, id in ipairs(redis.call('SMEMBERS', ARGV[1] .. 'tenants')) do
              local t = redis.call('HGETALL', ARGV[1] .. 'tenant:' .. id)
              if #t > 0 then out[#out + 1] = t end
            end
            return out
            """);

    /** ARGV: prefix tenantId keyId sha field value ... -&gt; 1 created | 0 no such tenant. */
    private static final RedisScript CREATE_KEY = new RedisScript("""
            local p, tid, kid, h = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
            if redis.call('EXISTS', p .. 'tenant:' .. tid) == 0 then return 0 end
            redis.call('HSET', p .. 'key:' .. h, unpack(ARGV, 5))
            redis.call('SET', p .. 'keyid:' .. kid, h)
            redis.call('SADD', p .. 'tenant:' .. tid .. ':keys', kid)
            return 1
            """);

    /** ARGV: prefix tenantId -&gt; {keyFields, ...}. */
    private static final RedisScript LIST_KEYS = new RedisScript("""
            local p, tid = ARGV[1], ARGV[2]
            local out = {}
            for _, kid in ipairs(redis.call('SMEMBERS', p .. 'tenant:' .. tid .. ':keys')) do
              local h = redis.call('GET', p .. 'keyid:' .. kid)
              if h then
                local k = redis.call('HGETALL', p .. 'key:' .. h)
                if #k > 0 then out[#out + 1] = k end
              end
            end
            return out
            """);

    /** ARGV: prefix keyId -&gt; {} | {sha, keyFields}. */
    private static final RedisScript KEY_BY_ID = new RedisScript("""
            local h = redis.call('GET', ARGV[1] .. 'keyid:' .. ARGV[2])
            if not h then return {} end
            local k = redis.call('HGETALL', ARGV[1] .. 'key:' .. h)
            if #k == 0 then return {} end
            return {h, k}
            """);

    /** ARGV: prefix tenantId keyId -&gt; sha of the deleted key | '' when no such key of that tenant. */
    private static final RedisScript DELETE_KEY = new RedisScript("""
            local p, tid, kid = ARGV[1], ARGV[2], ARGV[3]
            local h = redis.call('GET', p .. 'keyid:' .. kid)
            if not h then return '' end
            if redis.call('HGET', p .. 'key:' .. h, 'tenant_id') ~= tid then return '' end
            redis.call('DEL', p .. 'key:' .. h, p .. 'keyid:' .. kid)
            redis.call('SREM', p .. 'tenant:' .. tid .. ':keys', kid)
            return h
            """);

    private final Supplier<StatefulRedisConnection<String, String>> connection;
    private final String prefix;
    private final RedisStatus status;

    public TenantStore(StatefulRedisConnection<String, String> connection, String prefix, RedisStatus status) {
        this(() -> connection, prefix, status);
    }

    /** @param connection gives the shared connection at each call (it may throw while Redis has never been reached) */
    public TenantStore(Supplier<StatefulRedisConnection<String, String>> connection, String prefix, RedisStatus status) {
        this.connection = Objects.requireNonNull(connection, "connection");
        this.prefix = Objects.requireNonNull(prefix, "prefix");
        this.status = Objects.requireNonNull(status, "status");
    }

    public String prefix() {
        return prefix;
    }

    /** The key whose secret hashes to {@code sha}, with its tenant; empty when there is none. One round trip. */
    public Mono<Found> lookup(String sha) {
        return this.<List<Object>>run(LOOKUP, ScriptOutputType.MULTI, prefix, sha).flatMap(reply -> {
            if (reply.isEmpty()) {
                return Mono.empty();
            }
            ApiKey key = ApiKey.fromHash(hash(reply.get(0)));
            Map<String, String> tenant = hash(reply.get(1));
            return Mono.just(new Found(key, tenant.isEmpty() ? null : Tenant.fromHash(tenant)));
        });
    }

    /** Creates {@code tenant}; false when one with its id exists already. */
    public Mono<Boolean> create(Tenant tenant) {
        return this.<Long>run(CREATE_TENANT, ScriptOutputType.INTEGER,
                        args(List.of(prefix, tenant.id()), tenant.toHash()))
                .map(created -> created == 1L);
    }

    /** Replaces the stored tenant with {@code tenant}; false when it does not exist. */
    public Mono<Boolean> replace(Tenant tenant) {
        return this.<Long>run(REPLACE_HASH, ScriptOutputType.INTEGER,
                        args(List.of(tenantKey(tenant.id())), tenant.toHash()))
                .map(replaced -> replaced == 1L);
    }

    public Mono<Tenant> tenant(String tenantId) {
        return Mono.defer(() -> Mono.fromCompletionStage(connection.get().async().hgetall(tenantKey(tenantId))))
                .doOnNext(ok -> status.markUp()).doOnError(status::noteFailure)
                .flatMap(h -> h.isEmpty() ? Mono.empty() : Mono.just(Tenant.fromHash(h)));
    }

    /** Every tenant, by id. */
    public Mono<List<Tenant>> tenants() {
        return this.<List<Object>>run(LIST_TENANTS, ScriptOutputType.MULTI, prefix).map(reply -> {
            List<Tenant> tenants = new ArrayList<>(reply.size());
            for (Object o : reply) {
                tenants.add(Tenant.fromHash(hash(o)));
            }
            tenants.sort(Comparator.comparing(Tenant::id));
            return tenants;
        });
    }

    /** Stores a new key of an existing tenant under {@code sha}; false when the tenant does not exist. */
    public Mono<Boolean> createKey(ApiKey key, String sha) {
        return this.<Long>run(CREATE_KEY, ScriptOutputType.INTEGER,
                        args(List.of(prefix, key.tenantId(), key.keyId(), sha), key.toHash()))
                .map(created -> created == 1L);
    }

    /** The keys of a tenant, by creation time. */
    public Mono<List<ApiKey>> keys(String tenantId) {
        return this.<List<Object>>run(LIST_KEYS, ScriptOutputType.MULTI, prefix, tenantId).map(reply -> {
            List<ApiKey> keys = new ArrayList<>(reply.size());
            for (Object o : reply) {
                keys.add(ApiKey.fromHash(hash(o)));
            }
            keys.sort(Comparator.comparing(ApiKey::createdAt).thenComparing(ApiKey::keyId));
            return keys;
        });
    }

    /** A key record by tenant and key id, with the hash it is stored under; empty if the tenant has no such key. */
    public Mono<Map.Entry<String, ApiKey>> key(String tenantId, String keyId) {
        return this.<List<Object>>run(KEY_BY_ID, ScriptOutputType.MULTI, prefix, keyId).flatMap(reply -> {
            if (reply.isEmpty()) {
                return Mono.empty();
            }
            ApiKey key = ApiKey.fromHash(hash(reply.get(1)));
            return key.tenantId().equals(tenantId) ? Mono.just(Map.entry((String) reply.get(0), key)) : Mono.empty();
        });
    }

    /** Replaces the key record stored under {@code sha}; false when it is gone. */
    public Mono<Boolean> replaceKey(ApiKey key, String sha) {
        return this.<Long>run(REPLACE_HASH, ScriptOutputType.INTEGER, args(List.of(prefix + "key:" + sha), key.toHash()))
                .map(replaced -> replaced == 1L);
    }

    /** Deletes a key; the hash it was stored under, or empty when the tenant has no such key. */
    public Mono<String> deleteKey(String tenantId, String keyId) {
        return this.<String>run(DELETE_KEY, ScriptOutputType.VALUE, prefix, tenantId, keyId)
                .flatMap(sha -> sha.isEmpty() ? Mono.empty() : Mono.just(sha));
    }

    private String tenantKey(String tenantId) {
        return prefix + "tenant:" + tenantId;
    }

    private <T> Mono<T> run(RedisScript script, ScriptOutputType type, String... args) {
        return script.<T>run(connection, type, args)
                .doOnNext(ok -> status.markUp())
                .doOnError(status::noteFailure);
    }

    private static String[] args(List<String> head, Map<String, String> fields) {
        List<String> all = new ArrayList<>(head);
        fields.forEach((k, v) -> {
            all.add(k);
            all.add(v);
        });
        return all.toArray(String[]::new);
    }

    @SuppressWarnings("unchecked")
    static Map<String, String> hash(Object flat) {
        List<Object> list = (List<Object>) flat;
        Map<String, String> h = new LinkedHashMap<>();
        for (int i = 0; i + 1 < list.size(); i += 2) {
            h.put(String.valueOf(list.get(i)), String.valueOf(list.get(i + 1)));
        }
        return h;
    }
}
