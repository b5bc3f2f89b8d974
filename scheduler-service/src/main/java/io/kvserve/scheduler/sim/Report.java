package io.kvserve.scheduler.sim;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.BitmapEncoder.BitmapFormat;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** The simulator's output: a Markdown table, the same figures as JSON, and two PNG plots. */
public final class Report {

    private Report() {
    }

    public static String markdown(SimulationOptions options, List<RunResult> results, String[] args) {
        StringBuilder md = new StringBuilder();
        md.append("# Placement policies, simulated\n\n");
        md.append(String.format(Locale.ROOT, "Workload `%s`, %d tenants (skew %.2f), %s arrivals at %.3g requests/s per instance, "
                        + "%.0f s, seed %d, heartbeat %s. Instance: %d KV blocks of %d tokens, token budget %d, "
                        + "max %d sequences, step = %.5f s + %.6f s x prefill tokens + %.6f s x decoding sequences%s.%n%n",
                options.workload(), options.numTenants(), options.tenantSkew(), options.arrivalSpec(),
                options.effectiveRatePerInstance(), options.durationSeconds(), options.seed(),
                options.heartbeatSeconds() == 0 ? "live" : options.heartbeatSeconds() + " s",
                options.instance().numKvBlocks(), SimRequest.BLOCK_SIZE, options.instance().maxNumBatchedTokens(),
                options.instance().maxNumSeqs(), options.instance().cost().stepSeconds(),
                options.instance().cost().prefillSecondsPerToken(), options.instance().cost().decodeSecondsPerSeq(),
                options.instance().cost().equals(CostModel.SMOLLM2_135M_Q8_0_2_CORES)
                        ? " (smollm2-135m Q8_0 on 2 cores, see CostModel)" : " (--cost)"));
        if (args != null) {
            md.append("Command: `Simulator ").append(String.join(" ", args)).append("`\n\n");
        }
        md.append("| instances | policy | hit rate | predicted hit | TTFT p50 s | TTFT p99 s | throughput tok/s "
                + "| utilization | imbalance | requests | rejected | worst tenant TTFT p99 s |\n");
        md.append("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (RunResult r : results) {
            double worst = r.tenants().stream().mapToDouble(RunResult.TenantResult::ttftP99Seconds).max().orElse(Double.NaN);
            md.append(String.format(Locale.ROOT, "| %d | %s | %.3f | %.3f | %.3f | %.3f | %.0f | %.2f | %.2f | %d | %d | %.3f |%n",
                    r.numInstances(), r.policy().equals("oracle") ? "**oracle** (1 pooled, unbounded cache)" : r.policy(),
                    r.hitRate(), r.predictedHitRate(), r.ttftP50Seconds(), r.ttftP99Seconds(),
                    r.throughputTokensPerSecond(), r.utilization(), r.loadImbalance(), r.numRequests(), r.numRejected(),
                    worst));
        }
        md.append("\nImbalance: max / mean of per-instance busy time. Utilization: busy time / makespan, mean over "
                + "instances. Hit rate: prompt tokens found in the chosen instance's cache at admission / prompt tokens.\n");
        md.append("\n## Per tenant: share of served tokens / TTFT p99 s\n");
        for (int numInstances : new TreeSet<>(results.stream().map(RunResult::numInstances).toList())) {
            List<RunResult> rows = results.stream().filter(r -> r.numInstances() == numInstances).toList();
            md.append("\n").append(numInstances).append(" instances\n\n| tenant |");
            rows.forEach(r -> md.append(' ').append(r.policy()).append(" |"));
            md.append("\n|---|");
            rows.forEach(r -> md.append("---|"));
            md.append('\n');
            TreeSet<String> tenants = new TreeSet<>();
            rows.forEach(r -> r.tenants().forEach(t -> tenants.add(t.tenantId())));
            for (String tenant : tenants) {
                md.append("| ").append(tenant).append(" |");
                for (RunResult r : rows) {
                    var t = r.tenants().stream().filter(x -> x.tenantId().equals(tenant)).findFirst();
                    md.append(t.map(x -> String.format(Locale.ROOT, " %.3f / %.3f |", x.servedShare(), x.ttftP99Seconds()))
                            .orElse(" - |"));
                }
                md.append('\n');
            }
        }
        return md.toString();
    }

