package io.kvserve.scheduler.sim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;
import org.junit.jupiter.api.Test;

class WorkloadsTest {

    static final List<String> NAMES = Workloads.NAMES;

    private static List<SimRequest> trace(String name, double seconds, long seed) {
        Workload workload = Workloads.create(name,
                new WorkloadConfig(6, new ArrivalProcess.Poisson(4), seconds, seed, 0.8));
        List<SimRequest> requests = new ArrayList<>();
        for (SimRequest r; (r = workload.next()) != null; ) {
            requests.add(r);
        }
        return requests;
    }

    @ParameterizedTest
    @FieldSource("NAMES")
    void trace_anyWorkload_arrivalsInOrderWithinDuration(String name) {
        List<SimRequest> requests = trace(name, 120, 3);
        assertTrue(requests.size() > 100, name + ": " + requests.size());
        for (int i = 1; i < requests.size(); i++) {
            assertTrue(requests.get(i).arrivalSeconds() >= requests.get(i - 1).arrivalSeconds());
            assertTrue(requests.get(i).arrivalSeconds() < 120);
        }
    }

    @ParameterizedTest
    @FieldSource("NAMES")
    void blockHashes_twoTenants_shareOnlyThePublishedPrefix(String name) {
        Set<Long> published = new HashSet<>();
        Map<String, Set<Long>> byTenant = new HashMap<>();
        for (SimRequest r : trace(name, 120, 5)) {
            long[] hashes = r.blockHashes();
            int start = 0;
            if (name.equals("shared-prefix")) {
                start = Workloads.PUBLISHED_PREFIX_BLOCKS;
                published.addAll(Arrays.stream(hashes, 0, start).boxed().toList());
            }
            Set<Long> own = byTenant.computeIfAbsent(r.tenantId(), k -> new HashSet<>());
            for (int i = start; i < hashes.length; i++) {
                own.add(hashes[i]);
            }
        }
        assertTrue(byTenant.size() > 1);
        if (name.equals("shared-prefix")) {
            assertEquals(Workloads.PUBLISHED_PREFIX_BLOCKS, published.size(), "one published prefix for everyone");
        }
        Set<Long> seen = new HashSet<>(published);
        for (var e : byTenant.entrySet()) {
            for (long h : e.getValue()) {
                assertTrue(seen.add(h), name + ": " + e.getKey() + " shares block " + Long.toHexString(h)
                        + " with another tenant or the published prefix");
            }
        }
    }

    @Test
    void sharedPrefix_sameTenant_sameSystemPromptDifferentQuestions() {
        Map<String, long[]> first = new HashMap<>();
        for (SimRequest r : trace("shared-prefix", 60, 7)) {
            long[] previous = first.putIfAbsent(r.tenantId(), r.blockHashes());
            if (previous != null) {
                int common = 0;
                while (common < previous.length && common < r.blockHashes().length
                        && previous[common] == r.blockHashes()[common]) {
                    common++;
                }
                int question = r.blockHashes().length - common;
                assertTrue(question >= 1 && question <= 8, "only the question differs: " + question);
                assertTrue(common - Workloads.PUBLISHED_PREFIX_BLOCKS >= 64, "system prompt >= 1k tokens");
            }
        }
    }

    @Test
    void multiTurn_laterTurns_extendThePreviousTurnByAnswerAndQuestion() {
        List<SimRequest> requests = trace("multi-turn", 300, 11);
        Map<Long, SimRequest> byLastHash = new HashMap<>();
        int numExtending = 0;
        for (SimRequest r : requests) {
            long[] hashes = r.blockHashes();
            for (int i = hashes.length - 2; i >= 0; i--) {
                SimRequest previous = byLastHash.get(hashes[i]);
                if (previous != null) {
                    assertEquals(r.tenantId(), previous.tenantId());
                    assertArrayEquals(previous.blockHashes(), Arrays.copyOf(hashes, i + 1));
                    int answerBlocks = (previous.numOutputTokens() + SimRequest.BLOCK_SIZE - 1) / SimRequest.BLOCK_SIZE;
                    int questionBlocks = hashes.length - (i + 1) - answerBlocks;
                    assertTrue(questionBlocks >= 1 && questionBlocks <= 6, "question blocks " + questionBlocks);
                    assertTrue(r.arrivalSeconds() >= previous.arrivalSeconds());
                    numExtending++;
                    break;
                }
            }
            assertFalse(byLastHash.containsKey(hashes[hashes.length - 1]));
            byLastHash.put(hashes[hashes.length - 1], r);
        }
        assertTrue(numExtending > requests.size() / 2, numExtending + " of " + requests.size() + " extend a turn");
    }

    @Test
    void trace_sameSeed_sameRequests() {
        for (String name : NAMES) {
            List<SimRequest> a = trace(name, 60, 13), b = trace(name, 60, 13);
            assertEquals(a.size(), b.size());
            for (int i = 0; i < a.size(); i++) {
                assertEquals(a.get(i).arrivalSeconds(), b.get(i).arrivalSeconds());
                assertEquals(a.get(i).tenantId(), b.get(i).tenantId());
                assertArrayEquals(a.get(i).blockHashes(), b.get(i).blockHashes());
            }
        }
    }

    @ParameterizedTest
    @FieldSource("ARRIVALS")
    void arrivals_anyProcess_meanRateAsConfigured(String spec) {
        ArrivalProcess process = ArrivalProcess.parse(spec, 5);
        var random = new java.util.SplittableRandom(1);
        double t = 0;
        int n = 0;
        while ((t = process.nextArrival(t, random)) < 20000) {
            n++;
        }
        // gamma:3 counts have variance ~ cv^2 x n: sd 0.05 at this horizon
        assertEquals(5.0, n / 20000.0, 0.2, spec);
    }

    static final List<String> ARRIVALS = List.of("poisson", "gamma:3", "gamma:0.5", "onoff:10:10");
}
