package io.kvserve.scheduler.policy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What every policy shares: which instances may take a request, the load order used as tie-break and
 * as the fallback when kvshare is unknown, a small stable sort over index arrays (clusters hold tens
 * of instances, so insertion sort beats boxing a list for {@code List.sort}), and building the answer.
 */
final class Candidates {

    /** Reason given by every policy when kvshare did not answer and the ranking is by load alone. */
    static final String LOAD_ONLY = "load-only";

    private Candidates() {
    }

    /** Not draining, and room for the whole prompt plus at least one generated token. */
    static boolean eligible(InstanceView instance, PlacementRequest request) {
        return !instance.draining() && (long) instance.maxModelLen() >= (long) request.numPromptTokens() + 1;
    }

    /**
     * Indices (into {@code instances}) of the eligible instances, in snapshot order, in the first
     * {@code return value} slots of {@code out}; {@code out} must be at least as long as the list.
     */
    static int eligible(List<InstanceView> instances, PlacementRequest request, int[] out) {
        int n = 0;
        for (int i = 0; i < instances.size(); i++) {
            if (eligible(instances.get(i), request)) {
                out[n++] = i;
            }
        }
        return n;
    }

    /** The cached-tokens map, or null when kvshare is unknown (one lookup per place(), no lambdas). */
    static Map<String, Integer> cachedOrNull(PlacementRequest request) {
        return request.cachedTokens().orElse(null);
    }

    static int cachedOn(Map<String, Integer> cached, String instanceId) {
        if (cached == null) {
            return 0;
        }
        Integer tokens = cached.get(instanceId);
        return tokens == null ? 0 : tokens;
    }

    /** Fewest running + waiting, then lowest KV usage, then id: least-load's order and every tie-break. */
    static int compareLoad(InstanceView a, InstanceView b) {
        int c = Integer.compare(a.load(), b.load());
        if (c != 0) {
            return c;
        }
        c = Double.compare(a.kvCacheUsage(), b.kvCacheUsage());
        return c != 0 ? c : a.id().compareTo(b.id());
    }

    @FunctionalInterface
    interface IndexOrder {
        int compare(int i, int j);
    }

    /** Stable insertion sort of {@code idx[0..n)}. */
    static void sort(int[] idx, int n, IndexOrder order) {
        for (int k = 1; k < n; k++) {
            int x = idx[k];
            int j = k - 1;
            while (j >= 0 && order.compare(idx[j], x) > 0) {
                idx[j + 1] = idx[j];
                j--;
            }
            idx[j + 1] = x;
        }
    }

    /** Sorts {@code idx[0..n)} by load and answers with the fallback reason, the hit on the first (0 when unknown). */
    static Placement byLoad(List<InstanceView> instances, int[] idx, int n, Map<String, Integer> cached, String reason) {
        sort(idx, n, (i, j) -> compareLoad(instances.get(i), instances.get(j)));
        return answer(instances, idx, n, cached, reason);
    }

    /** The placement for {@code idx[0..n)} in that order; the predicted hit is the first's cached tokens. */
    static Placement answer(List<InstanceView> instances, int[] idx, int n, Map<String, Integer> cached, String reason) {
        if (n == 0) {
            return new Placement(List.of(), 0, "none");
        }
        List<String> ids = new ArrayList<>(n);
        for (int k = 0; k < n; k++) {
            ids.add(instances.get(idx[k]).id());
        }
        return new Placement(ids, cachedOn(cached, ids.getFirst()), reason);
    }
}
