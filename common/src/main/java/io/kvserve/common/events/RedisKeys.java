package io.kvserve.common.events;

/**
 * The Redis key and channel names of the platform's instance registry and KV event stream (see
 * {@code docs/redis-schema.md}).
 */
public final class RedisKeys {

    /** Default stream of {@link KvEventEntry} entries, shared by all instances ({@code kvserve.redis.kv-event-stream}). */
    public static final String DEFAULT_KV_EVENT_STREAM = "kvserve:kv-events";

    /** Sorted set of registered instance ids, scored by their last heartbeat in epoch ms. */
    public static final String INSTANCES = "kvserve:instances";

    private RedisKeys() {
    }

    /** The hash holding one instance's {@link InstanceRegistration}; it expires without heartbeats. */
    public static String instance(String instanceId) {
        return "kvserve:instance:" + instanceId;
    }

    /** The pub/sub channel on which any message asks the instance to re-announce its KV cache. */
    public static String reannounceChannel(String instanceId) {
        return "kvserve:instance:" + instanceId + ":reannounce";
    }
}
