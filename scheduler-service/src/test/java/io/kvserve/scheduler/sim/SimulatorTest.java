package io.kvserve.scheduler.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvserve.scheduler.policy.PlacementPolicy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

class SimulatorTest {

    static final List<String> WORKLOADS = Workloads.NAMES;

    private static SimulationOptions options(String workload, long seed, double heartbeatSeconds) {
        return Simulator.parse(new String[] {"--workload", workload, "--instances", "2,4", "--duration", "120s",
                "--seed", Long.toString(seed), "--heartbeat", heartbeatSeconds + "s",
                "--policies", "test-round-robin,test-prefix-greedy"});
    }

    @Test
    void run_sameSeed_sameResults() {
        List<RunResult> a = Simulator.run(options("shared-prefix", 1, 0), TestPolicies.registry());
        List<RunResult> b = Simulator.run(options("shared-prefix", 1, 0), TestPolicies.registry());
        assertEquals(a, b);
        List<RunResult> c = Simulator.run(options("shared-prefix", 2, 0), TestPolicies.registry());
        assertNotEquals(a, c);
    }

    @Test
    void run_staleSnapshot_sameSeedSameResults() {
        assertEquals(Simulator.run(options("multi-turn", 1, 2), TestPolicies.registry()),
                Simulator.run(options("multi-turn", 1, 2), TestPolicies.registry()));
    }

    @ParameterizedTest
    @FieldSource("WORKLOADS")
    void oracle_anyWorkload_hitRateAtLeastEveryPolicys(String workload) {
        List<RunResult> results = Simulator.run(options(workload, 1, 0), TestPolicies.registry());
        for (int n : List.of(2, 4)) {
            RunResult oracle = results.stream().filter(r -> r.numInstances() == n && r.policy().equals("oracle"))
                    .findFirst().orElseThrow();
            for (RunResult r : results) {
                if (r.numInstances() == n) {
                    assertTrue(oracle.hitRate() >= r.hitRate(), workload + " " + n + ": oracle " + oracle.hitRate()
                            + " < " + r.policy() + " " + r.hitRate());
                    assertEquals(oracle.numRequests(), r.numRequests() + r.numRejected(), "same trace");
                }
            }
        }
    }

    @Test
    void write_results_markdownJsonAndNonEmptyPngs(@TempDir Path dir) throws Exception {
        SimulationOptions options = options("few-shot", 1, 0);
        List<RunResult> results = Simulator.run(options, TestPolicies.registry());
        String markdown = Report.markdown(options, results, new String[] {"--workload", "few-shot"});
        Report.write(dir, options, results, markdown);
        assertTrue(Files.readString(dir.resolve("results.md")).contains("| 4 | test-prefix-greedy |"));
        String json = Files.readString(dir.resolve("results.json"));
        assertTrue(json.contains("\"policy\": \"oracle\"") && json.contains("\"tenants\": [{"), json);
        for (String png : List.of("hit-rate.png", "ttft-p99.png")) {
            byte[] bytes = Files.readAllBytes(dir.resolve(png));
            assertTrue(bytes.length > 1000, png + " is " + bytes.length + " bytes");
            assertEquals((byte) 0x89, bytes[0]);
            assertEquals("PNG", new String(bytes, 1, 3, java.nio.charset.StandardCharsets.US_ASCII));
        }
    }

    @Test
    void registry_unknownName_listsTheKnownOnes() {
        var e = assertThrows(IllegalArgumentException.class, () -> TestPolicies.registry().create("fastest"));
        assertTrue(e.getMessage().contains("test-round-robin"), e.getMessage());
    }

    @Test
    void registry_classMissing_failsWithTheClassName() {
        var registry = new PolicyRegistry().register("ghost",
                PolicyRegistry.reflective("ghost", "io.kvserve.scheduler.policy.GhostPolicy"));
        var e = assertThrows(IllegalArgumentException.class, () -> registry.create("ghost"));
        assertTrue(e.getMessage().contains("io.kvserve.scheduler.policy.GhostPolicy"), e.getMessage());
    }

    @Test
    void registry_mainPolicies_registeredByName() {
        assertEquals(List.of("round-robin", "least-load", "prefix-only", "combined"),
                PolicyRegistry.withMainPolicies().names());
        PlacementPolicy policy = new PolicyRegistry().register("rr", TestPolicies.RoundRobin::new).create("rr");
        assertEquals("test-round-robin", policy.name());
    }

    @Test
    void parse_badOption_saysWhich() {
        var e = assertThrows(IllegalArgumentException.class, () -> Simulator.parse(new String[] {"--speed", "1"}));
        assertTrue(e.getMessage().contains("--speed"));
        assertEquals(600.0, Simulator.parse(new String[] {"--duration", "10m"}).durationSeconds());
    }
}
