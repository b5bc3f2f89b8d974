package io.kvserve.scheduler.policy;

import java.util.List;
import java.util.Map;

/**
 * Longest cached prefix wins: most cached prompt tokens, ties by load (running + waiting, then KV
 * usage, then id). Maximises the hit rate and ignores what it costs: a hot shared prefix sends all
 * traffic to the one instance holding it. The simulator's upper reference for hit rate and its
 * warning about tail latency. Stateless.
 */
public final class PrefixOnlyPolicy implements PlacementPolicy {

    @Override
    public String name() {
        return "prefix-only";
    }

    @Override
    public Placement place(PlacementRequest request, ClusterSnapshot cluster) {
        List<InstanceView> instances = cluster.instances();
        int[] idx = new int[instances.size()];
        int n = Candidates.eligible(instances, request, idx);
        Map<String, Integer> cached = Candidates.cachedOrNull(request);
        if (cached == null) {
            return Candidates.byLoad(instances, idx, n, null, Candidates.LOAD_ONLY);
        }
        int[] hit = new int[instances.size()];
        for (int k = 0; k < n; k++) {
            hit[idx[k]] = Candidates.cachedOn(cached, instances.get(idx[k]).id());
        }
        Candidates.sort(idx, n, (i, j) -> {
            int c = Integer.compare(hit[j], hit[i]);
            return c != 0 ? c : Candidates.compareLoad(instances.get(i), instances.get(j));
        });
        return Candidates.answer(instances, idx, n, cached, n > 0 && hit[idx[0]] > 0 ? "prefix" : "load");
    }
}
