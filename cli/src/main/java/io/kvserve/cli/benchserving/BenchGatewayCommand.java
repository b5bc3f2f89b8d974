package io.kvserve.cli.benchserving;

import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code kvserve bench-gateway}: the gateway's load figure. The same streaming requests go, in
 * interleaved closed-loop rounds at one concurrency, through the gateway and straight to the
 * inference instance behind it, so what the gateway adds is visible in the client's TTFT and ITL
 * beside the gateway's own account of it ({@code kvserve_gateway_overhead_seconds}), read from its
 * Prometheus endpoint before and after each gateway round:
 *
 * <pre>
 *   warm-up: gateway, direct             (JIT, connection pools; not measured)
 *   round 1: gateway | direct            scrape /actuator/prometheus around each gateway round;
 *   round 2: gateway | direct            sample the open-stream gauge while it runs
 *   ...
 *   table: per path TTFT / ITL / tokens per second; the gateway's request and chunk overhead from
 *          the buckets observed during its rounds; the peak of open streams; errors by type
 * </pre>
 *
 * By default it brings up its own platform ({@link GatewayBenchStack}) on the given Redis; with
 * {@code --gateway-url} and {@code --instance-url} it measures a running one.
 */
@Command(name = "bench-gateway", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"The gateway's load figure: the same streaming requests through the gateway and directly",
                "against the inference instance, in interleaved closed-loop rounds; client TTFT / ITL per path next",
                "to the gateway's own request and chunk overhead (from its /actuator/prometheus), the peak of open",
                "streams, errors. Brings up a tiny-model platform on --redis-url unless --gateway-url is given.",
                "Exits 1 if any request failed."})
public final class BenchGatewayCommand implements Callable<Integer> {

    /** The two ways a request reaches the instance. */
    enum Route { gateway, direct }

    private static final String OVERHEAD = "kvserve_gateway_overhead_seconds";
    private static final String[] PHASES = {"request", "chunk"};
    private static final double TARGET_SECONDS = 0.002;
    private static final Duration SAMPLE_INTERVAL = Duration.ofMillis(100);

    @Option(names = {"-c", "--concurrency"}, defaultValue = "1000", description = "Streams open at once, closed loop (default ${DEFAULT-VALUE}).")
    int concurrency;

    @Option(names = "--rounds", defaultValue = "2", description = "Measured rounds per route, interleaved gateway, direct, gateway, ... (default ${DEFAULT-VALUE}; at least 2).")
    int numRounds;

    @Option(names = {"-n", "--num-requests"}, description = "Requests per round (default: 2 x concurrency).")
    Integer numRequests;

    @Option(names = "--warmup", description = "Warm-up requests per route before the first round, not measured (default: the concurrency).")
    Integer numWarmup;

    @Option(names = "--api", defaultValue = "completions", description = "completions or chat (default ${DEFAULT-VALUE}).")
    OpenAiStreamClient.Api api;

    @Option(names = "--input-len", defaultValue = "16", description = "Prompt length in words, about as many tokens (default ${DEFAULT-VALUE}).")
    int inputLen;

    @Option(names = "--output-len", defaultValue = "48", description = "max_tokens, generated in full (ignore_eos) (default ${DEFAULT-VALUE}).")
    int outputLen;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the prompts; round r of both routes sends the same ones (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--timeout", defaultValue = "120s", converter = BenchServingCommand.DurationConverter.class,
            description = "The most one request may take (default ${DEFAULT-VALUE}).")
    Duration timeout;

    @Option(names = "--redis-url", defaultValue = "redis://127.0.0.1:6379",
            description = "The Redis the platform it brings up uses; every key and stream it writes is named after a fresh run id (default ${DEFAULT-VALUE}).")
    String redisUrl;

    @Option(names = "--max-num-seqs", defaultValue = "256", description = "Its instance: sequences running at once; the rest of the streams wait in its queue (default ${DEFAULT-VALUE}).")
    int maxNumSeqs;

    @Option(names = "--max-num-batched-tokens", defaultValue = "1024", description = "Its instance: tokens per engine step (default ${DEFAULT-VALUE}).")
    int maxNumBatchedTokens;

    @Option(names = "--engine-threads", defaultValue = "1", description = "Its instance: matmul threads (default ${DEFAULT-VALUE}, leaving the other cores to the client and the gateway).")
    int engineThreads;

