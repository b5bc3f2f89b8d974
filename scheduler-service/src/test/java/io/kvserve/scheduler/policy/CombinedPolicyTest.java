package io.kvserve.scheduler.policy;

import static io.kvserve.scheduler.policy.Fixtures.cluster;
import static io.kvserve.scheduler.policy.Fixtures.context;
import static io.kvserve.scheduler.policy.Fixtures.draining;
import static io.kvserve.scheduler.policy.Fixtures.instance;
import static io.kvserve.scheduler.policy.Fixtures.request;
import static io.kvserve.scheduler.policy.Fixtures.unknown;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Mechanics with explicit configs, so tuning {@link CombinedPolicy.Config#DEFAULTS} in the simulator
 * breaks nothing here. {@code MECHANICS}: 0.2 s per request in the engine, 4000 prefill tokens/s, KV knee
 * 0.8 / 2 s, preemption 5 s, load guard 1.5 x mean + 2, balance rule off (half-life 0). {@code BALANCE}:
 * the same plus assigned work with a 60 s half-life, 4 ms per decoded token, work guard 1.25 x mean + 1 s.
 */
class CombinedPolicyTest {

    static final CombinedPolicy.Config MECHANICS = new CombinedPolicy.Config(0.2, 4000, 0.8, 2.0, 5.0, 1.5, 2,
            0, 0.004, 1.25, 1);
    static final CombinedPolicy.Config BALANCE = new CombinedPolicy.Config(0.2, 4000, 0.8, 2.0, 5.0, 1.5, 2,
            60, 0.004, 1.25, 1);

    private final CombinedPolicy policy = new CombinedPolicy(MECHANICS);

    @Test
    void cost_defaults_queueingPlusUncachedPrefill() {
        // 3 requests x 0.2 s + (4000 - 3200) / 4000 tokens/s
        assertThat(policy.cost(instance("a", 2, 1, 0.5), request(4000, Map.of()), 3200)).isCloseTo(0.8, within(1e-9));
        // cached beyond the prompt counts as the whole prompt
        assertThat(policy.cost(instance("a", 0, 0, 0.5), request(4000, Map.of()), 9000)).isCloseTo(0.0, within(1e-9));
    }

    @Test
    void place_bigHit_winsOverSlightlyLowerLoad() {
        ClusterSnapshot snapshot = cluster(
                instance("a", 2, 1, 0.5),   // load 3, 3200 cached: 0.6 + 0.2 = 0.8 s
                instance("b", 2, 0, 0.5),   // load 2, cold:        0.4 + 1.0 = 1.4 s
                instance("c", 3, 1, 0.5));  // load 4, cold:        0.8 + 1.0 = 1.8 s

        Placement placement = policy.place(request(4000, Map.of("a", 3200)), snapshot);

        assertThat(placement.rankedInstanceIds()).containsExactly("a", "b", "c");
        assertThat(placement.predictedHitTokens()).isEqualTo(3200);
        assertThat(placement.reason()).isEqualTo("prefix");
    }

    @Test
    void place_smallHit_losesToMuchLowerLoad() {
        ClusterSnapshot snapshot = cluster(
                instance("a", 6, 2, 0.5),   // load 8, 160 cached: 1.6 + 0.96 = 2.56 s
                instance("b", 1, 0, 0.5),   // load 1, cold:       0.2 + 1.0  = 1.2 s
                instance("c", 2, 0, 0.5));  // load 2, cold:       0.4 + 1.0  = 1.4 s

        Placement placement = policy.place(request(4000, Map.of("a", 160)), snapshot);

        assertThat(placement.rankedInstanceIds()).containsExactly("b", "c", "a");
        assertThat(placement.predictedHitTokens()).isZero();
        assertThat(placement.reason()).isEqualTo("load");
    }

    @Test
    void place_hotSharedPrefixPastTheGuard_demotesTheHolderAndTheHitFollows() {
        // every request shares a 7,500-token prefix cached on a only; by cost (0.2 x load + 0.125 s against
        // 2.2 s elsewhere) a stays best up to load 10, the guard (1.5 x mean + 2) stops it at load 7:
        // mean (7 + 1 + 1) / 3 = 3, threshold 6.5
        PlacementRequest request = request(8000, Map.of("a", 7500));
        for (int loadA = 0; loadA <= 6; loadA++) {
            Placement placement = policy.place(request,
                    cluster(instance("a", loadA, 0, 0.3), instance("b", 1, 0, 0.3), instance("c", 1, 0, 0.2)));
            assertThat(placement.rankedInstanceIds()).as("load of a = %d", loadA).containsExactly("a", "c", "b");
            assertThat(placement.predictedHitTokens()).isEqualTo(7500);
            assertThat(placement.reason()).isEqualTo("prefix");
        }

        Placement guarded = policy.place(request,
                cluster(instance("a", 7, 0, 0.3), instance("b", 1, 0, 0.3), instance("c", 1, 0, 0.2)));

        assertThat(guarded.rankedInstanceIds()).containsExactly("c", "b", "a");
        assertThat(guarded.predictedHitTokens()).isZero();
        assertThat(guarded.reason()).isEqualTo("guard");
        assertThat(new PrefixOnlyPolicy().place(request,
                cluster(instance("a", 7, 0, 0.3), instance("b", 1, 0, 0.3), instance("c", 1, 0, 0.2)))
                .rankedInstanceIds()).first().isEqualTo("a");
    }

    @Test
    void place_guardedSecondChoiceHoldsThePrefixToo_hitFollowsTheChoice() {
        PlacementRequest request = request(8000, Map.of("a", 7500, "b", 4000));

        Placement placement = policy.place(request,
                cluster(instance("a", 7, 0, 0.3), instance("b", 3, 0, 0.3), instance("c", 0, 0, 0.2), instance("d", 1, 0, 0.2)));

        // by cost a (1.4 + 0.125 s) < b (0.6 + 1.0 s) < c (2.0 s) < d (2.2 s); mean 2.75, threshold 6.125: a demoted
        assertThat(placement.rankedInstanceIds()).containsExactly("b", "c", "d", "a");
        assertThat(placement.predictedHitTokens()).isEqualTo(4000);
        assertThat(placement.reason()).isEqualTo("guard");
    }

    @Test
    void place_hotInstanceNotTheBest_stillDemotedInTheFallbackOrder() {
        PlacementRequest request = request(8000, Map.of("a", 7500, "b", 6000));

        Placement placement = policy.place(request,
                cluster(instance("a", 9, 0, 0.3), instance("b", 2, 0, 0.3), instance("c", 0, 0, 0.2), instance("d", 1, 0, 0.2)));

        // by cost b (0.4 + 0.5 s) < a (1.8 + 0.125 s) < c (2.0 s) < d (2.2 s); mean 3, threshold 6.5
        assertThat(placement.rankedInstanceIds()).containsExactly("b", "c", "d", "a");
        assertThat(placement.predictedHitTokens()).isEqualTo(6000);
        assertThat(placement.reason()).isEqualTo("load");
    }

    @Test
    void place_kvUsage99Percent_steersAwayDespiteAHit() {
        ClusterSnapshot snapshot = cluster(
                instance("a", 1, 0, 0.99),  // 0.2 + 0.05 + 2 x (0.19 / 0.2)^2 = 2.055 s
                instance("b", 1, 0, 0.30),  // 0.2 + 0.25 = 0.45 s
                instance("c", 2, 0, 0.30)); // 0.4 + 0.25 = 0.65 s

        Placement placement = policy.place(request(1000, Map.of("a", 800)), snapshot);

        assertThat(placement.rankedInstanceIds()).containsExactly("b", "c", "a");
        assertThat(placement.predictedHitTokens()).isZero();
    }

    @Test
    void place_requestDoesNotFitFreeKv_preemptionPenaltyAvoidsTheIdleInstance() {
        InstanceView small = new InstanceView("a", 0, 0, 0.5, 1000, 8192, 4000, false); // 500 free < 1000 + 128
        ClusterSnapshot snapshot = cluster(small, instance("b", 3, 0, 0.5));

        Placement placement = policy.place(request(1000, Map.of()), snapshot);

        assertThat(placement.rankedInstanceIds()).containsExactly("b", "a");
    }

    @Test
    void place_drainingAndTooShortContext_skipped() {
        ClusterSnapshot snapshot = cluster(draining("a"), context("b", 4000), instance("c", 4, 0, 0.5), instance("d", 5, 0, 0.5));

        Placement placement = policy.place(request(4000, Map.of("a", 4000, "b", 4000, "d", 2000)), snapshot);

        // c: 0.8 + 1.0 = 1.8 s; d: 1.0 + 0.5 = 1.5 s
        assertThat(placement.rankedInstanceIds()).containsExactly("d", "c");
        assertThat(placement.predictedHitTokens()).isEqualTo(2000);
    }

    @Test
    void place_cachedTokensUnknown_loadOnly() {
        ClusterSnapshot snapshot = cluster(instance("a", 3, 0, 0.1), instance("b", 1, 0, 0.2), instance("c", 1, 0, 0.1));

        Placement placement = policy.place(unknown(4000), snapshot);

        assertThat(placement.rankedInstanceIds()).containsExactly("c", "b", "a");
        assertThat(placement.predictedHitTokens()).isZero();
        assertThat(placement.reason()).isEqualTo("load-only");
    }

    @Test
    void place_noEligibleInstance_emptyPlacement() {
        Placement placement = policy.place(request(4000, Map.of("a", 4000)), cluster(draining("a"), context("b", 2048)));

        assertThat(placement.placed()).isFalse();
        assertThat(placement.predictedHitTokens()).isZero();
    }

    @Test
    void config_guardFactorBelowOne_rejectedWithTheFix() {
        assertThatThrownBy(() -> new CombinedPolicy.Config(0.2, 4000, 0.8, 2.0, 5.0, 0.5, 2, 0, 0.004, 1.25, 1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("guardFactor")
                .hasMessageContaining("0.5");
    }

    @Test
    void placedWorkSeconds_uncachedPrefillPlusDecodeOfMaxTokens() {
        // (8000 - 7500) / 4000 tokens/s + 128 tokens x 4 ms
        assertThat(new CombinedPolicy(BALANCE).placedWorkSeconds(instance("a", 0, 0, 0.3),
                request(8000, Map.of("a", 7500)), 7500)).isCloseTo(0.637, within(1e-9));
    }

    @Test
    void place_hotPrefixAtLowLoad_assignedWorkBeyondItsSharePushesTheNinthPlacementOff() {
        CombinedPolicy balancing = new CombinedPolicy(BALANCE);
        PlacementRequest request = request(8000, Map.of("a", 7500));
        // loads stay 0 (load threshold 2), so only the balance term moves anything. a costs 0.125 s, b and c
        // 2.0 s; each placement on a adds 0.637 s of work, and a's excess over 1.25 x mean + 1 s is added to
        // its cost. After 7: 4.459 s, excess 1.601 s, a = 1.726 s < 2.0. After 8: 5.096 s, threshold
        // 1.25 x 5.096 / 3 + 1 = 3.1233 s, excess 1.9727 s, a = 2.0977 s > 2.0
        for (int k = 0; k < 8; k++) {
            Placement placement = balancing.place(request, idle(0));
            assertThat(placement.rankedInstanceIds()).as("placement %d", k + 1).containsExactly("a", "b", "c");
            assertThat(placement.reason()).isEqualTo("prefix");
        }
        assertThat(balancing.assignedWork("a", 0)).isCloseTo(5.096, within(1e-9));

        Placement ninth = balancing.place(request, idle(0));

        assertThat(ninth.rankedInstanceIds()).containsExactly("b", "c", "a");
        assertThat(ninth.predictedHitTokens()).isZero();
        assertThat(ninth.reason()).isEqualTo("balance");
        // b took the cold prefill: 8000 / 4000 + 0.512
        assertThat(balancing.assignedWork("b", 0)).isCloseTo(2.512, within(1e-9));
    }

    @Test
    void place_penalisedHolder_restoredAfterOneHalfLife() {
        CombinedPolicy balancing = new CombinedPolicy(BALANCE);
        PlacementRequest request = request(8000, Map.of("a", 7500));
        for (int k = 0; k < 9; k++) {
            balancing.place(request, idle(0));
        }
        // 60 s later: a = 5.096 / 2, b = 2.512 / 2, c = 0; threshold 1.25 x 1.268 + 1 = 2.585 s, a under it
        assertThat(balancing.assignedWork("a", 60_000)).isCloseTo(2.548, within(1e-9));
        assertThat(balancing.assignedWork("b", 60_000)).isCloseTo(1.256, within(1e-9));

        Placement placement = balancing.place(request, idle(60_000));

        assertThat(placement.rankedInstanceIds()).containsExactly("a", "b", "c");
        assertThat(placement.predictedHitTokens()).isEqualTo(7500);
        assertThat(placement.reason()).isEqualTo("prefix");
    }

    @Test
    void place_bigHitOnAHolderOverItsShare_stillOutbidsTheExcess() {
        CombinedPolicy balancing = new CombinedPolicy(BALANCE);
        for (int k = 0; k < 8; k++) {
            balancing.place(request(8000, Map.of("a", 7500)), idle(0));
        }
        // a: 5.096 s assigned, excess 1.9727 s; a 16,000-token prompt with 15,500 cached: a = 0.125 + 1.9727 s
        // against 4.0 s cold on b or c
        Placement placement = balancing.place(request(16000, Map.of("a", 15500)), new ClusterSnapshot(List.of(
                longContext("a"), longContext("b"), longContext("c")), 0));

        assertThat(placement.rankedInstanceIds()).containsExactly("a", "b", "c");
        assertThat(placement.reason()).isEqualTo("prefix");
    }

    @Test
    void place_instanceLeavesTheCluster_itsAssignedWorkIsForgotten() {
        CombinedPolicy balancing = new CombinedPolicy(BALANCE);
        PlacementRequest request = request(8000, Map.of("a", 7500));
        balancing.place(request, idle(0));

        balancing.place(request, new ClusterSnapshot(List.of(instance("b", 0, 0, 0.3)), 0));

        assertThat(balancing.assignedWork("a", 0)).isZero();
        assertThat(balancing.assignedWork("b", 0)).isCloseTo(2.512, within(1e-9));
    }

    @Test
    void place_balanceRuleOff_assignedWorkNotKept() {
        policy.place(request(8000, Map.of("a", 7500)), idle(0));

        assertThat(policy.assignedWork("a", 0)).isZero();
    }

    private static InstanceView longContext(String id) {
        return new InstanceView(id, 0, 0, 0.3, Fixtures.KV_TOKENS, 32768, 4000, false);
    }

    private static ClusterSnapshot idle(long nowMs) {
        return new ClusterSnapshot(List.of(instance("a", 0, 0, 0.3), instance("b", 0, 0, 0.3), instance("c", 0, 0, 0.3)),
                nowMs);
    }
}
