package io.kvserve.cli.benchserving;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code kvserve bench-serving}: a load generator for an OpenAI-compatible server (one inference
 * instance or the gateway), in the manner of vLLM's {@code benchmark_serving} and SGLang's
 * {@code bench_serving}: streaming requests in a closed loop (N users) or an open loop (Poisson
 * arrivals), TTFT / TPOT / ITL / E2E percentiles, throughputs, errors by type, and a JSON file with
 * every request. The pieces: a {@link Workload} makes requests from a seed, the {@link LoadRunner}
 * decides when to send them, the {@link OpenAiStreamClient} sends them and times their chunks, and
 * {@link BenchReport} computes the figures.
 */
@Command(name = "bench-serving", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Load an OpenAI-compatible server with streaming requests, closed loop (--concurrency)",
                "or open loop (--request-rate); report TTFT / TPOT / ITL / E2E percentiles, throughput",
                "and errors by type, like vLLM's benchmark_serving."})
public final class BenchServingCommand implements Callable<Integer> {

    enum WorkloadKind { random }

    @Option(names = "--url", defaultValue = "http://localhost:8000", description = "The server, without /v1 (default ${DEFAULT-VALUE}).")
    String url;

    @Option(names = "--api", defaultValue = "chat", description = "chat (/v1/chat/completions) or completions (/v1/completions) (default ${DEFAULT-VALUE}).")
    OpenAiStreamClient.Api api;

    @Option(names = "--model", description = "The model name to send (default: the first id of GET /v1/models).")
    String model;

    @Option(names = "--api-key", description = "Sent as Authorization: Bearer (default: $OPENAI_API_KEY if set, else none).")
    String apiKey;

    @Option(names = {"-c", "--concurrency"}, description = "Closed loop: N users, each sending its next request when its previous one ends (default 1 when --request-rate is not given).")
    Integer concurrency;

    @Option(names = {"-n", "--num-requests"}, description = "Measured requests (default: 4 x concurrency, or 4 x --max-concurrency, else 1000, in open loop; unlimited with --duration).")
    Integer numRequests;

    @Option(names = "--duration", converter = DurationConverter.class, description = "Stop sending after this long (60s, 5m, 500ms); requests in flight finish.")
    Duration duration;

    @Option(names = "--warmup", description = "Warm-up requests before the measured ones, excluded from the statistics (default: the concurrency; 0 in open loop without --max-concurrency).")
    Integer numWarmup;

    @Option(names = "--request-rate", converter = RateConverter.class, description = "Open loop: requests per second with Poisson arrivals from --seed; inf sends all at once. Exclusive with --concurrency.")
    Double requestRate;

    @Option(names = "--max-concurrency", description = "Open loop: most requests in flight; a request whose time has come waits for a slot (default: no limit).")
    Integer maxConcurrency;

    @Option(names = "--workload", defaultValue = "random", description = "random: fresh prompts, no prefix reuse (the control) (default ${DEFAULT-VALUE}).")
    WorkloadKind workload;

    @Option(names = "--input-len", defaultValue = "1024", description = "Prompt length in tokens, approximately for text (default ${DEFAULT-VALUE}).")
    int inputLen;

    @Option(names = "--output-len", defaultValue = "128", description = "max_tokens; with ignore_eos every request generates exactly this many (default ${DEFAULT-VALUE}).")
    int outputLen;

    @Option(names = "--prompt-ids", description = "With --api completions: send random token ids instead of text, exactly --input-len of them.")
    boolean promptIds;