    @Option(names = "--gateway-url", description = "Measure a running platform: its gateway, without /v1 (needs --instance-url).")
    String gatewayUrl;

    @Option(names = "--instance-url", description = "With --gateway-url: the inference instance behind it, without /v1, for the direct route.")
    String instanceUrl;

    @Option(names = "--model", description = "With --gateway-url: the model (default: the first of the instance's GET /v1/models).")
    String model;

    @Option(names = "--api-key", description = "With --gateway-url: a key of an unlimited tenant (default: a tenant and key made with the admin API and --operator-token).")
    String apiKey;

    @Option(names = "--operator-token", description = "With --gateway-url and no --api-key: the gateway's operator token (default: $GATEWAY_OPERATOR_TOKEN).")
    String operatorToken;

    @Option(names = "--json", description = "Also write the configuration and the figures to this file.")
    Path jsonFile;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    private final HttpClient control = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    @Override
    public Integer call() throws Exception {
        validate();
        boolean managed = gatewayUrl == null;
        checkFileDescriptors(managed);
        PrintWriter out = spec.commandLine().getOut();
        GatewayBenchStack stack = null;
        try {
            GatewayBenchStack.Endpoints endpoints;
            String runId;
            String token;
            if (managed) {
                stack = GatewayBenchStack.start(redisUrl, new GatewayBenchStack.InstanceShape(maxNumSeqs,
                        maxNumBatchedTokens, engineThreads, Math.max(1024, 2 * concurrency)), concurrency, out);
                endpoints = stack.endpoints();
                runId = stack.run;
                token = stack.operatorToken;
            } else {
                URI instance = BenchServingCommand.baseUrl(instanceUrl);
                endpoints = new GatewayBenchStack.Endpoints(BenchServingCommand.baseUrl(gatewayUrl), instance,
                        model != null ? model : OpenAiStreamClient.firstModel(instance, null, Duration.ofSeconds(30)),
                        null, null);
                runId = UUID.randomUUID().toString().substring(0, 8);
                token = operatorToken != null ? operatorToken : System.getenv("GATEWAY_OPERATOR_TOKEN");
            }
            String key = apiKey != null ? apiKey : createTenantKey(endpoints.gatewayUrl(), token, "bench-" + runId, out);
            awaitPlaceable(endpoints, key);
            Result result = measure(endpoints, key, out);
            result.print(out, this);
            if (jsonFile != null) {
                writeJson(result, endpoints);
                out.println("wrote " + jsonFile);
            }
            out.flush();
            return result.numFailed() > 0 ? 1 : 0;
        } finally {
            if (stack != null) {
                stack.close();
            }
            control.close();
        }
    }

    private void validate() {
        check(concurrency >= 1, "--concurrency " + concurrency + " must be >= 1");
        check(numRounds >= 2, "--rounds " + numRounds + " must be >= 2: one round per route says nothing of the spread between rounds");
        check(numRequests == null || numRequests >= 1, "--num-requests " + numRequests + " must be >= 1");
        check(numWarmup == null || numWarmup >= 0, "--warmup " + numWarmup + " must be >= 0");
        check(inputLen >= 1 && outputLen >= 1, "--input-len and --output-len must be >= 1");
        check((gatewayUrl == null) == (instanceUrl == null), "--gateway-url and --instance-url go together: "
                + "the direct route needs the instance behind the gateway");
        check(gatewayUrl != null || (model == null && apiKey == null && operatorToken == null),
                "--model, --api-key and --operator-token apply to a running platform (--gateway-url); "
                        + "without it the benchmark makes its own");
        check(maxNumSeqs >= 1 && maxNumBatchedTokens >= 1 && engineThreads >= 1,
                "--max-num-seqs, --max-num-batched-tokens and --engine-threads must be >= 1");
    }

