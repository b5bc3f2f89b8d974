package io.kvserve.common.events;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * One instance's entry in the registry: the Redis hash {@link RedisKeys#instance} (snake_case
 * fields, all strings), expiring after the registration TTL unless a heartbeat refreshes it, plus its
 * member in {@link RedisKeys#INSTANCES}.
 *
 * @param id               instance id (also the {@code instance} field of its KV events)
 * @param url              base URL to reach the instance at
 * @param model            served model name
 * @param architecture     llama, qwen2, mistral
 * @param blockSize        tokens per KV block (and per prefix-cache hash)
 * @param numKvBlocks      blocks in the KV pool
 * @param maxModelLen      most tokens per sequence
 * @param kvCapacityTokens tokens the KV pool holds in all
 * @param epoch            the epoch of its KV events (changes on restart)
 * @param startedAtMs      when the instance registered, epoch ms
 * @param heartbeatAtMs    the latest heartbeat, epoch ms
 * @param numRunning       requests running
 * @param numWaiting       requests waiting
 * @param kvCacheUsage     fraction of KV blocks in use, 0..1
 * @param tokensPerSecond  generation tokens per second over the last heartbeat interval
 * @param status           ready or draining
 */
public record InstanceRegistration(String id, String url, String model, String architecture, int blockSize,
                                   int numKvBlocks, int maxModelLen, long kvCapacityTokens, String epoch,
                                   long startedAtMs, long heartbeatAtMs, int numRunning, int numWaiting,
                                   double kvCacheUsage, double tokensPerSecond, InstanceStatus status) {

    public InstanceRegistration {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(url, "url");
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(architecture, "architecture");
        Objects.requireNonNull(epoch, "epoch");
        Objects.requireNonNull(status, "status");
    }

    /** The hash fields, in the documented order. */
    public Map<String, String> toHash() {
        Map<String, String> hash = new LinkedHashMap<>();
        hash.put("id", id);
        hash.put("url", url);
        hash.put("model", model);
        hash.put("architecture", architecture);
        hash.put("block_size", Integer.toString(blockSize));
        hash.put("num_kv_blocks", Integer.toString(numKvBlocks));
        hash.put("max_model_len", Integer.toString(maxModelLen));
        hash.put("kv_capacity_tokens", Long.toString(kvCapacityTokens));
        hash.put("epoch", epoch);
        hash.put("started_at_ms", Long.toString(startedAtMs));
        hash.put("heartbeat_at_ms", Long.toString(heartbeatAtMs));
        hash.put("num_running", Integer.toString(numRunning));
        hash.put("num_waiting", Integer.toString(numWaiting));
        hash.put("kv_cache_usage", Double.toString(kvCacheUsage));
        hash.put("tokens_per_second", Double.toString(tokensPerSecond));
        hash.put("status", status.wireName());
        return hash;
    }

    /**
     * Parses the hash read with HGETALL.
     *
     * @throws IllegalArgumentException when a field is missing or malformed
     */
    public static InstanceRegistration fromHash(Map<String, String> hash) {
        try {
            return new InstanceRegistration(get(hash, "id"), get(hash, "url"), get(hash, "model"),
                    get(hash, "architecture"), Integer.parseInt(get(hash, "block_size")),
                    Integer.parseInt(get(hash, "num_kv_blocks")), Integer.parseInt(get(hash, "max_model_len")),
                    Long.parseLong(get(hash, "kv_capacity_tokens")), get(hash, "epoch"),
                    Long.parseLong(get(hash, "started_at_ms")), Long.parseLong(get(hash, "heartbeat_at_ms")),
                    Integer.parseInt(get(hash, "num_running")), Integer.parseInt(get(hash, "num_waiting")),
                    Double.parseDouble(get(hash, "kv_cache_usage")), Double.parseDouble(get(hash, "tokens_per_second")),
                    InstanceStatus.fromWire(get(hash, "status")));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("malformed instance registration " + hash + ": " + e.getMessage(), e);
        }
    }

    private static String get(Map<String, String> hash, String field) {
        String value = hash.get(field);
        if (value == null) {
            throw new IllegalArgumentException("instance registration lacks the field '" + field + "': " + hash);
        }
        return value;
    }
}
