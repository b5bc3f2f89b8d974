package io.kvserve.scheduler.policy;

import java.util.List;

/**
 * Cycles through the eligible instances in id order. The cursor is the last chosen id, not a counter,
 * so an instance joining, leaving or starting to drain shifts nobody's turn. Blind to load and to the
 * prefix cache, so it keeps cycling when kvshare is unknown (it never asked kvshare): that is the
 * baseline's definition, and the simulator compares against exactly that. Holds state: one instance
 * per scheduler, not thread-safe (the service calls it from one thread or under its own lock).
 */
public final class RoundRobinPolicy implements PlacementPolicy {

    private String lastId;

    @Override
    public String name() {
        return "round-robin";
    }

    @Override
    public Placement place(PlacementRequest request, ClusterSnapshot cluster) {
        List<InstanceView> instances = cluster.instances();
        int[] idx = new int[instances.size()];
        int n = Candidates.eligible(instances, request, idx);
        if (n == 0) {
            return Candidates.answer(instances, idx, 0, null, "none");
        }
        // eligible ids sorted, so "next after lastId" is well defined whatever the snapshot's order
        Candidates.sort(idx, n, (i, j) -> instances.get(i).id().compareTo(instances.get(j).id()));
        int start = 0;
        if (lastId != null) {
            while (start < n && instances.get(idx[start]).id().compareTo(lastId) <= 0) {
                start++;
            }
            if (start == n) {
                start = 0;
            }
        }
        int[] rotated = new int[n];
        for (int k = 0; k < n; k++) {
            rotated[k] = idx[(start + k) % n];
        }
        lastId = instances.get(rotated[0]).id();
        return Candidates.answer(instances, rotated, n, Candidates.cachedOrNull(request), "round-robin");
    }
}
