package io.kvserve.kvshare.ingest;

import io.kvserve.common.events.InstanceRegistration;
import io.kvserve.common.events.RedisKeys;
import io.lettuce.core.api.sync.RedisCommands;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The live inference instances, as the registry in Redis says ({@code kvserve:instances} plus each
 * instance's expiring hash; see docs/redis-schema.md). A member whose hash has expired is dead.
 * Refreshed by the consumer thread; read by queries from any thread (an immutable snapshot).
 */
public final class InstanceRegistry {

    private static final Logger LOG = LoggerFactory.getLogger(InstanceRegistry.class);

    private final Supplier<RedisCommands<String, String>> redis;
    private volatile List<InstanceRegistration> live = List.of();
    private volatile boolean loaded;

    public InstanceRegistry(Supplier<RedisCommands<String, String>> redis) {
        this.redis = redis;
    }

    /** Reads the registry; returns the ids of members whose registration is gone (dead). */
    public Set<String> refresh() {
        RedisCommands<String, String> r = redis.get();
        List<String> ids = r.zrange(RedisKeys.INSTANCES, 0, -1);
        List<InstanceRegistration> alive = new ArrayList<>(ids.size());
        List<String> dead = new ArrayList<>();
        for (String id : ids) {
            Map<String, String> hash = r.hgetall(RedisKeys.instance(id));
            if (hash == null || hash.isEmpty()) {
                dead.add(id);
                continue;
            }
            try {
                alive.add(InstanceRegistration.fromHash(hash));
            } catch (IllegalArgumentException e) {
                LOG.warn("instance {}: malformed registration ignored: {}", id, e.getMessage());
            }
        }
        live = List.copyOf(alive);
        loaded = true;
        return Set.copyOf(dead);
    }

    /** Whether the registry has been read at least once. */
    public boolean loaded() {
        return loaded;
    }

    public List<InstanceRegistration> live() {
        return live;
    }

    /** The live instances serving {@code model}. */
    public List<InstanceRegistration> serving(String model) {
        return live.stream().filter(i -> i.model().equals(model)).toList();
    }

    public Set<String> liveIds() {
        return live.stream().map(InstanceRegistration::id).collect(Collectors.toUnmodifiableSet());
    }

    public Set<String> models() {
        return live.stream().map(InstanceRegistration::model).collect(Collectors.toUnmodifiableSet());
    }
}
