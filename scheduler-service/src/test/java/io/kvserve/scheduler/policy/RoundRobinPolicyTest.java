package io.kvserve.scheduler.policy;

import static io.kvserve.scheduler.policy.Fixtures.cluster;
import static io.kvserve.scheduler.policy.Fixtures.context;
import static io.kvserve.scheduler.policy.Fixtures.draining;
import static io.kvserve.scheduler.policy.Fixtures.instance;
import static io.kvserve.scheduler.policy.Fixtures.request;
import static io.kvserve.scheduler.policy.Fixtures.unknown;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class RoundRobinPolicyTest {

    private final RoundRobinPolicy policy = new RoundRobinPolicy();

    @Test
    void place_threeInstances_cyclesAndRanksTheRestInTurnOrder() {
        ClusterSnapshot snapshot = cluster(instance("a", 9, 0, 0.9), instance("b", 0, 0, 0.0), instance("c", 1, 0, 0.1));
        PlacementRequest request = request(100, Map.of("b", 64));

        Placement first = policy.place(request, snapshot);
        Placement second = policy.place(request, snapshot);
        Placement third = policy.place(request, snapshot);
        Placement fourth = policy.place(request, snapshot);

        assertThat(first.rankedInstanceIds()).containsExactly("a", "b", "c");
        assertThat(first.predictedHitTokens()).isZero();
        assertThat(second.rankedInstanceIds()).containsExactly("b", "c", "a");
        assertThat(second.predictedHitTokens()).isEqualTo(64);
        assertThat(third.rankedInstanceIds()).containsExactly("c", "a", "b");
        assertThat(fourth.rankedInstanceIds()).containsExactly("a", "b", "c");
        assertThat(fourth.reason()).isEqualTo("round-robin");
    }

    @Test
    void place_drainingAndTooShortContext_skipped() {
        ClusterSnapshot snapshot = cluster(instance("a", 0, 0, 0), draining("b"), context("c", 100), instance("d", 0, 0, 0));
        PlacementRequest request = request(100, Map.of());

        assertThat(policy.place(request, snapshot).rankedInstanceIds()).containsExactly("a", "d");
        assertThat(policy.place(request, snapshot).rankedInstanceIds()).containsExactly("d", "a");
        assertThat(policy.place(request, snapshot).rankedInstanceIds()).containsExactly("a", "d");
    }

    @Test
    void place_lastChosenStartsDraining_turnPassesToTheNextId() {
        PlacementRequest request = request(100, Map.of());
        policy.place(request, cluster(instance("a", 0, 0, 0), instance("b", 0, 0, 0), instance("c", 0, 0, 0)));
        policy.place(request, cluster(instance("a", 0, 0, 0), instance("b", 0, 0, 0), instance("c", 0, 0, 0)));

        Placement placement = policy.place(request, cluster(instance("a", 0, 0, 0), draining("b"), instance("c", 0, 0, 0)));

        assertThat(placement.rankedInstanceIds()).containsExactly("c", "a");
    }

    @Test
    void place_cachedTokensUnknown_keepsCyclingWithNoPredictedHit() {
        // round-robin never consults kvshare, so kvshare being unknown changes nothing but the hit
        ClusterSnapshot snapshot = cluster(instance("a", 5, 0, 0), instance("b", 0, 0, 0));

        Placement first = policy.place(unknown(100), snapshot);
        Placement second = policy.place(unknown(100), snapshot);

        assertThat(first.rankedInstanceIds()).containsExactly("a", "b");
        assertThat(second.rankedInstanceIds()).containsExactly("b", "a");
        assertThat(second.predictedHitTokens()).isZero();
    }

    @Test
    void place_noEligibleInstance_emptyPlacement() {
        Placement placement = policy.place(request(100, Map.of()), cluster(draining("a"), context("b", 50)));

        assertThat(placement.placed()).isFalse();
        assertThat(placement.predictedHitTokens()).isZero();
    }
}
