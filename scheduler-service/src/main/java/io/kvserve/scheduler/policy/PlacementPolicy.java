package io.kvserve.scheduler.policy;

/**
 * Decides where a request runs: pure code over a {@link ClusterSnapshot}, so the service and the
 * simulator run the same classes. Implementations: {@code RoundRobinPolicy}, {@code LeastLoadPolicy},
 * {@code PrefixOnlyPolicy}, {@code CombinedPolicy} (the default).
 */
public interface PlacementPolicy {

    /** The policy's name in config and reports: round-robin, least-load, prefix-only, combined. */
    String name();

    /**
     * Ranks the instances that can take the request (not draining, context long enough); may keep
     * state (round-robin's cursor), so one instance per scheduler.
     */
    Placement place(PlacementRequest request, ClusterSnapshot cluster);
}
