package io.kvserve.cli.benchserving.report;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Reads a {@code bench-serving --json} file into a {@link ServingRun}. Only {@code summary} and
 * {@code requests} are required; every other field is optional, so that files from older
 * generators (without goodput, tenants, fluidity, cached tokens) still read. {@code config.request_rate}
 * is accepted as a number or as text ({@code "10.0"}, {@code "inf"}), which is how the generator writes it.
 */
public final class ServingRunReader {

    private static final JsonMapper MAPPER = JsonMapper.builder().build();

    private ServingRunReader() {
    }

    /** @throws IOException when the file cannot be read, is not JSON, or lacks {@code summary} or {@code requests} */
    public static ServingRun read(Path file) throws IOException {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new IOException(file + ": no such file", e);
        }
        JsonNode root;
        try {
            root = MAPPER.readTree(text);
        } catch (JacksonException e) {
            throw new IOException(file + ": not a bench-serving result file (not JSON: " + e.getOriginalMessage() + ")");
        }
        if (root == null || !root.isObject()) {
            throw new IOException(file + ": not a bench-serving result file (not a JSON object)");
        }
        JsonNode summary = root.get("summary");
        if (summary == null || !summary.isObject()) {
            throw new IOException(file + ": not a bench-serving result file (no \"summary\" object; write one with bench-serving --json)");
        }
        JsonNode requests = root.get("requests");
        if (requests == null || !requests.isArray()) {
            throw new IOException(file + ": not a bench-serving result file (no \"requests\" array; write one with bench-serving --json)");
        }
        List<ServingRun.Request> records = new ArrayList<>(requests.size());
        for (JsonNode r : requests) {
            records.add(request(r));
        }
        return new ServingRun(labelOf(file), file, config(root.path("config")), summary(summary), records);
    }

    /** The file name without {@code .json}. */
    static String labelOf(Path file) {
        String name = file.getFileName().toString();
        return name.toLowerCase(Locale.ROOT).endsWith(".json") ? name.substring(0, name.length() - 5) : name;
    }

    private static ServingRun.Config config(JsonNode c) {
        String mode = text(c, "mode").orElse("closed_loop");
        ServingRun.Mode m = mode.equals("open_loop") ? ServingRun.Mode.OPEN_LOOP : ServingRun.Mode.CLOSED_LOOP;
        Map<String, String> params = new LinkedHashMap<>();
        JsonNode p = c.path("workload_params");
        if (p.isObject()) {
            p.properties().forEach(e -> params.put(e.getKey(), e.getValue().isValueNode() ? e.getValue().asString() : e.getValue().toString()));
        }
        return new ServingRun.Config(text(c, "model").orElse(""), m, integer(c, "concurrency", 0), rate(c.path("request_rate")),
                integer(c, "max_concurrency", 0), text(c, "workload").orElse(""), params, text(c, "arrival"), integer(c, "burst_size", 0),
                integer(c, "input_len", 0), integer(c, "output_len", 0), integer(c, "num_requests", -1));
    }

    private static ServingRun.Summary summary(JsonNode s) {
        Map<String, Integer> errors = new LinkedHashMap<>();
        s.path("errors").properties().forEach(e -> errors.put(e.getKey(), e.getValue().asInt(0)));
        Optional<ServingRun.Goodput> goodput = object(s, "goodput").map(g -> new ServingRun.Goodput(
                number(g, "slo_ttft_ms"), number(g, "slo_tpot_ms"), number(g, "requests_per_s"), number(g, "fraction")));
        Optional<ServingRun.Fluidity> fluidity = object(s, "fluidity_index").map(f -> new ServingRun.Fluidity(
                number(f, "mean"), number(f, "p50"), number(f, "p99")));
        Map<String, ServingRun.Tenant> tenants = new LinkedHashMap<>();
        s.path("tenants").properties().forEach(e -> {
            JsonNode t = e.getValue();
            tenants.put(e.getKey(), new ServingRun.Tenant(integer(t, "completed", 0), integer(t, "failed", 0),
                    number(t, "median_ttft_ms"), number(t, "p99_ttft_ms"), number(t, "median_tpot_ms"),
                    number(t, "prefix_cache_hit_rate")));
        });
        Optional<ServingRun.SenderLag> lag = object(s, "sender_lag").map(l -> new ServingRun.SenderLag(
                number(l, "max_ms"), number(l, "planned_span_ms"), l.path("fell_behind").asBoolean(false)));
        return new ServingRun.Summary(integer(s, "completed", 0), integer(s, "failed", 0), number(s, "duration_s"),
                s.path("total_input_tokens").asLong(0), s.path("total_output_tokens").asLong(0),
                number(s, "request_throughput"), number(s, "output_throughput"), number(s, "total_token_throughput"),
                latency(s, "ttft"), latency(s, "tpot"), latency(s, "itl"), latency(s, "e2el"),
                errors, goodput, fluidity, number(s, "prefix_cache_hit_rate"), text(s, "prefix_cache_hit_rate_source"), tenants, lag);
    }

    private static ServingRun.Latency latency(JsonNode s, String name) {
        return new ServingRun.Latency(number(s, "mean_" + name + "_ms"), number(s, "median_" + name + "_ms"),
                number(s, "std_" + name + "_ms"), number(s, "p90_" + name + "_ms"), number(s, "p99_" + name + "_ms"),
                number(s, "min_" + name + "_ms"), number(s, "max_" + name + "_ms"));
    }

    private static ServingRun.Request request(JsonNode r) {
        JsonNode error = r.path("error");
        Optional<String> errorKey = error.isObject() ? Optional.of(text(error, "key").orElse(text(error, "kind").orElse("error")))
                : error.isString() ? Optional.of(error.asString()) : Optional.empty();
        return new ServingRun.Request(integer(r, "index", -1), r.path("warmup").asBoolean(false), number(r, "send_ms"),
                number(r, "ttft_ms"), number(r, "tpot_ms"), number(r, "e2e_ms"), integer(r, "prompt_tokens", 0),
                integer(r, "output_tokens", 0), errorKey, text(r, "tenant"), integer(r, "cached_tokens", -1));
    }

    /** A number or numeric text ({@code "inf"} included); NaN when absent, null or not a number. */
    private static double number(JsonNode node, String field) {
        return rate(node.path(field));
    }

    private static double rate(JsonNode v) {
        if (v.isNumber()) {
            return v.asDouble();
        }
        if (v.isString()) {
            String t = v.asString().trim().toLowerCase(Locale.ROOT);
            if (t.equals("inf") || t.equals("infinity")) {
                return Double.POSITIVE_INFINITY;
            }
            try {
                return Double.parseDouble(t);
            } catch (NumberFormatException e) {
                return Double.NaN;
            }
        }
        return Double.NaN;
    }

    private static int integer(JsonNode node, String field, int absent) {
        JsonNode v = node.path(field);
        return v.isNumber() ? v.asInt() : absent;
    }

    private static Optional<String> text(JsonNode node, String field) {
        JsonNode v = node.path(field);
        return v.isString() ? Optional.of(v.asString()) : Optional.empty();
    }

    private static Optional<JsonNode> object(JsonNode node, String field) {
        JsonNode v = node.path(field);
        return v.isObject() ? Optional.of(v) : Optional.empty();
    }
}
