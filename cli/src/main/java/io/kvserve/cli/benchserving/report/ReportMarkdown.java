package io.kvserve.cli.benchserving.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * {@code report.md}: one table of the runs' figures (a column per run up to {@link #MAX_COLUMNS}
 * runs, a row per run beyond), a per-tenant table when runs have tenants, what each run was, and the
 * figures. Times in ms; absent values are "—".
 */
final class ReportMarkdown {

    /** Up to this many runs are columns (side by side); more are rows. */
    static final int MAX_COLUMNS = 3;

    static final String ABSENT = "—";

    private static final Map<String, String> CAPTIONS = Map.of(
            ServingReports.LATENCY_CDF_PNG, "CDF of TTFT and of E2E latency per run",
            ServingReports.THROUGHPUT_PNG, "Output tokens/s and completed and goodput requests/s against offered load");

    private ReportMarkdown() {
    }

    /**
     * One line of the table: its name, each run's cell, whether it is left out when no run has it,
     * and whether it is text (left-aligned as a column) rather than a number.
     */
    private record Metric(String name, Function<ServingRun, String> cell, boolean optional, boolean text) {

        Metric(String name, Function<ServingRun, String> cell, boolean optional) {
            this(name, cell, optional, false);
        }
    }

    private static final List<Metric> METRICS = List.of(
            new Metric("workload", r -> r.config().workload().isEmpty() ? ABSENT : r.config().workload(), false, true),
            new Metric("arrival", ReportMarkdown::arrival, false, true),
            new Metric("offered load", r -> OfferedLoad.of(r).describe(), false, true),
            new Metric("completed / failed", r -> r.summary().numCompleted() + " / " + r.summary().numFailed(), false),
            new Metric("req/s", r -> fmt(r.summary().requestThroughput(), 2), false),
            new Metric("output tok/s", r -> fmt(r.summary().outputThroughput(), 1), false),
            new Metric("TTFT p50 (ms)", r -> latency(r, r.summary().ttftMs().median()), false),
            new Metric("TTFT p90 (ms)", r -> latency(r, r.summary().ttftMs().p90()), false),
            new Metric("TTFT p99 (ms)", r -> latency(r, r.summary().ttftMs().p99()), false),
            new Metric("TPOT p50 (ms)", r -> latency(r, r.summary().tpotMs().median()), false),
            new Metric("TPOT p99 (ms)", r -> latency(r, r.summary().tpotMs().p99()), false),
            new Metric("ITL p50 (ms)", r -> latency(r, r.summary().itlMs().median()), false),
            new Metric("ITL p99 (ms)", r -> latency(r, r.summary().itlMs().p99()), false),
            new Metric("E2E p50 (ms)", r -> latency(r, r.summary().e2eMs().median()), false),
            new Metric("E2E p99 (ms)", r -> latency(r, r.summary().e2eMs().p99()), false),
            new Metric("goodput req/s (share)", r -> r.summary().goodput()
                    .map(g -> fmt(g.requestsPerSecond(), 2) + " (" + percent(g.fraction()) + ")").orElse(ABSENT), true),
            new Metric("goodput SLO", r -> r.summary().goodput().map(ReportMarkdown::slo).orElse(ABSENT), true),
            new Metric("fluidity index mean / p50 / p99", r -> r.summary().fluidityIndex().filter(f -> !Double.isNaN(f.mean()))
                    .map(f -> fmt(f.mean(), 3) + " / " + fmt(f.p50(), 3) + " / " + fmt(f.p99(), 3)).orElse(ABSENT), true),
            new Metric("prefix-cache hit rate", r -> percent(r.summary().prefixCacheHitRate()), true),
            new Metric("sender lag max (ms)", r -> r.summary().senderLag().filter(l -> r.config().mode() == ServingRun.Mode.OPEN_LOOP)
                    .map(l -> fmt(l.maxMs(), 1) + (l.fellBehind() ? " ⚠ fell behind" : "")).orElse(ABSENT), true),
            new Metric("errors", ReportMarkdown::errors, false, true));

