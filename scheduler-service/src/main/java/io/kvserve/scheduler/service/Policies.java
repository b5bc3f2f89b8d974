package io.kvserve.scheduler.service;

import io.kvserve.scheduler.policy.CombinedPolicy;
import io.kvserve.scheduler.policy.LeastLoadPolicy;
import io.kvserve.scheduler.policy.PlacementPolicy;
import io.kvserve.scheduler.policy.PrefixOnlyPolicy;
import io.kvserve.scheduler.policy.RoundRobinPolicy;

/** The policies {@code scheduler.policy} names. */
final class Policies {

    private Policies() {
    }

    static PlacementPolicy byName(String name) {
        return switch (name) {
            case "round-robin" -> new RoundRobinPolicy();
            case "least-load" -> new LeastLoadPolicy();
            case "prefix-only" -> new PrefixOnlyPolicy();
            case "combined" -> new CombinedPolicy();
            default -> throw new IllegalArgumentException("scheduler.policy=" + name
                    + ": one of round-robin, least-load, prefix-only, combined");
        };
    }
}