    /**
     * Every stream holds a socket at each end of each hop: in this JVM the client's, in the gateway's
     * process (which inherits this limit) its server side and its connection to the instance; plus
     * about a thousand for jars, listeners and Redis.
     */
    private void checkFileDescriptors(boolean managed) {
        if (!(ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.UnixOperatingSystemMXBean os)) {
            return;
        }
        long numNeeded = (managed ? 2L : 1L) * concurrency + 1024;
        long limit = os.getMaxFileDescriptorCount();
        check(limit >= numNeeded, "the open-file limit (ulimit -n) is " + limit + "; --concurrency " + concurrency
                + " needs about " + numNeeded + " per process (" + (managed ? "the gateway's: 2" : "this one's: 1")
                + " socket(s) per stream + 1024): raise it (ulimit -n " + numNeeded + " in this shell; bin/kvserve "
                + "raises the soft limit to the hard one itself, so the hard limit is too low: see "
                + "/etc/security/limits.conf) or lower --concurrency");
    }

    // ---- admin API and readiness

    /** A tenant with no limits and a key for it, through the gateway's admin API ({@link GatewayAdmin}). */
    String createTenantKey(URI gateway, String token, String tenantId, PrintWriter out) throws IOException, InterruptedException {
        return new GatewayAdmin(control, gateway, token).createTenantKey(tenantId, null, "bench-gateway", out);
    }

    private HttpResponse<String> post(URI url, String bearer, String json) throws IOException, InterruptedException {
        return GatewayAdmin.post(control, url, bearer, json);
    }

    /** Until one short request succeeds on each route (the gateway learns the model from the scheduler, which learns the instance from Redis). */
    private void awaitPlaceable(GatewayBenchStack.Endpoints endpoints, String key) throws Exception {
        String body = "{\"model\":\"" + endpoints.model() + "\",\"prompt\":\"hello\",\"max_tokens\":1}";
        AtomicInteger lastStatus = new AtomicInteger();
        StringBuilder lastBody = new StringBuilder();
        for (Route route : Route.values()) {
            URI url = (route == Route.gateway ? endpoints.gatewayUrl() : endpoints.instanceUrl()).resolve("/v1/completions");
            try {
                GatewayBenchStack.await(() -> {
                    HttpResponse<String> r;
                    try {
                        r = post(url, route == Route.gateway ? key : null, body);
                    } catch (IOException e) {
                        lastStatus.set(0);
                        return false;
                    }
                    lastStatus.set(r.statusCode());
                    lastBody.setLength(0);
                    lastBody.append(r.body());
                    return r.statusCode() == 200;
                }, "a request on the " + route + " route succeeds", Duration.ofSeconds(60));
            } catch (IllegalStateException e) {
                throw new IllegalStateException(e.getMessage() + " (last answer " + lastStatus.get() + ": " + lastBody + ")", e);
            }
        }
    }

    // ---- the measurement

    /** One measured round on one route. */
    record Round(int number, Route route, BenchReport report, List<RequestRecord> records, int peakOpenStreams,
                 ListenBacklog peakBacklog) {
    }

    /** The gateway's overhead over its measured rounds, per phase ({@code request}, {@code chunk}). */
    record Overhead(String phase, PrometheusText.Buckets buckets) {
    }

    /**
     * A latency histogram of the platform, observed over the measured gateway rounds (bucket deltas).
     *
     * @param what    what it times, for the table
     * @param service whose {@code /actuator/prometheus} has it
     * @param metric  the histogram's name, without {@code _bucket}
     */
    record Timing(String what, URI service, String metric, Map<String, String> labels) {
    }

