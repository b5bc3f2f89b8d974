package io.kvserve.gateway.status;

import static org.assertj.core.api.Assertions.assertThat;

import io.kvserve.common.openai.GenerateRequest.Api;
import io.kvserve.gateway.route.RoutedCall;
import org.junit.jupiter.api.Test;

class RecentRequestsTest {

    private static RecentRequest request(String id, String instanceId, Integer promptTokens, Integer cachedTokens) {
        return new RecentRequest(1_000, id, "acme", "completions", "m", instanceId, 1, "200", 0, promptTokens,
                cachedTokens, 1, null, 10);
    }

    @Test
    void add_pastCapacity_keepsTheNewestFirst() {
        RecentRequests recent = new RecentRequests(3);
        for (int i = 1; i <= 5; i++) {
            recent.add(request("r" + i, "i1", 10, 0));
        }
        assertThat(recent.recent()).extracting(RecentRequest::requestId).containsExactly("r5", "r4", "r3");
    }

    @Test
    void totals_perInstance_cachedOverPromptOfEveryRequestRelayed() {
        RecentRequests recent = new RecentRequests(2);
        recent.add(request("a", "i1", 100, 25));
        recent.add(request("b", "i1", 300, 175));
        recent.add(request("c", "i1", null, null)); // failed: counted, no tokens known
        recent.add(request("d", "i2", 50, 0));
        recent.add(request("e", null, null, null)); // refused before any instance
        assertThat(recent.totals("i1")).isEqualTo(new RecentRequests.InstanceTotals(3, 400, 200));
        assertThat(recent.totals("i1").hitRate()).isEqualTo(0.5);
        assertThat(recent.totals("i2").hitRate()).isZero();
        assertThat(recent.totals("never").hitRate()).isNull();
    }

    @Test
    void ended_refusedCall_recordedWithoutPlacementOrUsage() {
        RecentRequests recent = new RecentRequests(5);
        RoutedCall call = new RoutedCall("req-1", "acme", Api.CHAT, true, false, System.nanoTime());
        recent.firstFrame(call, 12_500_000);
        recent.ended(call, "503", 0, 40_000_000);
        RecentRequest r = recent.recent().getFirst();
        assertThat(r.requestId()).isEqualTo("req-1");
        assertThat(r.api()).isEqualTo("chat.completions");
        assertThat(r.outcome()).isEqualTo("503");
        assertThat(r.model()).isNull();
        assertThat(r.instanceId()).isNull();
        assertThat(r.promptTokens()).isNull();
        assertThat(r.timeToFirstTokenMs()).isEqualTo(12.5);
        assertThat(r.durationMs()).isEqualTo(40.0);
    }
}
