package io.kvserve.scheduler.policy;

import java.util.List;

/**
 * When an instance takes no more requests and new ones go to the {@link AdmissionQueue} instead.
 *
 * @param maxLoad    an instance with this many requests in its engine (running + waiting) or more is
 *                   saturated; e.g. vLLM's max-num-seqs plus a short waiting line
 * @param maxKvUsage an instance whose KV usage is at least this fraction (0..1] is saturated (admitting
 *                   more would preempt); e.g. 0.95
 */
public record Saturation(int maxLoad, double maxKvUsage) {

    public Saturation {
        if (maxLoad < 1) {
            throw new IllegalArgumentException("maxLoad must be >= 1, was " + maxLoad
                    + "; use max-num-seqs plus the waiting requests an engine may hold");
        }
        if (!(maxKvUsage > 0 && maxKvUsage <= 1)) {
            throw new IllegalArgumentException("maxKvUsage must be in (0, 1], was " + maxKvUsage + "; e.g. 0.95");
        }
    }

    /** Load at or over {@code maxLoad}, or KV usage at or over {@code maxKvUsage}. */
    public boolean saturated(InstanceView instance) {
        return instance.load() >= maxLoad || instance.kvCacheUsage() >= maxKvUsage;
    }

    /**
     * True when no instance that could take {@code request} (see {@link PlacementPolicy#place}) is
     * below saturation; then the request is queued. Also true when none could take it at all, which is
     * no reason to queue: the caller asks the policy first and answers an empty placement with an error.
     */
    public boolean allSaturated(PlacementRequest request, ClusterSnapshot cluster) {
        List<InstanceView> instances = cluster.instances();
        for (int i = 0; i < instances.size(); i++) {
            InstanceView instance = instances.get(i);
            if (Candidates.eligible(instance, request) && !saturated(instance)) {
                return false;
            }
        }
        return true;
    }
}