    /** The whole of report.md for runs already in report order. */
    static String of(List<ServingRun> runs, String command, List<String> figureFiles) {
        StringBuilder md = new StringBuilder();
        md.append("# Serving benchmark: ").append(runs.size() == 1 ? runs.getFirst().label()
                : runs.size() <= MAX_COLUMNS ? runs.stream().map(ServingRun::label).collect(Collectors.joining(" vs "))
                : runs.size() + " runs").append("\n\n");
        md.append("Made by `").append(command).append("` from the `bench-serving --json` files below. ")
                .append("Times in ms over the measured (not warm-up) requests; percentiles as vLLM's `benchmark_serving` computes them.\n\n");
        md.append(table(runs));
        for (ServingRun r : runs) {
            r.summary().senderLag().filter(ServingRun.SenderLag::fellBehind).ifPresent(l -> md.append(String.format(Locale.ROOT,
                    "\n⚠ `%s`: the sender fell behind its arrival schedule (up to %.1f ms late%s), so the load it offered was "
                            + "below the configured rate; the client, not the server, may be the limit.\n", r.label(), l.maxMs(),
                    Double.isNaN(l.plannedSpanMs()) ? "" : String.format(Locale.ROOT, " in a %.1f ms schedule", l.plannedSpanMs()))));
        }
        String tenants = tenantTable(runs);
        if (!tenants.isEmpty()) {
            md.append("\n## Per tenant\n\n").append(tenants);
        }
        md.append("\n## Runs\n\n");
        for (ServingRun r : runs) {
            ServingRun.Config c = r.config();
            md.append("- `").append(r.label()).append("`: `").append(r.file()).append('`');
            if (!c.model().isEmpty()) {
                md.append(", model `").append(c.model()).append('`');
            }
            ServingRun.Summary s = r.summary();
            if (s.numCompleted() > 0) {
                md.append(String.format(Locale.ROOT, ", mean %.0f prompt → %.0f output tokens", s.numInputTokens() / (double) s.numCompleted(),
                        s.numOutputTokens() / (double) s.numCompleted()));
            } else if (c.inputLen() > 0 || c.outputLen() > 0) {
                md.append(", --input-len ").append(c.inputLen()).append(" --output-len ").append(c.outputLen());
            }
            md.append(", ").append(arrival(r)).append(", ").append(OfferedLoad.of(r).describe());
            md.append(", ").append(fmt(s.durationSeconds(), 1)).append(" s");
            s.prefixCacheHitRateSource().ifPresent(source -> md.append(", hit rate from ").append(source.equals("prometheus")
                    ? "the instances' prefix-cache counters" : source.equals("usage") ? "the responses' cached_tokens" : source));
            if (!c.workloadParams().isEmpty()) {
                md.append(", workload `").append(c.workload()).append("` (")
                        .append(c.workloadParams().entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
                                .collect(Collectors.joining(", ")))
                        .append(')');
            }
            md.append('\n');
        }
        if (!figureFiles.isEmpty()) {
            md.append("\n## Figures\n\n");
            for (String f : figureFiles) {
                md.append("![").append(CAPTIONS.getOrDefault(f, f)).append("](").append(f).append(")\n\n");
            }
        }
        return md.toString();
    }

    /** The figures table: a column per run up to {@link #MAX_COLUMNS} runs, else a row per run. */
    static String table(List<ServingRun> runs) {
        List<Metric> metrics = METRICS.stream()
                .filter(m -> !m.optional() || runs.stream().anyMatch(r -> !m.cell().apply(r).equals(ABSENT)))
                .toList();
        StringBuilder md = new StringBuilder();
        if (runs.size() <= MAX_COLUMNS) {
            md.append("| |");
            runs.forEach(r -> md.append(' ').append(escape(r.label())).append(" |"));
            md.append("\n|---|");
            runs.forEach(r -> md.append("---:|"));
            md.append('\n');
            for (Metric m : metrics) {
                md.append("| ").append(m.name()).append(" |");
                runs.forEach(r -> md.append(' ').append(escape(m.cell().apply(r))).append(" |"));
                md.append('\n');
            }
        } else {
            md.append("| run |");
            metrics.forEach(m -> md.append(' ').append(m.name()).append(" |"));
            md.append("\n|---|");
            metrics.forEach(m -> md.append(m.text() ? "---|" : "---:|"));
            md.append('\n');
            for (ServingRun r : runs) {
                md.append("| ").append(escape(r.label())).append(" |");
                metrics.forEach(m -> md.append(' ').append(escape(m.cell().apply(r))).append(" |"));
                md.append('\n');
            }
        }
        return md.toString();
    }