    @Option(names = "--vocab-size", defaultValue = "1024", description = "With --prompt-ids: ids are drawn from the middle 80%% of 0..N-1 (default ${DEFAULT-VALUE}).")
    int vocabSize;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the prompts and arrival times (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--temperature", defaultValue = "0", description = "Sampling temperature (default ${DEFAULT-VALUE}: greedy).")
    double temperature;

    @Option(names = "--ignore-eos", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Send ignore_eos (a vLLM extension) so that each request generates --output-len tokens (default ${DEFAULT-VALUE}).")
    boolean ignoreEos;

    @Option(names = "--timeout", defaultValue = "300s", converter = DurationConverter.class, description = "The most one request may take (default ${DEFAULT-VALUE}).")
    Duration timeout;

    @Option(names = "--json", description = "Also write the configuration, the figures and every request's record to this file.")
    Path jsonFile;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException, InterruptedException {
        LoadRunner.Plan plan = plan();
        check(inputLen >= 1, "--input-len " + inputLen + " must be >= 1");
        check(outputLen >= 1, "--output-len " + outputLen + " must be >= 1");
        check(!promptIds || api == OpenAiStreamClient.Api.completions, "--prompt-ids needs --api completions (chat messages are text)");
        check(!timeout.isNegative() && !timeout.isZero(), "--timeout " + timeout + " must be > 0");
        URI baseUrl = baseUrl(url);
        String key = apiKey != null ? apiKey : blankToNull(System.getenv("OPENAI_API_KEY"));
        String modelName = model != null ? model : OpenAiStreamClient.firstModel(baseUrl, key, Duration.ofSeconds(30));
        Workload requests = new RandomWorkload(seed, inputLen, outputLen, promptIds, vocabSize);
        OpenAiStreamClient.Settings settings = new OpenAiStreamClient.Settings(baseUrl, api, modelName, key, temperature, ignoreEos, timeout);

        PrintWriter out = spec.commandLine().getOut();
        out.println(describe(plan, settings, requests));
        out.flush();
        LoadRunner.Result result;
        try (OpenAiStreamClient client = new OpenAiStreamClient(settings)) {
            result = new LoadRunner(requests, client::send).run(plan);
        }
        BenchReport report = BenchReport.of(result.measured(), result.durationSeconds());
        report.print(out);
        if (jsonFile != null) {
            writeJson(plan, settings, requests, result, report);
            out.println("wrote " + jsonFile);
            out.flush();
        }
        return 0;
    }

    /** The load's shape from the options, with the defaults filled in. */
    LoadRunner.Plan plan() {
        check(!(concurrency != null && requestRate != null), "--concurrency and --request-rate exclude each other "
                + "(closed loop or open loop); for an open loop with a cap use --request-rate R --max-concurrency N");
        check(maxConcurrency == null || requestRate != null, "--max-concurrency applies to the open loop only (with --request-rate); "
                + "a closed loop is capped by --concurrency");
        check(numRequests == null || numRequests >= 1, "--num-requests " + numRequests + " must be >= 1");
        check(duration == null || (!duration.isNegative() && !duration.isZero()), "--duration " + duration + " must be > 0");
        check(numWarmup == null || numWarmup >= 0, "--warmup " + numWarmup + " must be >= 0");
        if (requestRate == null) {
            int users = concurrency == null ? 1 : concurrency;
            check(users >= 1, "--concurrency " + users + " must be >= 1");
            int n = numRequests != null ? numRequests : duration != null ? -1 : 4 * users;
            return new LoadRunner.Plan(users, 0, 0, n, duration, numWarmup != null ? numWarmup : users, seed);
        }
        check(requestRate > 0, "--request-rate " + requestRate + " must be > 0 (or inf)");
        int cap = maxConcurrency == null ? 0 : maxConcurrency;
        check(maxConcurrency == null || cap >= 1, "--max-concurrency " + cap + " must be >= 1");
        int n = numRequests != null ? numRequests : duration != null ? -1 : cap > 0 ? 4 * cap : 1000;
        return new LoadRunner.Plan(0, requestRate, cap, n, duration, numWarmup != null ? numWarmup : cap, seed);
    }

    private String describe(LoadRunner.Plan plan, OpenAiStreamClient.Settings settings, Workload requests) {
        String load = plan.openLoop()
                ? String.format(Locale.ROOT, "open loop at %s req/s%s", rate(plan.requestRate()),
                        plan.maxConcurrency() > 0 ? ", at most " + plan.maxConcurrency() + " in flight" : "")
                : "closed loop, " + plan.concurrency() + " users";
        String count = (plan.numRequests() >= 0 ? plan.numRequests() + " requests" : "requests")
                + (plan.duration() != null ? " for at most " + plan.duration().toMillis() / 1000.0 + " s" : "")
                + " after " + plan.numWarmup() + " warm-up";
        return String.format(Locale.ROOT, "bench-serving: %s at %s, model %s; %s; %s; workload %s, %d -> %d tokens%s",
                settings.api(), settings.baseUrl(), settings.model(), load, count, requests.name(), inputLen, outputLen,
                settings.ignoreEos() ? " (ignore_eos)" : "");
    }

    private void writeJson(LoadRunner.Plan plan, OpenAiStreamClient.Settings settings, Workload requests,
                           LoadRunner.Result result, BenchReport report) throws IOException {
        ObjectNode json = StreamDecoder.mapper().createObjectNode();
        ObjectNode config = json.putObject("config");
        config.put("url", settings.baseUrl().toString());
        config.put("api", settings.api().name());
        config.put("model", settings.model());
        config.put("mode", plan.openLoop() ? "open_loop" : "closed_loop");
        config.put("concurrency", plan.concurrency());
        if (plan.openLoop()) {
            config.put("request_rate", rate(plan.requestRate()));
            config.put("max_concurrency", plan.maxConcurrency());
        }
        config.put("num_requests", plan.numRequests());
        if (plan.duration() == null) {
            config.putNull("duration_s");
        } else {
            config.put("duration_s", plan.duration().toMillis() / 1000.0);
        }
        config.put("num_warmup", plan.numWarmup());
        config.put("workload", requests.name());
        config.put("input_len", inputLen);
        config.put("output_len", outputLen);
        config.put("prompt_ids", promptIds);
        config.put("seed", seed);
        config.put("temperature", settings.temperature());
        config.put("ignore_eos", settings.ignoreEos());
        config.put("timeout_s", settings.timeout().toMillis() / 1000.0);
        report.writeTo(json.putObject("summary"));
        ArrayNode records = json.putArray("requests");
        result.warmup().forEach(r -> BenchReport.writeRecord(records, r));
        result.measured().forEach(r -> BenchReport.writeRecord(records, r));
        Path parent = jsonFile.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Files.writeString(jsonFile, StreamDecoder.mapper().writer().with(SerializationFeature.INDENT_OUTPUT).writeValueAsString(json));
    }

    private static String rate(double r) {
        return Double.isInfinite(r) ? "inf" : Double.toString(r);
    }

    static URI baseUrl(String url) {
        String trimmed = url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
        check(!trimmed.endsWith("/v1"), "--url " + url + ": give the server without /v1 (e.g. http://localhost:8000)");
        try {
            URI uri = URI.create(trimmed + "/");
            check("http".equals(uri.getScheme()) || "https".equals(uri.getScheme()), "--url " + url + " must be http:// or https://");
            return uri;
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--url " + url + " is not a URL: " + e.getMessage());
        }
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s;
    }

    private static void check(boolean condition, String message) {
        if (!condition) {
            throw new IllegalArgumentException(message);
        }
    }

    /** {@code 60s}, {@code 5m}, {@code 1h}, {@code 500ms}, or a bare number of seconds. */
    static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
        private static final Pattern FORMAT = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(ms|s|m|h)?");

        @Override
        public Duration convert(String value) {
            Matcher m = FORMAT.matcher(value.trim());
            if (!m.matches()) {
                throw new CommandLine.TypeConversionException("'" + value + "' is not a duration (60s, 5m, 1h, 500ms)");
            }
            double amount = Double.parseDouble(m.group(1));
            String unit = m.group(2) == null ? "s" : m.group(2);
            double millis = switch (unit) {
                case "ms" -> amount;
                case "m" -> amount * 60_000;
                case "h" -> amount * 3_600_000;
                default -> amount * 1000;
            };
            return Duration.ofNanos(Math.round(millis * 1e6));
        }
    }

    /** A positive number of requests per second, or {@code inf}. */
    static final class RateConverter implements CommandLine.ITypeConverter<Double> {
        @Override
        public Double convert(String value) {
            String v = value.trim().toLowerCase(Locale.ROOT);
            if (v.equals("inf") || v.equals("infinity")) {
                return Double.POSITIVE_INFINITY;
            }
            try {
                return Double.parseDouble(v);
            } catch (NumberFormatException e) {
                throw new CommandLine.TypeConversionException("'" + value + "' is not a request rate (a number of requests per second, or inf)");
            }
        }
    }
}