    record Result(List<Round> rounds, Map<Route, BenchReport> byRoute, List<Overhead> overheads,
                  Map<Timing, PrometheusText.Buckets> timings, int peakOpenStreams, ListenBacklog peakBacklog,
                  Map<Route, BenchReport> warmups) {

        int numWarmupFailed() {
            return warmups.values().stream().mapToInt(BenchReport::numFailed).sum();
        }

        int numFailed() {
            return numWarmupFailed() + byRoute.values().stream().mapToInt(BenchReport::numFailed).sum();
        }

        void print(PrintWriter out, BenchGatewayCommand c) {
            out.println();
            out.println("round  route     ok      failed  TTFT p50  TTFT p99   ITL p50   ITL p99   out tok/s  peak: open streams | accept backlog / unread conns");
            for (Round r : rounds) {
                row(out, Integer.toString(r.number()), r.route(), r.report(),
                        r.route() == Route.gateway ? peaks(r.peakOpenStreams(), r.peakBacklog()) : "");
            }
            for (Route route : Route.values()) {
                row(out, "all", route, byRoute.get(route), route == Route.gateway ? peaks(peakOpenStreams, peakBacklog) : "");
            }
            BenchReport g = byRoute.get(Route.gateway);
            BenchReport d = byRoute.get(Route.direct);
            out.printf(Locale.ROOT, "%-6s %-25s %+9.2f %+9.2f %+9.3f %+9.3f%n", "", "gateway - direct (ms)",
                    g.ttftMs().median() - d.ttftMs().median(), g.ttftMs().p99() - d.ttftMs().p99(),
                    g.itlMs().median() - d.itlMs().median(), g.itlMs().p99() - d.itlMs().p99());
            out.println("(times in ms; TTFT and ITL as bench-serving computes them: ITL pools the gaps between text chunks)");
            out.println();
            out.println("The gateway's own time (" + OVERHEAD + ": its /actuator/prometheus buckets, after minus before");
            out.println("each measured gateway round, summed; quantiles interpolated inside a bucket as histogram_quantile");
            out.println("does, '+' when the rank is past the last bound, 250 ms):");
            out.println("phase     observations   p50 ms    p99 ms   <=1 ms   <=2 ms");
            for (Overhead o : overheads) {
                PrometheusText.Buckets b = o.buckets();
                out.printf(Locale.ROOT, "%-9s %12.0f %8.3f %8s%s %7.2f%% %7.2f%%%n", o.phase(), b.count(),
                        b.quantile(0.5) * 1e3, String.format(Locale.ROOT, "%.3f", b.quantile(0.99) * 1e3),
                        b.beyondLastBound(0.99) ? "+" : " ", share(b, 0.001), share(b, 0.002));
            }
            if (!timings.isEmpty()) {
                out.println("Where the gateway route's time goes (the same way, over the measured gateway rounds):");
                out.println("what                                                          count   p50 ms    p99 ms");
                timings.forEach((t, b) -> out.printf(Locale.ROOT, "%-58s %9.0f %8.3f %9s%n", t.what(), b.count(),
                        b.quantile(0.5) * 1e3, String.format(Locale.ROOT, "%.3f", b.quantile(0.99) * 1e3)
                                + (b.beyondLastBound(0.99) ? "+" : "")));
            }
            out.printf(Locale.ROOT, "Peak of open streams through the gateway (kvserve_gateway_open_streams, sampled every %d ms): %d%n",
                    SAMPLE_INTERVAL.toMillis(), peakOpenStreams);
            if (peakBacklog.acceptBacklog() >= 0) {
                out.printf(Locale.ROOT, "Peak of connections waiting in the kernel for the gateway (/proc/net/tcp*, sampled every %d ms): "
                                + "%d not accepted yet, %d accepted with bytes unread%n",
                        SAMPLE_INTERVAL.toMillis() * OpenStreamsSampler.BACKLOG_EVERY, peakBacklog.acceptBacklog(),
                        peakBacklog.numUnreadConnections());
            }
            out.println("Errors:" + (numFailed() == 0 ? " none" : ""));
            for (Route route : Route.values()) {
                byRoute.get(route).errors().forEach((type, n) -> out.printf(Locale.ROOT, "  %-8s %-50s %d%n", route, type, n));
            }
            warmups.forEach((route, report) -> report.errors().forEach((type, n) ->
                    out.printf(Locale.ROOT, "  %-8s %-50s %d (warm-up)%n", route, type, n)));
            out.println("Machine at the end: " + machine());
            out.println(verdict(c.concurrency));
            out.flush();
        }

        String verdict(int concurrency) {
            List<String> missed = new ArrayList<>();
            for (Overhead o : overheads) {
                double p99 = o.buckets().quantile(0.99);
                if (!(o.buckets().shareAtOrBelow(TARGET_SECONDS) >= 0.99)) {
                    missed.add(String.format(Locale.ROOT, "%s p99 %.2f ms", o.phase(), p99 * 1e3));
                }
            }
            if (numFailed() > 0) {
                missed.add(numFailed() + " failed requests");
            }
            return "Target (gateway overhead p99 < 2 ms per request and per chunk at " + concurrency
                    + " streams, no errors): " + (missed.isEmpty() ? "met" : "NOT met (" + String.join(", ", missed) + ")");
        }

        private static String peaks(int openStreams, ListenBacklog backlog) {
            return openStreams + " | " + backlog;
        }

        private static double share(PrometheusText.Buckets b, double seconds) {
            return b.shareAtOrBelow(seconds) * 100;
        }

        private static void row(PrintWriter out, String round, Route route, BenchReport r, String peak) {
            out.printf(Locale.ROOT, "%-6s %-9s %-7d %-7d %9.2f %9.2f %9.3f %9.3f %11.1f  %s%n", round, route,
                    r.numSucceeded(), r.numFailed(), r.ttftMs().median(), r.ttftMs().p99(), r.itlMs().median(),
                    r.itlMs().p99(), r.outputThroughput(), peak);
        }
    }

