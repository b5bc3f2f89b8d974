package io.kvserve.scheduler.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Timelines computed by hand from the cost model. */
class SimInstanceTimelineTest {

    private static final double EPS = 1e-12;
    // a = 10 ms per step, b = 1 ms per prefill token, c = 2 ms per decoding sequence
    private static final InstanceSpec SPEC = new InstanceSpec(64, 32, 4, 4096, new CostModel(0.010, 0.001, 0.002));

    private static long[] blocks(long... hashes) {
        return hashes;
    }

    @Test
    void oneRequest_chunkedPrefillThenDecodes_ttftAndFinishAsComputedByHand() {
        // 4 blocks = 64 prompt tokens, budget 32: two prefill steps of 0.010 + 32 x 0.001 = 0.042 s;
        // first token at the end of the second; then 2 decode steps of 0.010 + 0.002 = 0.012 s
        SimRequest request = new SimRequest(0, 1.0, "t", blocks(1, 2, 3, 4), 3);
        ClusterSimulation sim = new ClusterSimulation(1, SPEC, new TestPolicies.RoundRobin(), 0);
        RunResult result = sim.run(ListWorkload.of(request), "rr", 1);
        RequestOutcome outcome = sim.outcomes().getFirst();
        assertEquals(1.084, outcome.firstTokenSeconds(), EPS);
        assertEquals(0.084, outcome.ttftSeconds(), EPS);
        assertEquals(1.108, outcome.finishSeconds(), EPS);
        assertEquals(0, outcome.numHitTokens());
        assertEquals(0.108, sim.instances().getFirst().busySeconds(), EPS);
        assertEquals(64 + 2, sim.instances().getFirst().numProcessedTokens());
        assertEquals(0.084, result.ttftP99Seconds(), EPS);
    }

    @Test
    void secondRequest_samePromptAfterTheFirst_hitsAllButTheLastToken() {
        // the second finds all 4 blocks; it still computes the last prompt token: 0.010 + 0.001
        SimRequest first = new SimRequest(0, 1.0, "t", blocks(1, 2, 3, 4), 1);
        SimRequest second = new SimRequest(1, 2.0, "t", blocks(1, 2, 3, 4), 1);
        ClusterSimulation sim = new ClusterSimulation(1, SPEC, new TestPolicies.RoundRobin(), 0);
        RunResult result = sim.run(ListWorkload.of(first, second), "rr", 1);
        RequestOutcome hit = sim.outcomes().get(1);
        assertEquals(63, hit.numHitTokens());
        assertEquals(64, hit.predictedHitTokens());
        assertEquals(0.011, hit.ttftSeconds(), EPS);
        assertEquals(63.0 / 128, result.hitRate(), EPS);
    }

    @Test
    void decodeAndPrefillShareAStep_costIsTheSumOfBoth() {
        // r0: 1 block, output 2; its prefill step 0.010 + 16 x 0.001 = 0.026 s ends at 0.026 (first token).
        // r1 arrives at 0.020 (mid-step) and joins the next step with r0's decode:
        // 0.010 + 16 x 0.001 + 1 x 0.002 = 0.028 s, ending at 0.054: r1's first token, r0's last.
        SimRequest r0 = new SimRequest(0, 0.0, "t", blocks(1), 2);
        SimRequest r1 = new SimRequest(1, 0.020, "t", blocks(2), 1);
        ClusterSimulation sim = new ClusterSimulation(1, SPEC, new TestPolicies.RoundRobin(), 0);
        sim.run(ListWorkload.of(r0, r1), "rr", 1);
        List<RequestOutcome> outcomes = sim.outcomes();
        assertEquals(2, outcomes.size());
        RequestOutcome o0 = outcomes.stream().filter(o -> o.request().id() == 0).findFirst().orElseThrow();
        RequestOutcome o1 = outcomes.stream().filter(o -> o.request().id() == 1).findFirst().orElseThrow();
        assertEquals(0.026, o0.ttftSeconds(), EPS);
        assertEquals(0.054, o0.finishSeconds(), EPS);
        assertEquals(0.054 - 0.020, o1.ttftSeconds(), EPS);
    }
}
