package io.kvserve.scheduler.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.kvserve.scheduler.policy.ClusterSnapshot;
import io.kvserve.scheduler.policy.InstanceView;
import io.kvserve.scheduler.policy.Placement;
import io.kvserve.scheduler.policy.PlacementPolicy;
import io.kvserve.scheduler.policy.PlacementRequest;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ClusterSimulationTest {

    private static final InstanceSpec SPEC = new InstanceSpec(64, 32, 4, 4096, new CostModel(0.010, 0.001, 0.002));

    /** Always the first instance; records what it saw. */
    private static final class Recording implements PlacementPolicy {
        final List<ClusterSnapshot> snapshots = new ArrayList<>();
        final List<PlacementRequest> requests = new ArrayList<>();

        @Override
        public String name() {
            return "recording";
        }

        @Override
        public Placement place(PlacementRequest request, ClusterSnapshot cluster) {
            snapshots.add(cluster);
            requests.add(request);
            return new Placement(List.of("i0", "i1"), request.cachedOn("i0"), "first");
        }
    }

    private static SimRequest request(long id, double at, long... hashes) {
        return new SimRequest(id, at, "t", hashes, 4);
    }

    @Test
    void arrive_liveSnapshot_showsCurrentLoadAndTrueLeadingHits() {
        Recording policy = new Recording();
        ClusterSimulation sim = new ClusterSimulation(2, SPEC, policy, 0);
        sim.run(ListWorkload.of(request(0, 0, 1, 2), request(1, 0.001, 3), request(2, 5, 1, 2, 7)), "rec", 2);
        InstanceView second = policy.snapshots.get(1).instances().getFirst();
        assertEquals(1, second.numRunning(), "the first request is running");
        assertEquals(0, second.numWaiting());
        assertEquals(32, policy.requests.get(2).cachedOn("i0"), "blocks 1 and 2 were computed and kept");
        assertEquals(0, policy.requests.get(2).cachedOn("i1"));
        assertEquals(5000, policy.snapshots.get(2).nowMs());
    }

    @Test
    void arrive_staleSnapshot_showsLastHeartbeatPlusRequestsPlacedSince() {
        Recording policy = new Recording();
        ClusterSimulation sim = new ClusterSimulation(2, SPEC, policy, 2.0);
        sim.run(ListWorkload.of(request(0, 0.1, 1), request(1, 0.2, 2), request(2, 0.3, 3), request(3, 2.5, 4)),
                "rec", 2);
        // heartbeat at 0 saw an idle cluster; the scheduler counts what it placed since
        assertEquals(List.of(0, 1, 2), policy.snapshots.subList(0, 3).stream()
                .map(s -> s.instances().getFirst().numWaiting()).toList());
        assertEquals(0, policy.snapshots.get(2).instances().getFirst().numRunning());
        // the heartbeat at 2.0 s saw the three requests finished (each takes well under 2 s)
        InstanceView after = policy.snapshots.get(3).instances().getFirst();
        assertEquals(0, after.numRunning() + after.numWaiting());
    }
}