    /** A row per run and tenant; empty when no run has tenants. */
    static String tenantTable(List<ServingRun> runs) {
        if (runs.stream().allMatch(r -> r.summary().tenants().isEmpty())) {
            return "";
        }
        StringBuilder md = new StringBuilder();
        md.append("| run | tenant | completed / failed | TTFT p50 (ms) | TTFT p99 (ms) | TPOT p50 (ms) | prefix-cache hit rate |\n");
        md.append("|---|---|---:|---:|---:|---:|---:|\n");
        for (ServingRun r : runs) {
            for (Map.Entry<String, ServingRun.Tenant> e : r.summary().tenants().entrySet()) {
                ServingRun.Tenant t = e.getValue();
                boolean none = t.numCompleted() == 0;
                md.append("| ").append(escape(r.label())).append(" | ").append(escape(e.getKey())).append(" | ")
                        .append(t.numCompleted()).append(" / ").append(t.numFailed()).append(" | ")
                        .append(none ? ABSENT : fmt(t.medianTtftMs(), 2)).append(" | ")
                        .append(none ? ABSENT : fmt(t.p99TtftMs(), 2)).append(" | ")
                        .append(none ? ABSENT : fmt(t.medianTpotMs(), 2)).append(" | ")
                        .append(percent(t.prefixCacheHitRate())).append(" |\n");
            }
        }
        return md.toString();
    }

    /** {@code closed loop}; {@code open loop, poisson} (files without {@code arrival}: open loops were Poisson). */
    static String arrival(ServingRun r) {
        return r.config().mode() == ServingRun.Mode.CLOSED_LOOP ? "closed loop"
                : "open loop, " + r.config().arrival().orElse("poisson");
    }

    /** A latency cell: "—" for a run with no completed request (the generator writes zeros then). */
    private static String latency(ServingRun r, double ms) {
        return r.summary().numCompleted() == 0 ? ABSENT : fmt(ms, 2);
    }

    private static String slo(ServingRun.Goodput g) {
        List<String> parts = new ArrayList<>(2);
        if (!Double.isNaN(g.sloTtftMs())) {
            parts.add("TTFT ≤ " + plain(g.sloTtftMs()) + " ms");
        }
        if (!Double.isNaN(g.sloTpotMs())) {
            parts.add("TPOT ≤ " + plain(g.sloTpotMs()) + " ms");
        }
        return parts.isEmpty() ? "none (every completed request)" : String.join(", ", parts);
    }

    private static String errors(ServingRun r) {
        Map<String, Integer> errors = r.summary().errors();
        if (errors.isEmpty()) {
            return r.summary().numFailed() == 0 ? "none" : ABSENT;
        }
        return errors.entrySet().stream().map(e -> e.getKey() + " " + e.getValue()).collect(Collectors.joining(", "));
    }

    static String fmt(double v, int decimals) {
        return Double.isNaN(v) ? ABSENT : String.format(Locale.ROOT, "%." + decimals + "f", v);
    }

    /** {@code 200} for 200.0, {@code 2.5} for 2.5. */
    static String plain(double v) {
        return v == Math.rint(v) && !Double.isInfinite(v) ? Long.toString((long) v) : Double.toString(v);
    }

    static String percent(double fraction) {
        return Double.isNaN(fraction) ? ABSENT : String.format(Locale.ROOT, "%.1f%%", 100 * fraction);
    }

    private static String escape(String cell) {
        return cell.replace("|", "\\|");
    }
}
