package io.kvserve.gateway.status;

import io.kvserve.common.events.InstanceRegistration;
import io.kvserve.common.events.RedisKeys;
import io.lettuce.core.api.StatefulRedisConnection;
import java.util.Comparator;
import java.util.List;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The inference instances registered in Redis, read as {@code io.kvserve.kvshare.ingest.InstanceRegistry}
 * reads them (the members of {@link RedisKeys#INSTANCES}, each one's expiring hash; a member whose hash
 * has expired is dead and left out) but with Lettuce's asynchronous API, so that a status request never
 * holds a thread: one {@code ZRANGE}, then the {@code HGETALL}s pipelined on the connection. Read when
 * asked (the page asks every 2 s while it is open), nothing in the background.
 */
final class LiveInstances {

    private static final Logger LOG = LoggerFactory.getLogger(LiveInstances.class);
    /** Enough for any cluster the page can show; a registry larger than this is cut, and says so. */
    static final int MAX_INSTANCES = 1000;

    /** The registrations read, by id, and how many members were left out. */
    record Read(List<InstanceRegistration> live, int numDead, boolean truncated) {
    }

    private final Supplier<StatefulRedisConnection<String, String>> connection;

    LiveInstances(Supplier<StatefulRedisConnection<String, String>> connection) {
        this.connection = connection;
    }

    Mono<Read> read() {
        return Mono.defer(() -> Mono.fromCompletionStage(connection.get().async()
                        .zrange(RedisKeys.INSTANCES, 0, MAX_INSTANCES)))
                .flatMap(ids -> {
                    boolean truncated = ids.size() > MAX_INSTANCES;
                    List<String> shown = truncated ? ids.subList(0, MAX_INSTANCES) : ids;
                    return Flux.fromIterable(shown)
                            .flatMapSequential(id -> Mono.fromCompletionStage(connection.get().async()
                                    .hgetall(RedisKeys.instance(id))), 64)
                            .collectList()
                            .map(hashes -> {
                                List<InstanceRegistration> live = hashes.stream()
                                        .filter(h -> h != null && !h.isEmpty())
                                        .map(LiveInstances::parse)
                                        .filter(r -> r != null)
                                        .sorted(Comparator.comparing(InstanceRegistration::id))
                                        .toList();
                                return new Read(live, shown.size() - live.size(), truncated);
                            });
                });
    }

    private static InstanceRegistration parse(java.util.Map<String, String> hash) {
        try {
            return InstanceRegistration.fromHash(hash);
        } catch (IllegalArgumentException e) {
            LOG.debug("malformed instance registration ignored: {}", e.getMessage());
            return null;
        }
    }
}
