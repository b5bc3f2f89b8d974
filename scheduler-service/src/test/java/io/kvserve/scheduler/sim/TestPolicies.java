package io.kvserve.scheduler.sim;

import io.kvserve.scheduler.policy.ClusterSnapshot;
import io.kvserve.scheduler.policy.InstanceView;
import io.kvserve.scheduler.policy.Placement;
import io.kvserve.scheduler.policy.PlacementPolicy;
import io.kvserve.scheduler.policy.PlacementRequest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** Two tiny policies to drive the simulator in tests (the service's policies live in the policy package). */
final class TestPolicies {

    private TestPolicies() {
    }

    static PolicyRegistry registry() {
        return new PolicyRegistry().register("test-round-robin", RoundRobin::new).register("test-prefix-greedy",
                PrefixGreedy::new);
    }

    /** Instances in turn. */
    static final class RoundRobin implements PlacementPolicy {
        private int cursor;

        @Override
        public String name() {
            return "test-round-robin";
        }

        @Override
        public Placement place(PlacementRequest request, ClusterSnapshot cluster) {
            List<InstanceView> views = cluster.instances();
            List<String> ranked = new ArrayList<>(views.size());
            for (int i = 0; i < views.size(); i++) {
                ranked.add(views.get((cursor + i) % views.size()).id());
            }
            cursor = (cursor + 1) % views.size();
            return new Placement(ranked, request.cachedOn(ranked.getFirst()), "round-robin");
        }
    }

    /** Most cached tokens first; ties to the least loaded. */
    static final class PrefixGreedy implements PlacementPolicy {
        @Override
        public String name() {
            return "test-prefix-greedy";
        }

        @Override
        public Placement place(PlacementRequest request, ClusterSnapshot cluster) {
            List<InstanceView> ranked = cluster.instances().stream()
                    .sorted(Comparator.comparingInt((InstanceView v) -> -request.cachedOn(v.id()))
                            .thenComparingInt(InstanceView::load).thenComparing(InstanceView::id))
                    .toList();
            return new Placement(ranked.stream().map(InstanceView::id).toList(), request.cachedOn(ranked.getFirst().id()),
                    "prefix");
        }
    }

    /** The simulator's command with the test policies: {@code TestPolicies$Main ARGS}. */
    static final class Main {
        public static void main(String[] args) throws Exception {
            System.exit(Simulator.main(args, registry()));
        }
    }
}
