package io.kvserve.scheduler.policy;

import java.util.Objects;

/**
 * One inference instance as a placement policy sees it: a snapshot of its registration and load.
 *
 * @param id               instance id
 * @param numRunning       requests running
 * @param numWaiting       requests queued in its engine
 * @param kvCacheUsage     fraction of its KV blocks in use, 0..1
 * @param kvCapacityTokens tokens its KV cache holds in all
 * @param maxModelLen      most tokens per sequence
 * @param prefillTokensPerSecond its prefill speed (cost model: calibrated from {@code bin/kvserve bench})
 * @param draining         draining instances take no new requests
 */
public record InstanceView(String id, int numRunning, int numWaiting, double kvCacheUsage, long kvCapacityTokens,
                           int maxModelLen, double prefillTokensPerSecond, boolean draining) {

    public InstanceView {
        Objects.requireNonNull(id, "id");
    }

    /** Requests in its engine. */
    public int load() {
        return numRunning + numWaiting;
    }
}