    private Result measure(GatewayBenchStack.Endpoints endpoints, String key, PrintWriter out) throws Exception {
        int perRound = numRequests != null ? numRequests : 2 * concurrency;
        int warmup = numWarmup != null ? numWarmup : concurrency;
        out.println("bench-gateway: " + machine());
        out.printf(Locale.ROOT, "bench-gateway: %s, model %s; closed loop, %d streams; %d rounds per route, interleaved "
                        + "(gateway, direct, ...), %d requests each, after %d warm-up per route; %d -> %d tokens (ignore_eos)%n",
                api, endpoints.model(), concurrency, numRounds, perRound, warmup, inputLen, outputLen);
        out.flush();
        Map<Route, BenchReport> warmups = new EnumMap<>(Route.class);
        for (Route route : Route.values()) {
            if (warmup > 0) {
                warmups.put(route, BenchReport.of(runRound(endpoints, key, route, seed - 1, warmup), 1));
            }
        }
        List<Round> rounds = new ArrayList<>();
        Map<Route, List<RequestRecord>> recordsByRoute = new EnumMap<>(Route.class);
        Map<Route, Double> secondsByRoute = new EnumMap<>(Route.class);
        Map<String, PrometheusText.Buckets> overheadBuckets = new LinkedHashMap<>();
        int peak = 0;
        ListenBacklog peakBacklog = ListenBacklog.UNKNOWN;
        List<Timing> timings = timings(endpoints);
        Map<Timing, PrometheusText.Buckets> timingBuckets = new LinkedHashMap<>();
        for (int round = 1; round <= numRounds; round++) {
            for (Route route : Route.values()) {
                PrometheusText before = route == Route.gateway ? scrape(endpoints.gatewayUrl()) : null;
                Map<URI, PrometheusText> servicesBefore = route == Route.gateway ? scrapeAll(timings) : Map.of();
                OpenStreamsSampler sampler = route == Route.gateway ? OpenStreamsSampler.start(control, endpoints.gatewayUrl()) : null;
                long startNanos = System.nanoTime();
                List<RequestRecord> records;
                try {
                    records = runRound(endpoints, key, route, seed + round, perRound);
                } finally {
                    if (sampler != null) {
                        sampler.stop();
                    }
                }
                double seconds = (System.nanoTime() - startNanos) / 1e9;
                int roundPeak = 0;
                ListenBacklog roundBacklog = ListenBacklog.UNKNOWN;
                if (route == Route.gateway) {
                    PrometheusText after = scrape(endpoints.gatewayUrl());
                    for (String phase : PHASES) {
                        PrometheusText.Buckets delta = after.buckets(OVERHEAD, Map.of("phase", phase))
                                .minus(before.buckets(OVERHEAD, Map.of("phase", phase)));
                        overheadBuckets.merge(phase, delta, PrometheusText.Buckets::plus);
                    }
                    Map<URI, PrometheusText> servicesAfter = scrapeAll(timings);
                    for (Timing t : timings) {
                        timingBuckets.merge(t, servicesAfter.get(t.service()).buckets(t.metric(), t.labels())
                                .minus(servicesBefore.get(t.service()).buckets(t.metric(), t.labels())), PrometheusText.Buckets::plus);
                    }
                    roundPeak = sampler.peak();
                    peak = Math.max(peak, roundPeak);
                    roundBacklog = sampler.peakBacklog();
                    peakBacklog = peakBacklog.max(roundBacklog);
                }
                BenchReport report = BenchReport.of(records, seconds);
                rounds.add(new Round(round, route, report, records, roundPeak, roundBacklog));
                recordsByRoute.computeIfAbsent(route, r -> new ArrayList<>()).addAll(records);
                secondsByRoute.merge(route, seconds, Double::sum);
                out.printf(Locale.ROOT, "bench-gateway: round %d %-7s %d ok, %d failed in %.1f s%n", round, route,
                        report.numSucceeded(), report.numFailed(), seconds);
                out.flush();
            }
        }
        Map<Route, BenchReport> byRoute = new EnumMap<>(Route.class);
        for (Route route : Route.values()) {
            byRoute.put(route, BenchReport.of(recordsByRoute.get(route), secondsByRoute.get(route)));
        }
        List<Overhead> overheads = new ArrayList<>();
        for (String phase : PHASES) {
            overheads.add(new Overhead(phase, overheadBuckets.get(phase)));
        }
        return new Result(rounds, byRoute, overheads, timingBuckets, peak, peakBacklog, warmups);
    }

