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

class LeastLoadPolicyTest {

    private final LeastLoadPolicy policy = new LeastLoadPolicy();

    @Test
    void place_fourInstances_ranksByLoadThenKvUsageThenId() {
        ClusterSnapshot snapshot = cluster(
                instance("a", 2, 1, 0.5),   // load 3
                instance("b", 1, 0, 0.9),   // load 1, kv 0.9
                instance("c", 0, 1, 0.3),   // load 1, kv 0.3
                instance("d", 1, 0, 0.3));  // load 1, kv 0.3, id after c

        Placement placement = policy.place(request(1000, Map.of("b", 800, "c", 32)), snapshot);

        assertThat(placement.rankedInstanceIds()).containsExactly("c", "d", "b", "a");
        assertThat(placement.predictedHitTokens()).isEqualTo(32);
        assertThat(placement.reason()).isEqualTo("load");
    }

    @Test
    void place_drainingAndTooShortContext_skipped() {
        ClusterSnapshot snapshot = cluster(draining("a"), context("b", 1000), context("c", 1001), instance("d", 5, 5, 0.9));

        Placement placement = policy.place(request(1000, Map.of()), snapshot);

        assertThat(placement.rankedInstanceIds()).containsExactly("c", "d");
    }

    @Test
    void place_cachedTokensUnknown_loadOnly() {
        ClusterSnapshot snapshot = cluster(instance("a", 3, 0, 0.1), instance("b", 1, 0, 0.1), instance("c", 2, 0, 0.1));

        Placement placement = policy.place(unknown(500), snapshot);

        assertThat(placement.rankedInstanceIds()).containsExactly("b", "c", "a");
        assertThat(placement.predictedHitTokens()).isZero();
        assertThat(placement.reason()).isEqualTo("load-only");
    }

    @Test
    void place_noEligibleInstance_emptyPlacement() {
        Placement placement = policy.place(request(9000, Map.of("b", 100)), cluster(draining("a"), context("b", 4096)));

        assertThat(placement.placed()).isFalse();
        assertThat(placement.rankedInstanceIds()).isEmpty();
        assertThat(placement.predictedHitTokens()).isZero();
    }
}
