package io.kvserve.scheduler.policy;

import static io.kvserve.scheduler.policy.Fixtures.cluster;
import static io.kvserve.scheduler.policy.Fixtures.context;
import static io.kvserve.scheduler.policy.Fixtures.draining;
import static io.kvserve.scheduler.policy.Fixtures.instance;
import static io.kvserve.scheduler.policy.Fixtures.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class SaturationTest {

    private final Saturation saturation = new Saturation(8, 0.95);

    @Test
    void saturated_loadOrKvUsageAtTheLimit_true() {
        assertThat(saturation.saturated(instance("a", 6, 2, 0.10))).isTrue();
        assertThat(saturation.saturated(instance("a", 7, 0, 0.95))).isTrue();
        assertThat(saturation.saturated(instance("a", 6, 1, 0.94))).isFalse();
    }

    @Test
    void allSaturated_onlyEligibleInstancesCount() {
        PlacementRequest request = request(1000, Map.of());

        assertThat(saturation.allSaturated(request, cluster(instance("a", 8, 0, 0.1), draining("b"), context("c", 500))))
                .isTrue();
        assertThat(saturation.allSaturated(request, cluster(instance("a", 8, 0, 0.1), instance("d", 1, 0, 0.1))))
                .isFalse();
    }

    @Test
    void new_maxKvUsageAboveOne_rejected() {
        assertThatThrownBy(() -> new Saturation(8, 1.5)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("maxKvUsage");
    }
}