    /** The other latencies on the gateway route, where the services are known. */
    private static List<Timing> timings(GatewayBenchStack.Endpoints endpoints) {
        List<Timing> timings = new ArrayList<>();
        timings.add(new Timing("gateway: time to first token, as the gateway sees it", endpoints.gatewayUrl(),
                "kvserve_gateway_time_to_first_token_seconds", Map.of()));
        if (endpoints.schedulerUrl() != null) {
            timings.add(new Timing("scheduler: placement (parse, tokenize, kvshare query, score)", endpoints.schedulerUrl(),
                    "kvserve_scheduler_placement_latency_seconds", Map.of()));
        }
        if (endpoints.kvshareUrl() != null) {
            timings.add(new Timing("kvshare: hit query, Redis included", endpoints.kvshareUrl(),
                    "kvshare_query_latency_seconds", Map.of()));
        }
        return timings;
    }

    private Map<URI, PrometheusText> scrapeAll(List<Timing> timings) throws IOException, InterruptedException {
        Map<URI, PrometheusText> scrapes = new LinkedHashMap<>();
        for (Timing t : timings) {
            if (!scrapes.containsKey(t.service())) {
                scrapes.put(t.service(), scrape(t.service()));
            }
        }
        return scrapes;
    }

    /** One closed-loop run of {@code numRequests} at the concurrency on one route; the prompts depend on {@code roundSeed} only. */
    private List<RequestRecord> runRound(GatewayBenchStack.Endpoints endpoints, String key, Route route, long roundSeed,
                                         int n) throws InterruptedException {
        URI base = route == Route.gateway ? endpoints.gatewayUrl() : endpoints.instanceUrl();
        OpenAiStreamClient.Settings settings = new OpenAiStreamClient.Settings(base, api, endpoints.model(),
                route == Route.gateway ? key : null, 0, true, timeout);
        Workload requests = new RandomWorkload(roundSeed, inputLen, outputLen, false, 1024);
        try (OpenAiStreamClient client = new OpenAiStreamClient(settings)) {
            return new LoadRunner(requests, client::send)
                    .run(new LoadRunner.Plan(Math.min(concurrency, n), 0, 0, n, null, 0, roundSeed)).measured();
        }
    }

