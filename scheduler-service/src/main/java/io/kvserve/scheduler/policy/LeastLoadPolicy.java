package io.kvserve.scheduler.policy;

import java.util.List;
import java.util.Map;

/**
 * Join-the-shortest-queue: fewest requests in the engine (running + waiting), then lowest KV usage,
 * then id. Blind to the prefix cache; the baseline a cache-aware policy has to beat on hit rate
 * without losing on tail latency. Stateless.
 */
public final class LeastLoadPolicy implements PlacementPolicy {

    @Override
    public String name() {
        return "least-load";
    }

    @Override
    public Placement place(PlacementRequest request, ClusterSnapshot cluster) {
        List<InstanceView> instances = cluster.instances();
        int[] idx = new int[instances.size()];
        int n = Candidates.eligible(instances, request, idx);
        Map<String, Integer> cached = Candidates.cachedOrNull(request);
        return Candidates.byLoad(instances, idx, n, cached, cached == null ? Candidates.LOAD_ONLY : "load");
    }
}
