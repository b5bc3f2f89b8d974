package io.kvserve.cli.benchserving;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ServiceLevelsTest {

    static RequestRecord ok(String tenant, double ttftMs, double e2eMs, int numOutputTokens, double[] itlMs, int numCachedTokens) {
        return new RequestRecord(0, false, 0, ttftMs, itlMs, e2eMs, 100, numOutputTokens, true, null, tenant, numCachedTokens);
    }

    static RequestRecord failed(String tenant) {
        return new RequestRecord(0, false, 0, Double.NaN, new double[0], 5, 100, 0, false,
                new RequestError("http", 429, "rate_limit_exceeded", "slow down"), tenant, -1);
    }

    @Test
    void fluidityIndex_allOnTime_isOne() {
        assertThat(ServiceLevels.fluidityIndex(50, new double[] {10, 10, 10}, 100, 10)).isEqualTo(1.0);
    }

    @Test
    void fluidityIndex_lateChunkAfterSlackIsSpent_missesTheDeadlinesBeforeIt_andResetsSlack() {
        // TTFT 50 of 100: slack 50. Gap 55 <= 10 + 50: on time, slack 5. Gap 20 > 10 + 5: misses
        // floor((20 - 5) / 10) = 1 deadline, slack back to 0. Gap 10: on time. 3 met + 1 missed.
        assertThat(ServiceLevels.fluidityIndex(50, new double[] {55, 20, 10}, 100, 10)).isEqualTo(0.75);
        // without the slack of the early first token, the 55 ms gap alone misses floor(55 / 10) = 5
        assertThat(ServiceLevels.fluidityIndex(100, new double[] {55}, 100, 10)).isEqualTo(1 - 5.0 / 6);
    }

    @Test
    void fluidityIndex_lateFirstChunk_missesOnePlusTheTpotDeadlinesItOverran() {
        // TTFT 250 vs 100: 1 + floor(150 / 10) = 16 missed; the next chunk, 10 ms later, is on time
        assertThat(ServiceLevels.fluidityIndex(250, new double[] {10}, 100, 10)).isCloseTo(1.0 / 17, within(1e-12));
    }

    @Test
    void fluidity_overRequests_meanMedianAndLowTail() {
        List<RequestRecord> records = List.of(
                ok(null, 50, 80, 4, new double[] {10, 10, 10}, -1),
                ok(null, 50, 135, 4, new double[] {55, 20, 10}, -1),
                ok(null, 250, 260, 2, new double[] {10}, -1),
                failed(null));
        ServiceLevels.Fluidity f = ServiceLevels.fluidity(records, 100, 10);
        assertThat(f.mean()).isCloseTo((1 + 0.75 + 1.0 / 17) / 3, within(1e-12));
        assertThat(f.p50()).isEqualTo(0.75);
        assertThat(f.p99()).isCloseTo(1.0 / 17 + 0.02 * (0.75 - 1.0 / 17), within(1e-12)); // the 1st percentile
        assertThat(ServiceLevels.fluidity(records, Double.NaN, 10).mean()).isNaN();
    }

    @Test
    void goodput_countsCompletedRequestsMeetingBothSlos_perSecond() {
        List<RequestRecord> records = List.of(
                ok("a", 50, 80, 4, new double[0], -1),    // TPOT 10: good
                ok("a", 150, 180, 4, new double[0], -1),  // TTFT over: bad
                ok("b", 50, 200, 4, new double[0], -1),   // TPOT 50: bad
                failed("b"),                              // failed: bad
                ok("b", 90, 90, 1, new double[0], -1));   // one token, no TPOT: good
        ServiceLevels.Goodput g = ServiceLevels.goodput(records, 2.0, 100, 20);
        assertThat(g.requestsPerSecond()).isEqualTo(1.0);
        assertThat(g.fraction()).isEqualTo(0.4);
        ServiceLevels.Goodput any = ServiceLevels.goodput(records, 2.0, Double.NaN, Double.NaN);
        assertThat(any.requestsPerSecond()).isEqualTo(2.0);
        assertThat(any.fraction()).isEqualTo(0.8);
        ServiceLevels.Goodput ttftOnly = ServiceLevels.goodput(records, 2.0, 100, Double.NaN);
        assertThat(ttftOnly.requestsPerSecond()).isEqualTo(1.5);
    }

    @Test
    void byTenant_splitsCountsLatenciesAndHitRates_leavingOutRequestsOfNoTenant() {
        List<RequestRecord> records = List.of(
                ok("a", 10, 40, 4, new double[0], 50),
                ok("a", 30, 60, 4, new double[0], 0),
                failed("a"),
                ok("b", 20, 50, 4, new double[0], -1),
                ok(null, 1, 2, 2, new double[0], 100));
        Map<String, ServiceLevels.TenantFigures> t = ServiceLevels.byTenant(records);
        assertThat(t).containsOnlyKeys("a", "b");
        assertThat(t.get("a").numCompleted()).isEqualTo(2);
        assertThat(t.get("a").numFailed()).isEqualTo(1);
        assertThat(t.get("a").medianTtftMs()).isEqualTo(20.0);
        assertThat(t.get("a").p99TtftMs()).isCloseTo(29.8, within(1e-9));
        assertThat(t.get("a").medianTpotMs()).isEqualTo(10.0);
        assertThat(t.get("a").prefixCacheHitRate()).isEqualTo(0.25); // 50 of 200 prompt tokens
        assertThat(t.get("b").prefixCacheHitRate()).isNaN();           // the server sent no cached_tokens
        assertThat(ServiceLevels.usageHitRate(records)).isEqualTo(150.0 / 300); // b reported none: left out
    }
}