    private PrometheusText scrape(URI service) throws IOException, InterruptedException {
        HttpResponse<String> r = control.send(HttpRequest.newBuilder(service.resolve("/actuator/prometheus"))
                .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
        check(r.statusCode() == 200, "GET " + service.resolve("/actuator/prometheus") + " answered " + r.statusCode()
                + "; the benchmark reads the gateway's overhead there");
        return PrometheusText.parse(r.body());
    }

    /**
     * Polls the gateway's open-stream gauge every 100 ms on a virtual thread and keeps the highest value
     * seen; on Linux, when the gateway is on this machine, also its listening socket's accept backlog
     * once a second ({@code /proc/net/tcp*}: connections the kernel has accepted and the gateway has
     * not taken yet, time its own clocks cannot see).
     */
    static final class OpenStreamsSampler {
        private static final int BACKLOG_EVERY = 10;
        private final AtomicInteger peak = new AtomicInteger();
        private final java.util.concurrent.atomic.AtomicReference<ListenBacklog> peakBacklog =
                new java.util.concurrent.atomic.AtomicReference<>(ListenBacklog.UNKNOWN);
        private volatile boolean running = true;
        private Thread thread;

        static OpenStreamsSampler start(HttpClient http, URI gateway) {
            OpenStreamsSampler sampler = new OpenStreamsSampler();
            URI url = gateway.resolve("/actuator/metrics/kvserve.gateway.open.streams");
            boolean local = "127.0.0.1".equals(gateway.getHost()) || "localhost".equals(gateway.getHost());
            sampler.thread = Thread.ofVirtual().name("bench-open-streams").start(() -> {
                for (int i = 0; sampler.running; i++) {
                    try {
                        if (local && i % BACKLOG_EVERY == 0) {
                            ListenBacklog backlog = ListenBacklog.of(gateway.getPort());
                            sampler.peakBacklog.accumulateAndGet(backlog, ListenBacklog::max);
                        }
                        HttpResponse<String> r = http.send(HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(5)).GET().build(),
                                HttpResponse.BodyHandlers.ofString());
                        if (r.statusCode() == 200) {
                            JsonNode value = StreamDecoder.mapper().readTree(r.body()).path("measurements").path(0).path("value");
                            sampler.peak.accumulateAndGet((int) value.asDouble(), Math::max);
                        }
                        Thread.sleep(SAMPLE_INTERVAL);
                    } catch (IOException e) {
                        // a missed sample; the next one is 100 ms away
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
            return sampler;
        }

        void stop() throws InterruptedException {
            running = false;
            thread.interrupt();
            thread.join();
        }

        int peak() {
            return peak.get();
        }

        /** The highest queues seen; {@link ListenBacklog#UNKNOWN} when they could not be read (not Linux, or a remote gateway). */
        ListenBacklog peakBacklog() {
            return peakBacklog.get();
        }
    }

    /**
     * What waits in the kernel for the gateway on a port, from Linux's {@code /proc/net/tcp} and
     * {@code /proc/net/tcp6}: the accept backlog (for the socket in state LISTEN, {@code 0A}, the
     * {@code rx_queue} field counts connections waiting for {@code accept()}) and the accepted
     * connections whose received bytes the gateway has not read yet (state ESTABLISHED, {@code 01},
     * with {@code rx_queue} above 0). Both are time the gateway's own clocks cannot see: they start
     * when it has read a request.
     *
     * <pre>
     *   sl  local_address                          rem_address ... st tx_queue:rx_queue ...
     *   1:  00000000000000000000000000000000:88DD  ...:0000        0A 00000000:000001DE
     *                                        └port (hex)          └LISTEN     └backlog 478
     * </pre>
     *
     * @param acceptBacklog      connections not accepted yet; -1 when no listener on the port was found
     * @param numUnreadConnections accepted connections with bytes not read yet
     */
    record ListenBacklog(int acceptBacklog, int numUnreadConnections) {

        static final ListenBacklog UNKNOWN = new ListenBacklog(-1, -1);

        /** The port's queues now; {@link #UNKNOWN} when the tables cannot be read (not Linux). */
        static ListenBacklog of(int port) {
            List<String> lines = new ArrayList<>();
            for (String file : new String[] {"/proc/net/tcp", "/proc/net/tcp6"}) {
                try {
                    lines.addAll(Files.readAllLines(Path.of(file)));
                } catch (IOException | RuntimeException e) {
                    // not Linux, or no such table: nothing to add
                }
            }
            return lines.isEmpty() ? UNKNOWN : of(lines, port);
        }

        static ListenBacklog of(List<String> lines, int port) {
            String localPort = ":" + String.format(Locale.ROOT, "%04X", port);
            int backlog = -1;
            int numUnread = 0;
            for (String line : lines) {
                String[] f = line.trim().split("\\s+");
                if (f.length <= 4 || !f[1].endsWith(localPort)) {
                    continue;
                }
                int rxQueue = Integer.parseInt(f[4].substring(f[4].indexOf(':') + 1), 16);
                if (f[3].equals("0A")) {
                    backlog = Math.max(backlog, rxQueue);
                } else if (f[3].equals("01") && rxQueue > 0) {
                    numUnread++;
                }
            }
            return new ListenBacklog(backlog, backlog < 0 ? -1 : numUnread);
        }

        ListenBacklog max(ListenBacklog other) {
            return new ListenBacklog(Math.max(acceptBacklog, other.acceptBacklog),
                    Math.max(numUnreadConnections, other.numUnreadConnections));
        }

        @Override
        public String toString() {
            return acceptBacklog < 0 ? "n/a" : acceptBacklog + " / " + numUnreadConnections;
        }
    }

    private void writeJson(Result result, GatewayBenchStack.Endpoints endpoints) throws IOException {
        ObjectNode json = StreamDecoder.mapper().createObjectNode();
        ObjectNode config = json.putObject("config");
        config.put("gateway_url", endpoints.gatewayUrl().toString());
        config.put("instance_url", endpoints.instanceUrl().toString());
        config.put("model", endpoints.model());
        config.put("api", api.name());
        config.put("concurrency", concurrency);
        config.put("rounds", numRounds);
        config.put("requests_per_round", numRequests != null ? numRequests : 2 * concurrency);
        config.put("input_len", inputLen);
        config.put("output_len", outputLen);
        config.put("seed", seed);
        if (gatewayUrl == null) {
            config.put("max_num_seqs", maxNumSeqs);
            config.put("max_num_batched_tokens", maxNumBatchedTokens);
            config.put("engine_threads", engineThreads);
        }
        ArrayNode rounds = json.putArray("rounds");
        for (Round r : result.rounds()) {
            ObjectNode o = rounds.addObject();
            o.put("round", r.number());
            o.put("route", r.route().name());
            if (r.route() == Route.gateway) {
                o.put("peak_open_streams", r.peakOpenStreams());
                o.put("peak_accept_backlog", r.peakBacklog().acceptBacklog());
                o.put("peak_unread_connections", r.peakBacklog().numUnreadConnections());
            }
            r.report().writeTo(o.putObject("summary"));
        }
        ObjectNode routes = json.putObject("routes");
        result.byRoute().forEach((route, report) -> report.writeTo(routes.putObject(route.name())));
        ObjectNode overhead = json.putObject("gateway_overhead");
        for (Overhead o : result.overheads()) {
            ObjectNode phase = overhead.putObject(o.phase());
            phase.put("count", o.buckets().count());
            phase.put("p50_ms_from_buckets", o.buckets().quantile(0.5) * 1e3);
            phase.put("p99_ms_from_buckets", o.buckets().quantile(0.99) * 1e3);
            phase.put("share_at_or_below_1ms", o.buckets().shareAtOrBelow(0.001));
            phase.put("share_at_or_below_2ms", o.buckets().shareAtOrBelow(TARGET_SECONDS));
        }
        ObjectNode timings = json.putObject("gateway_route_timings");
        result.timings().forEach((t, b) -> {
            ObjectNode o = timings.putObject(t.metric());
            o.put("what", t.what());
            o.put("count", b.count());
            o.put("p50_ms_from_buckets", b.quantile(0.5) * 1e3);
            o.put("p99_ms_from_buckets", b.quantile(0.99) * 1e3);
        });
        json.put("peak_open_streams", result.peakOpenStreams());
        json.put("peak_accept_backlog", result.peakBacklog().acceptBacklog());
        json.put("peak_unread_connections", result.peakBacklog().numUnreadConnections());
        json.put("machine_at_the_end", machine());
        ObjectNode warmupErrors = json.putObject("warmup_errors");
        result.warmups().forEach((route, report) -> report.errors().forEach((type, n) ->
                warmupErrors.put(route.name() + " " + type, n)));
        json.put("verdict", result.verdict(concurrency));
        Path parent = jsonFile.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Files.writeString(jsonFile, StreamDecoder.mapper().writer().with(SerializationFeature.INDENT_OUTPUT).writeValueAsString(json));
    }

    /** The processors and the load average: on a shared machine the figures mean little without them. */
    static String machine() {
        var os = ManagementFactory.getOperatingSystemMXBean();
        return String.format(Locale.ROOT, "%d processors, load average %.2f (1 min)", os.getAvailableProcessors(),
                os.getSystemLoadAverage());
    }

    private static void check(boolean condition, String message) {
        if (!condition) {
            throw new IllegalArgumentException(message);
        }
    }
}
