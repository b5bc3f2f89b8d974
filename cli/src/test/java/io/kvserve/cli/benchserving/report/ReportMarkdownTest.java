package io.kvserve.cli.benchserving.report;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportMarkdownTest {

    @TempDir
    Path dir;

    private List<ServingRun> twoRuns() throws IOException {
        return List.of(
                ServingRunReader.read(RunFiles.closedLoop(dir, "baseline", 4, 512.25, 123.456, 10, 20)),
                ServingRunReader.read(RunFiles.openLoop(dir, "candidate", "10.0", 800.0, 95.0, 8.5, 0.85, 10, 20)));
    }

    private static String row(String table, String name) {
        return table.lines().filter(l -> l.startsWith("| " + name + " |")).findFirst().orElseThrow(
                () -> new AssertionError("no row " + name + " in\n" + table));
    }

    @Test
    void table_twoRuns_isOneColumnPerRunWithExactCells() throws IOException {
        String table = ReportMarkdown.table(twoRuns());

        assertThat(table.lines().findFirst()).contains("| | baseline | candidate |");
        assertThat(row(table, "offered load")).isEqualTo("| offered load | 4 users | 10 req/s |");
        assertThat(row(table, "arrival")).isEqualTo("| arrival | closed loop | open loop, poisson |");
        assertThat(row(table, "TTFT p99 (ms)")).isEqualTo("| TTFT p99 (ms) | 123.46 | 95.00 |");
        assertThat(row(table, "TTFT p50 (ms)")).isEqualTo("| TTFT p50 (ms) | 40.00 | 40.00 |");
        assertThat(row(table, "output tok/s")).isEqualTo("| output tok/s | 512.3 | 800.0 |");
        assertThat(row(table, "goodput req/s (share)")).isEqualTo("| goodput req/s (share) | — | 8.50 (85.0%) |");
        assertThat(row(table, "goodput SLO")).isEqualTo("| goodput SLO | — | TTFT ≤ 200 ms |");
        assertThat(row(table, "errors")).isEqualTo("| errors | none | none |");
    }

    @Test
    void table_noRunWithAnOptionalFigure_leavesItsRowOut() throws IOException {
        String table = ReportMarkdown.table(List.of(ServingRunReader.read(RunFiles.closedLoop(dir, "old", 1, 100, 50, 10))));

        assertThat(table).doesNotContain("goodput").doesNotContain("fluidity").doesNotContain("hit rate").doesNotContain("sender lag");
        assertThat(table).contains("| TTFT p99 (ms) | 50.00 |");
    }

    @Test
    void table_moreThanThreeRuns_isOneRowPerRun() throws IOException {
        List<ServingRun> runs = new ArrayList<>(twoRuns());
        runs.add(ServingRunReader.read(RunFiles.closedLoop(dir, "c8", 8, 900, 150, 10)));
        runs.add(ServingRunReader.read(RunFiles.closedLoop(dir, "c16", 16, 1000, 300, 10)));

        String table = ReportMarkdown.table(runs);

        List<String> lines = table.lines().toList();
        assertThat(lines).hasSize(2 + 4);
        assertThat(lines.getFirst()).startsWith("| run | workload | arrival | offered load | completed / failed | req/s | output tok/s | TTFT p50 (ms) |")
                .contains("| goodput req/s (share) | goodput SLO |").endsWith("| errors |");
        assertThat(lines.get(1)).startsWith("|---|---|---|---|---:|");
        assertThat(lines.get(5)).startsWith("| c16 | random | closed loop | 16 users | 1 / 0 |").contains("| 300.00 |");
    }

    @Test
    void table_runWithNoCompletedRequest_showsDashesNotZeros() throws IOException {
        Path file = dir.resolve("all-failed.json");
        Files.writeString(file, """
                {"config": {"mode": "open_loop", "request_rate": "200.0"},
                 "summary": {"completed": 0, "failed": 2, "request_throughput": 0.0, "output_throughput": 0.0,
                             "median_ttft_ms": 0.0, "p99_ttft_ms": 0.0, "errors": {"timeout": 1, "http_429:rate_limit_exceeded": 1}},
                 "requests": []}
                """);

        String table = ReportMarkdown.table(List.of(ServingRunReader.read(file)));

        assertThat(row(table, "TTFT p99 (ms)")).isEqualTo("| TTFT p99 (ms) | — |");
        assertThat(row(table, "completed / failed")).isEqualTo("| completed / failed | 0 / 2 |");
        assertThat(row(table, "errors")).isEqualTo("| errors | http_429:rate_limit_exceeded 1, timeout 1 |");
    }

    @Test
    void of_runsWithTenants_addsAPerTenantTableInNameOrder() throws IOException {
        Path file = dir.resolve("tenants.json");
        Files.writeString(file, """
                {"config": {"mode": "open_loop", "request_rate": "2.0", "arrival": "burst", "burst_size": 4},
                 "summary": {"completed": 3, "failed": 1, "prefix_cache_hit_rate": 0.4567,
                             "fluidity_index": {"mean": 0.9, "p50": 1.0, "p99": 0.5},
                             "sender_lag": {"max_ms": 350.0, "planned_span_ms": 1000.0, "fell_behind": true},
                             "tenants": {"zeta": {"completed": 2, "failed": 0, "median_ttft_ms": 12.5, "p99_ttft_ms": 30.0,
                                                  "median_tpot_ms": 2.25, "prefix_cache_hit_rate": 0.75},
                                         "alpha": {"completed": 0, "failed": 1, "median_ttft_ms": 0.0, "p99_ttft_ms": 0.0,
                                                   "median_tpot_ms": 0.0, "prefix_cache_hit_rate": null}}},
                 "requests": []}
                """);

        String md = ReportMarkdown.of(List.of(ServingRunReader.read(file)), "bin/kvserve bench-report tenants.json", List.of());

        assertThat(md).contains("## Per tenant")
                .contains("| tenants | alpha | 0 / 1 | — | — | — | — |\n| tenants | zeta | 2 / 0 | 12.50 | 30.00 | 2.25 | 75.0% |")
                .contains("| prefix-cache hit rate | 45.7% |")
                .contains("| fluidity index mean / p50 / p99 | 0.900 / 1.000 / 0.500 |")
                .contains("| sender lag max (ms) | 350.0 ⚠ fell behind |")
                .contains("⚠ `tenants`: the sender fell behind its arrival schedule (up to 350.0 ms late in a 1000.0 ms schedule)")
                .contains("| offered load | 2 req/s in bursts of 4 |")
                .contains("| arrival | open loop, burst |")
                .contains("Made by `bin/kvserve bench-report tenants.json`");
    }

    @Test
    void table_goodputWithoutSlo_saysNoneAndNaNFluidityIsOneDash() throws IOException {
        Path file = dir.resolve("no-slo.json");
        Files.writeString(file, """
                {"config": {"mode": "closed_loop", "concurrency": 2},
                 "summary": {"completed": 4, "goodput": {"slo_ttft_ms": null, "slo_tpot_ms": null, "requests_per_s": 2.0, "fraction": 1.0},
                             "fluidity_index": {"mean": null, "p50": null, "p99": null},
                             "sender_lag": {"max_ms": 0.0, "planned_span_ms": 0.0, "fell_behind": false}},
                 "requests": []}
                """);

        String table = ReportMarkdown.table(List.of(ServingRunReader.read(file)));

        assertThat(row(table, "goodput req/s (share)")).isEqualTo("| goodput req/s (share) | 2.00 (100.0%) |");
        assertThat(row(table, "goodput SLO")).isEqualTo("| goodput SLO | none (every completed request) |");
        assertThat(table).doesNotContain("fluidity").doesNotContain("sender lag");
    }

    @Test
    void table_openLoopWithoutRate_showsNoLoadAndSortsLast() throws IOException {
        Path trace = dir.resolve("trace.json");
        Files.writeString(trace, """
                {"config": {"mode": "open_loop", "arrival": "trace", "workload": "trace"},
                 "summary": {"completed": 1}, "requests": []}
                """);
        List<ServingRun> runs = OfferedLoad.inOrder(List.of(ServingRunReader.read(trace),
                ServingRunReader.read(RunFiles.openLoop(dir, "rinf", "inf", 1, 1, 1, 1, 10))));

        assertThat(runs).extracting(ServingRun::label).containsExactly("rinf", "trace");
        assertThat(row(ReportMarkdown.table(runs), "offered load")).isEqualTo("| offered load | inf req/s | — |");
        assertThat(row(ReportMarkdown.table(runs), "arrival")).isEqualTo("| arrival | open loop, poisson | open loop, trace |");
    }

    @Test
    void of_runsWithoutTenants_hasNoPerTenantTable() throws IOException {
        String md = ReportMarkdown.of(twoRuns(), "cmd", List.of("latency-cdf.png"));

        assertThat(md).doesNotContain("Per tenant").contains("# Serving benchmark: baseline vs candidate")
                .contains("![CDF of TTFT and of E2E latency per run](latency-cdf.png)");
    }
}
