package io.kvserve.cli.benchserving;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The figures of one run, computed from its measured requests as vLLM's {@code benchmark_serving}
 * computes them: throughputs over the measured phase's duration, token counts of the successful
 * requests, TTFT/TPOT/E2E one value per successful request, ITL one value per gap between text chunks
 * of all successful requests pooled. All times in milliseconds.
 */
record BenchReport(int numSucceeded, int numFailed, double durationSeconds, long numInputTokens, long numOutputTokens,
                   double requestThroughput, double outputThroughput, double totalTokenThroughput,
                   Percentiles ttftMs, Percentiles tpotMs, Percentiles itlMs, Percentiles e2eMs,
                   Map<String, Integer> errors, ServiceLevels.Goodput goodput, ServiceLevels.Fluidity fluidity,
                   Map<String, ServiceLevels.TenantFigures> tenants) {

    static BenchReport of(List<RequestRecord> records, double durationSeconds) {
        return of(records, durationSeconds, Double.NaN, Double.NaN);
    }

    /** With goodput and fluidity-index against these targets (NaN: none). */
    static BenchReport of(List<RequestRecord> records, double durationSeconds, double sloTtftMs, double sloTpotMs) {
        int numSucceeded = 0;
        long numInput = 0;
        long numOutput = 0;
        List<Double> ttft = new ArrayList<>();
        List<Double> tpot = new ArrayList<>();
        List<Double> itl = new ArrayList<>();
        List<Double> e2e = new ArrayList<>();
        Map<String, Integer> errors = new TreeMap<>();
        for (RequestRecord r : records) {
            if (!r.succeeded()) {
                errors.merge(r.error().key(), 1, Integer::sum);
                continue;
            }
            numSucceeded++;
            numInput += r.numPromptTokens();
            numOutput += r.numOutputTokens();
            ttft.add(r.ttftMs());
            e2e.add(r.e2eMs());
            if (r.numOutputTokens() > 1) {
                tpot.add(r.tpotMs());
            }
            for (double gap : r.itlMs()) {
                itl.add(gap);
            }
        }
        double seconds = Math.max(durationSeconds, 1e-9);
        return new BenchReport(numSucceeded, records.size() - numSucceeded, durationSeconds, numInput, numOutput,
                numSucceeded / seconds, numOutput / seconds, (numInput + numOutput) / seconds,
                Percentiles.of(array(ttft)), Percentiles.of(array(tpot)), Percentiles.of(array(itl)), Percentiles.of(array(e2e)),
                errors, ServiceLevels.goodput(records, durationSeconds, sloTtftMs, sloTpotMs),
                ServiceLevels.fluidity(records, sloTtftMs, sloTpotMs), ServiceLevels.byTenant(records));
    }

    /** The summary in vLLM's layout. */
    void print(PrintWriter out) {
        out.println("============ Serving Benchmark Result ============");
        row(out, "Successful requests:", Integer.toString(numSucceeded));
        row(out, "Failed requests:", Integer.toString(numFailed));
        row(out, "Benchmark duration (s):", fmt(durationSeconds));
        row(out, "Total input tokens:", Long.toString(numInputTokens));
        row(out, "Total generated tokens:", Long.toString(numOutputTokens));
        row(out, "Request throughput (req/s):", fmt(requestThroughput));
        row(out, "Output token throughput (tok/s):", fmt(outputThroughput));
        row(out, "Total token throughput (tok/s):", fmt(totalTokenThroughput));
        section(out, "Time to First Token", "TTFT", ttftMs);
        section(out, "Time per Output Token (excl. 1st token)", "TPOT", tpotMs);
        section(out, "Inter-token Latency", "ITL", itlMs);
        section(out, "End-to-end Latency", "E2E", e2eMs);
        out.println(center("Service level"));
        row(out, "Goodput (req/s):", fmt(goodput.requestsPerSecond()) + "  (" + fmt(100 * goodput.fraction()) + "% of requests"
                + (Double.isNaN(goodput.sloTtftMs()) && Double.isNaN(goodput.sloTpotMs()) ? ", no SLO given)"
                : " with TTFT <= " + slo(goodput.sloTtftMs()) + " ms, TPOT <= " + slo(goodput.sloTpotMs()) + " ms)"));
        if (!Double.isNaN(fluidity.mean())) {
            row(out, "Fluidity-index mean / p50 / p99:", fmt(fluidity.mean()) + " / " + fmt(fluidity.p50()) + " / " + fmt(fluidity.p99()));
        }
        if (!tenants.isEmpty()) {
            out.println(center("Per tenant"));
            out.printf(Locale.ROOT, "%-14s %6s %6s %10s %10s %10s %8s%n", "tenant", "ok", "failed", "TTFT p50", "TTFT p99", "TPOT p50", "hit");
            tenants.forEach((name, t) -> out.printf(Locale.ROOT, "%-14s %6d %6d %10s %10s %10s %8s%n", name, t.numCompleted(),
                    t.numFailed(), fmt(t.medianTtftMs()), fmt(t.p99TtftMs()), fmt(t.medianTpotMs()),
                    Double.isNaN(t.prefixCacheHitRate()) ? "-" : fmt(100 * t.prefixCacheHitRate()) + "%"));
        }
        out.println(center("Errors"));
        if (errors.isEmpty()) {
            out.println("(none)");
        }
        errors.forEach((type, count) -> row(out, type, Integer.toString(count)));
        out.println("=".repeat(50));
        out.flush();
    }

    private static String slo(double v) {
        return Double.isNaN(v) ? "any" : fmt(v);
    }

    /** The summary as JSON fields (times in ms; names as vLLM's result file has them). */
    void writeTo(ObjectNode json) {
        json.put("completed", numSucceeded);
        json.put("failed", numFailed);
        json.put("duration_s", durationSeconds);
        json.put("total_input_tokens", numInputTokens);
        json.put("total_output_tokens", numOutputTokens);
        json.put("request_throughput", requestThroughput);
        json.put("output_throughput", outputThroughput);
        json.put("total_token_throughput", totalTokenThroughput);
        percentiles(json, "ttft", ttftMs);
        percentiles(json, "tpot", tpotMs);
        percentiles(json, "itl", itlMs);
        percentiles(json, "e2el", e2eMs);
        ObjectNode errorCounts = json.putObject("errors");
        errors.forEach(errorCounts::put);
        ObjectNode good = json.putObject("goodput");
        putMaybe(good, "slo_ttft_ms", goodput.sloTtftMs());
        putMaybe(good, "slo_tpot_ms", goodput.sloTpotMs());
        good.put("requests_per_s", goodput.requestsPerSecond());
        good.put("fraction", goodput.fraction());
        ObjectNode fluid = json.putObject("fluidity_index");
        putMaybe(fluid, "mean", fluidity.mean());
        putMaybe(fluid, "p50", fluidity.p50());
        putMaybe(fluid, "p99", fluidity.p99());
        ObjectNode perTenant = json.putObject("tenants");
        tenants.forEach((name, t) -> {
            ObjectNode o = perTenant.putObject(name);
            o.put("completed", t.numCompleted());
            o.put("failed", t.numFailed());
            putMaybe(o, "median_ttft_ms", t.medianTtftMs());
            putMaybe(o, "p99_ttft_ms", t.p99TtftMs());
            putMaybe(o, "median_tpot_ms", t.medianTpotMs());
            putMaybe(o, "prefix_cache_hit_rate", t.prefixCacheHitRate());
        });
    }

    static void writeRecord(ArrayNode array, RequestRecord r) {
        ObjectNode o = array.addObject();
        o.put("index", r.index());
        o.put("warmup", r.warmup());
        o.put("send_ms", r.sendMs());
        putMaybe(o, "ttft_ms", r.ttftMs());
        ArrayNode itl = o.putArray("itl_ms");
        for (double gap : r.itlMs()) {
            itl.add(gap);
        }
        putMaybe(o, "tpot_ms", r.tpotMs());
        o.put("e2e_ms", r.e2eMs());
        o.put("prompt_tokens", r.numPromptTokens());
        o.put("output_tokens", r.numOutputTokens());
        o.put("usage_reported", r.usageReported());
        if (r.tenant() == null) {
            o.putNull("tenant");
        } else {
            o.put("tenant", r.tenant());
        }
        if (r.numCachedTokens() < 0) {
            o.putNull("cached_tokens");
        } else {
            o.put("cached_tokens", r.numCachedTokens());
        }
        if (r.error() == null) {
            o.putNull("error");
        } else {
            ObjectNode e = o.putObject("error");
            e.put("key", r.error().key());
            e.put("kind", r.error().kind());
            e.put("status", r.error().status());
            e.put("type", r.error().type());
            e.put("message", r.error().message());
        }
    }

    static void putMaybe(ObjectNode o, String name, double value) {
        if (Double.isNaN(value)) {
            o.putNull(name);
        } else {
            o.put(name, value);
        }
    }

    private static void percentiles(ObjectNode json, String name, Percentiles p) {
        json.put("mean_" + name + "_ms", p.mean());
        json.put("median_" + name + "_ms", p.median());
        json.put("std_" + name + "_ms", p.std());
        json.put("p90_" + name + "_ms", p.p90());
        json.put("p99_" + name + "_ms", p.p99());
        json.put("min_" + name + "_ms", p.min());
        json.put("max_" + name + "_ms", p.max());
    }

    private static void section(PrintWriter out, String title, String name, Percentiles p) {
        out.println(center(title));
        row(out, "Mean " + name + " (ms):", fmt(p.mean()));
        row(out, "Median " + name + " (ms):", fmt(p.median()));
        row(out, "P90 " + name + " (ms):", fmt(p.p90()));
        row(out, "P99 " + name + " (ms):", fmt(p.p99()));
    }

    private static String center(String title) {
        String padded = " " + title + " ";
        int left = Math.max(0, (50 - padded.length()) / 2);
        return "-".repeat(left) + padded + "-".repeat(Math.max(0, 50 - left - padded.length()));
    }

    private static void row(PrintWriter out, String label, String value) {
        out.printf(Locale.ROOT, "%-40s %s%n", label, value);
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%.2f", v);
    }

    private static double[] array(List<Double> values) {
        double[] a = new double[values.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = values.get(i);
        }
        return a;
    }
}