    /** Writes results.md, results.json, hit-rate.png and ttft-p99.png under {@code dir}. */
    public static void write(Path dir, SimulationOptions options, List<RunResult> results, String markdown) throws IOException {
        System.setProperty("java.awt.headless", "true");
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("results.md"), markdown);
        Files.writeString(dir.resolve("results.json"), json(options, results));
        plot(dir.resolve("hit-rate.png"), "Prefix-cache hit rate", "hit rate", false, results, RunResult::hitRate);
        // log axis: one policy's TTFT can be 100x another's (a queue that never drains), and on a
        // linear axis it flattens every other policy against zero
        plot(dir.resolve("ttft-p99.png"), "TTFT p99", "seconds (log scale)", true, results, RunResult::ttftP99Seconds);
    }

    /** On a log axis a value that is not positive and finite (no request finished) is left out of its series. */
    private static void plot(Path file, String title, String yTitle, boolean logY, List<RunResult> results,
                             java.util.function.ToDoubleFunction<RunResult> metric) throws IOException {
        XYChart chart = new XYChartBuilder().width(800).height(500).title(title + " vs instances")
                .xAxisTitle("instances").yAxisTitle(yTitle).build();
        chart.getStyler().setYAxisLogarithmic(logY);
        Map<String, List<RunResult>> byPolicy = new LinkedHashMap<>();
        results.forEach(r -> byPolicy.computeIfAbsent(r.policy(), k -> new ArrayList<>()).add(r));
        byPolicy.forEach((policy, rows) -> {
            List<RunResult> shown = logY ? rows.stream().filter(r -> {
                double v = metric.applyAsDouble(r);
                return Double.isFinite(v) && v > 0;
            }).toList() : rows;
            if (shown.isEmpty()) {
                return;
            }
            double[] x = shown.stream().mapToDouble(RunResult::numInstances).toArray();
            double[] y = shown.stream().mapToDouble(metric).map(v -> Double.isFinite(v) ? v : 0).toArray();
            chart.addSeries(policy, x, y).setMarker(SeriesMarkers.CIRCLE);
        });
        BitmapEncoder.saveBitmap(chart, file.toString(), BitmapFormat.PNG);
    }

    static String json(SimulationOptions options, List<RunResult> results) {
        StringBuilder j = new StringBuilder();
        j.append("{\n  \"workload\": ").append(str(options.workload()))
                .append(",\n  \"numTenants\": ").append(options.numTenants())
                .append(",\n  \"ratePerInstance\": ").append(num(options.effectiveRatePerInstance()))
                .append(",\n  \"arrival\": ").append(str(options.arrivalSpec()))
                .append(",\n  \"durationSeconds\": ").append(num(options.durationSeconds()))
                .append(",\n  \"seed\": ").append(options.seed())
                .append(",\n  \"heartbeatSeconds\": ").append(num(options.heartbeatSeconds()))
                .append(",\n  \"instance\": {\"numKvBlocks\": ").append(options.instance().numKvBlocks())
                .append(", \"maxNumBatchedTokens\": ").append(options.instance().maxNumBatchedTokens())
                .append(", \"maxNumSeqs\": ").append(options.instance().maxNumSeqs())
                .append(", \"cost\": {\"stepSeconds\": ").append(num(options.instance().cost().stepSeconds()))
                .append(", \"prefillSecondsPerToken\": ").append(num(options.instance().cost().prefillSecondsPerToken()))
                .append(", \"decodeSecondsPerSeq\": ").append(num(options.instance().cost().decodeSecondsPerSeq()))
                .append("}},\n  \"results\": [");
        for (int i = 0; i < results.size(); i++) {
            RunResult r = results.get(i);
            j.append(i == 0 ? "\n" : ",\n").append("    {\"policy\": ").append(str(r.policy()))
                    .append(", \"numInstances\": ").append(r.numInstances())
                    .append(", \"numRequests\": ").append(r.numRequests())
                    .append(", \"numRejected\": ").append(r.numRejected())
                    .append(", \"hitRate\": ").append(num(r.hitRate()))
                    .append(", \"predictedHitRate\": ").append(num(r.predictedHitRate()))
                    .append(", \"ttftP50Seconds\": ").append(num(r.ttftP50Seconds()))
                    .append(", \"ttftP99Seconds\": ").append(num(r.ttftP99Seconds()))
                    .append(", \"throughputTokensPerSecond\": ").append(num(r.throughputTokensPerSecond()))
                    .append(", \"utilization\": ").append(num(r.utilization()))
                    .append(", \"loadImbalance\": ").append(num(r.loadImbalance()))
                    .append(", \"makespanSeconds\": ").append(num(r.makespanSeconds()))
                    .append(", \"tenants\": [");
            for (int t = 0; t < r.tenants().size(); t++) {
                RunResult.TenantResult tr = r.tenants().get(t);
                j.append(t == 0 ? "" : ", ").append("{\"tenantId\": ").append(str(tr.tenantId()))
                        .append(", \"numRequests\": ").append(tr.numRequests())
                        .append(", \"servedShare\": ").append(num(tr.servedShare()))
                        .append(", \"hitRate\": ").append(num(tr.hitRate()))
                        .append(", \"ttftP99Seconds\": ").append(num(tr.ttftP99Seconds())).append('}');
            }
            j.append("]}");
        }
        return j.append("\n  ]\n}\n").toString();
    }

    private static String num(double v) {
        return Double.isFinite(v) ? Double.toString(v) : "null";
    }

    private static String str(String s) {
        return '"' + s.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }
}
