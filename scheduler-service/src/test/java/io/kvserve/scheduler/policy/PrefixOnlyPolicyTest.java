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

class PrefixOnlyPolicyTest {

    private final PrefixOnlyPolicy policy = new PrefixOnlyPolicy();

    @Test
    void place_fourInstances_ranksByCachedTokensThenLoad() {
        ClusterSnapshot snapshot = cluster(
                instance("a", 3, 0, 0.2),   // 512 cached, load 3
                instance("b", 1, 0, 0.2),   // 512 cached, load 1
                instance("c", 0, 0, 0.0),   // nothing cached, idle
                instance("d", 4, 1, 0.7));  // 1024 cached, load 5

        Placement placement = policy.place(request(2000, Map.of("a", 512, "b", 512, "d", 1024)), snapshot);

        assertThat(placement.rankedInstanceIds()).containsExactly("d", "b", "a", "c");
        assertThat(placement.predictedHitTokens()).isEqualTo(1024);
        assertThat(placement.reason()).isEqualTo("prefix");
    }

    @Test
    void place_noHitAnywhere_loadOrder() {
        ClusterSnapshot snapshot = cluster(instance("a", 2, 0, 0.2), instance("b", 1, 0, 0.2), instance("c", 1, 0, 0.1));

        Placement placement = policy.place(request(2000, Map.of()), snapshot);

        assertThat(placement.rankedInstanceIds()).containsExactly("c", "b", "a");
        assertThat(placement.predictedHitTokens()).isZero();
        assertThat(placement.reason()).isEqualTo("load");
    }

    @Test
    void place_drainingAndTooShortContext_skippedEvenWithTheLongestPrefix() {
        ClusterSnapshot snapshot = cluster(draining("a"), context("b", 2000), instance("c", 9, 0, 0.5), instance("d", 0, 0, 0.0));

        Placement placement = policy.place(request(2000, Map.of("a", 1900, "b", 1900, "c", 100)), snapshot);

        assertThat(placement.rankedInstanceIds()).containsExactly("c", "d");
        assertThat(placement.predictedHitTokens()).isEqualTo(100);
    }

    @Test
    void place_cachedTokensUnknown_loadOnly() {
        ClusterSnapshot snapshot = cluster(instance("a", 3, 0, 0.1), instance("b", 1, 0, 0.1), instance("c", 1, 0, 0.05));

        Placement placement = policy.place(unknown(500), snapshot);

        assertThat(placement.rankedInstanceIds()).containsExactly("c", "b", "a");
        assertThat(placement.predictedHitTokens()).isZero();
        assertThat(placement.reason()).isEqualTo("load-only");
    }

    @Test
    void place_noEligibleInstance_emptyPlacement() {
        Placement placement = policy.place(request(100, Map.of("a", 100)), cluster(draining("a")));

        assertThat(placement.placed()).isFalse();
        assertThat(placement.predictedHitTokens()).isZero();
    }
}
