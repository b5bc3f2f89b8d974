package io.kvserve.scheduler.policy;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Small hand-written snapshots: 100,000-token KV, 8192 context, 4000 prefill tokens/s unless said. */
final class Fixtures {

    static final long KV_TOKENS = 100_000;

    private Fixtures() {
    }

    static InstanceView instance(String id, int numRunning, int numWaiting, double kvCacheUsage) {
        return new InstanceView(id, numRunning, numWaiting, kvCacheUsage, KV_TOKENS, 8192, 4000, false);
    }

    static InstanceView draining(String id) {
        return new InstanceView(id, 0, 0, 0.0, KV_TOKENS, 8192, 4000, true);
    }

    static InstanceView context(String id, int maxModelLen) {
        return new InstanceView(id, 0, 0, 0.0, KV_TOKENS, maxModelLen, 4000, false);
    }

    static ClusterSnapshot cluster(InstanceView... instances) {
        return new ClusterSnapshot(List.of(instances), 0);
    }

    static PlacementRequest request(int numPromptTokens, Map<String, Integer> cachedTokens) {
        return new PlacementRequest("tenant-a", numPromptTokens, 128, Optional.of(cachedTokens));
    }

    static PlacementRequest unknown(int numPromptTokens) {
        return new PlacementRequest("tenant-a", numPromptTokens, 128, Optional.empty());
    }
}
