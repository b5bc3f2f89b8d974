package io.kvserve.cli.benchserving;

import io.kvserve.cli.benchserving.report.ServingReports;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
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
 * every request. The pieces: a {@link Workload} makes requests from a seed (random, multi-tenant shared
 * prefixes, few-shot, multi-turn) or replays a trace, the {@link LoadRunner} decides when to send them
 * (closed loop, Poisson, bursts, the trace's timestamps), the {@link OpenAiStreamClient} sends them
 * with their tenant's key and times their chunks, and {@link BenchReport} computes the figures
 * (with goodput and fluidity-index against the SLOs, per tenant); the instances' prefix-cache
 * counters are scraped before and after the measured phase. Exit status 1 when no measured request
 * completed.
 */
@Command(name = "bench-serving", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Load an OpenAI-compatible server with streaming requests, closed loop (--concurrency)",
                "or open loop (--request-rate: Poisson or bursts; or a trace's timestamps), from a synthetic",
                "workload (random, shared-prefix, few-shot, multi-turn) or a trace; report TTFT / TPOT / ITL /",
                "E2E percentiles, throughput, goodput and fluidity-index against SLOs, the prefix-cache hit",
                "rate, a per-tenant breakdown and errors by type, like vLLM's benchmark_serving."})
public final class BenchServingCommand implements Callable<Integer> {

    enum WorkloadKind { random, shared_prefix, few_shot, multi_turn, trace;

        String label() {
            return name().replace('_', '-');
        }
    }

    /** The open loop's arrivals ({@code --arrival}). */
    enum OpenArrival { poisson, burst, trace }

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

    @Option(names = "--arrival", description = "Open loop: poisson (default with --request-rate), burst (--burst-size requests at once, "
            + "at the mean --request-rate), trace (the trace's timestamps; default with --workload trace and no --concurrency).")
    OpenArrival arrival;

    @Option(names = "--burst-size", defaultValue = "8", description = "With --arrival burst: requests per burst (default ${DEFAULT-VALUE}).")
    int burstSize;

    @Option(names = "--workload", defaultValue = "random", converter = WorkloadConverter.class,
            description = "random: fresh prompts, no prefix reuse (the control); shared-prefix: --tenants tenants, each with its own "
                    + "system prompt (--system-prompt-len) after one operator-published prefix (--shared-prefix-len), and short "
                    + "questions (--question-len); few-shot: a shared header, --num-shots examples of a pool of --num-examples, a "
                    + "question; multi-turn: --conversations chats of --turns turns, each turn resending the earlier ones with "
                    + "deterministic stand-in answers; trace: the JSON lines of --trace (default ${DEFAULT-VALUE}).")
    WorkloadKind workload;

    @Option(names = "--trace", description = "With --workload trace: the JSON-lines file ({\"timestamp_ms\":..,\"tenant\":..,"
            + "\"messages\":[..] or \"prompt\":..,\"max_tokens\":..}); malformed lines are skipped and reported.")
    Path traceFile;

    @Option(names = "--tenants", description = "Tenants of the synthetic workloads, named tenant-1..tenant-N (default 4 for shared-prefix, "
            + "else none), or the names of --api-keys-file.")
    Integer numTenants;

    @Option(names = "--shared-prefix-len", defaultValue = "512", description = "Words (about tokens) of the prefix every request shares: "
            + "the operator-published prefix (shared-prefix), the header (few-shot), the system prompt (multi-turn) (default ${DEFAULT-VALUE}).")
    int sharedPrefixLen;

    @Option(names = "--system-prompt-len", defaultValue = "1024:4096", description = "shared-prefix: each tenant's own system prompt, "
            + "MIN:MAX words drawn once per tenant, or one number (default ${DEFAULT-VALUE}).")
    String systemPromptLen;

    @Option(names = "--question-len", defaultValue = "32", description = "Words of a user question or turn (default ${DEFAULT-VALUE}).")
    int questionLen;

    @Option(names = "--num-examples", defaultValue = "32", description = "few-shot: the pool of examples (default ${DEFAULT-VALUE}).")
    int numExamples;

    @Option(names = "--num-shots", defaultValue = "4", description = "few-shot: examples per request (default ${DEFAULT-VALUE}).")
    int numShots;

    @Option(names = "--example-len", defaultValue = "64", description = "few-shot: words of an example's question; its answer has half (default ${DEFAULT-VALUE}).")
    int exampleLen;

    @Option(names = "--conversations", defaultValue = "8", description = "multi-turn: conversations in flight, interleaved (default ${DEFAULT-VALUE}).")
    int numConversations;

    @Option(names = "--turns", defaultValue = "4", description = "multi-turn: turns per conversation (default ${DEFAULT-VALUE}).")
    int numTurns;

    @Option(names = "--api-keys-file", description = "One TENANT=KEY per line (# comments): each request is sent with its tenant's key "
            + "(multi-tenant through the gateway); the tenants of the synthetic workloads are the file's, in its order.")
    Path apiKeysFile;

    @Option(names = "--operator-token", description = "Without --api-keys-file, against the gateway: make one tenant and key per workload "
            + "tenant through the admin API (tenant ids --tenant-id-prefix + name).")
    String operatorToken;

    @Option(names = "--tenant-id-prefix", description = "With --operator-token: the gateway tenant ids' prefix (default bench-<random 8 hex>-).")
    String tenantIdPrefix;

    @Option(names = "--tenant-limits", description = "With --operator-token: the tenants' limits as the admin API's JSON, e.g. "
            + "'{\"requests_per_minute\":60}' (default: none).")
    String tenantLimits;

    @Option(names = "--slo-ttft-ms", description = "TTFT target for goodput and the fluidity-index (ms).")
    Double sloTtftMs;

    @Option(names = "--slo-tpot-ms", description = "TPOT target for goodput; the per-token deadline of the fluidity-index (ms).")
    Double sloTpotMs;

    @Option(names = "--metrics-url", description = "An inference instance whose /actuator/prometheus prefix-cache counters are scraped before "
            + "and after the measured phase; repeat for several (default: --url). Without them the hit rate comes from the responses' "
            + "usage.prompt_tokens_details.cached_tokens when sent.")
    java.util.List<String> metricsUrls;

    @Option(names = "--publish-prefix-url", paramLabel = "KVSHARE_URL", description = "shared-prefix: before the run, publish the "
            + "workload's shared prefix for the model through this kvshare's operator API (PUT /v1/admin/published/MODEL/NAME), so it "
            + "hits for every tenant; the ids are the chat-rendered prompt's, from --tokenizer-model, whole blocks only.")
    String publishPrefixUrl;

    @Option(names = "--tokenizer-model", paramLabel = "FILE", description = "With --publish-prefix-url: the served model's file (.gguf "
            + "or HF directory), whose tokenizer and chat template turn the shared prefix into the ids the scheduler sees.")
    Path tokenizerModel;

    @Option(names = "--kvshare-operator-token", description = "With --publish-prefix-url: kvshare's operator token (default: "
            + "$KVSHARE_OPERATOR_TOKEN, else local-operator, the default of bin/kvserve up).")
    String kvshareOperatorToken;

    @Option(names = "--publish-prefix-name", defaultValue = "bench-shared-prefix", description = "With --publish-prefix-url: the "
            + "published prefix's name (default ${DEFAULT-VALUE}; publishing again under it replaces it).")
    String publishPrefixName;

    @Option(names = "--kv-block-size", defaultValue = "16", description = "With --publish-prefix-url: the platform's KV block size in "
            + "tokens; the published ids are cut to whole blocks (default ${DEFAULT-VALUE}).")
    int kvBlockSize;

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

    @Option(names = "--report", paramLabel = "DIR", description = "Also write report.md and the PNG plots of this run into DIR (as bench-report does; the JSON goes to DIR/run.json unless --json names it).")
    Path reportDir;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    private PrefixPublisher.Prefix published;
    private int publishedBlocksChecked = -1;
    private double[][] instanceDeltas;

    @Override
    public Integer call() throws IOException, InterruptedException {
        LoadRunner.Plan plan = plan();
        check(inputLen >= 1, "--input-len " + inputLen + " must be >= 1");
        check(outputLen >= 1, "--output-len " + outputLen + " must be >= 1");
        check(!promptIds || api == OpenAiStreamClient.Api.completions, "--prompt-ids needs --api completions (chat messages are text)");
        check(!promptIds || workload == WorkloadKind.random, "--prompt-ids applies to --workload random only");
        check(!timeout.isNegative() && !timeout.isZero(), "--timeout " + timeout + " must be > 0");
        check(sloTtftMs == null || sloTtftMs > 0, "--slo-ttft-ms " + sloTtftMs + " must be > 0");
        check(sloTpotMs == null || sloTpotMs > 0, "--slo-tpot-ms " + sloTpotMs + " must be > 0");
        check(apiKeysFile == null || operatorToken == null, "--api-keys-file and --operator-token exclude each other (keys given, or made)");
        PrintWriter out = spec.commandLine().getOut();
        URI baseUrl = baseUrl(url);
        checkReachable(baseUrl);
        String key = apiKey != null ? apiKey : blankToNull(System.getenv("OPENAI_API_KEY"));
        Map<String, String> keysFromFile = apiKeysFile != null ? readApiKeys(apiKeysFile) : Map.of();
        Workload requests = workload(new ArrayList<>(keysFromFile.keySet()));
        Map<String, String> keysByTenant = operatorToken != null && !requests.tenants().isEmpty()
                ? createTenants(baseUrl, requests.tenants(), out) : keysFromFile;
        if (!keysByTenant.isEmpty()) {
            List<String> missing = requests.tenants().stream().filter(t -> !keysByTenant.containsKey(t)).toList();
            check(missing.isEmpty(), "no API key for tenant(s) " + missing + " of the workload; add TENANT=KEY lines to " + apiKeysFile);
        }
        if (key == null && !keysByTenant.isEmpty()) {
            key = keysByTenant.values().iterator().next(); // for GET /v1/models and requests of no tenant
        }
        String modelName = model != null ? model : OpenAiStreamClient.firstModel(baseUrl, key, Duration.ofSeconds(30));
        OpenAiStreamClient.Settings settings = new OpenAiStreamClient.Settings(baseUrl, api, modelName, key, temperature, ignoreEos,
                timeout, keysByTenant);

        out.println(describe(plan, settings, requests));
        published = null;
        if (publishPrefixUrl != null) {
            published = publishPrefix(requests, settings.model(), out);
        }
        if (!requests.tenants().isEmpty() && keysByTenant.isEmpty()) {
            out.println("bench-serving: tenants " + requests.tenants() + " are labels of the workload only: every request goes with the "
                    + "same key (or none), so the server cannot tell them apart; an instance counts all of them as tenant 'default'");
        }
        if (requests instanceof TraceWorkload trace) {
            trace.skippedLines().forEach(line -> out.println("bench-serving: skipped malformed trace line " + line));
        }
        out.flush();
        List<URI> scraped = metricsUrls == null || metricsUrls.isEmpty() ? List.of(baseUrl) : metricsUrls.stream().map(BenchServingCommand::baseUrl).toList();
        double[][] before = new double[1][];
        double[][][] instancesBefore = new double[1][][];
        LoadRunner.Result result;
        try (OpenAiStreamClient client = new OpenAiStreamClient(settings)) {
            result = new LoadRunner(requests, client::send).run(plan, () -> {
                instancesBefore[0] = scrapeInstances(scraped);
                before[0] = sum(instancesBefore[0]);
            });
        }
        double[][] instancesAfter = scrapeInstances(scraped);
        double[] after = sum(instancesAfter);
        instanceDeltas = instanceDeltas(instancesBefore[0], instancesAfter);
        if (instanceDeltas != null && scraped.size() > 1) {
            for (int i = 0; i < scraped.size(); i++) {
                out.printf(Locale.ROOT, "%-40s %.0f requests, prefix cache %.0f / %.0f tokens%n", "Instance " + scraped.get(i) + ":",
                        instanceDeltas[i][2], instanceDeltas[i][0], instanceDeltas[i][1]);
            }
        }
        double promHitRate = before[0] != null && after != null && after[1] > before[0][1]
                ? (after[0] - before[0][0]) / (after[1] - before[0][1]) : Double.NaN;
        double usageHitRate = ServiceLevels.usageHitRate(result.measured());
        String hitRateSource = !Double.isNaN(promHitRate) ? "prometheus" : !Double.isNaN(usageHitRate) ? "usage" : null;
        double hitRate = !Double.isNaN(promHitRate) ? promHitRate : usageHitRate;

        BenchReport report = BenchReport.of(result.measured(), result.durationSeconds(),
                sloTtftMs == null ? Double.NaN : sloTtftMs, sloTpotMs == null ? Double.NaN : sloTpotMs);
        report.print(out);
        out.printf(Locale.ROOT, "%-40s %s%n", "Prefix cache hit rate:", hitRateSource == null ? "unknown"
                : String.format(Locale.ROOT, "%.2f%% (%s)", 100 * hitRate, hitRateSource.equals("prometheus")
                ? "vllm:prefix_cache_hits / queries of " + scraped : "usage cached_tokens / prompt_tokens"));
        if ("prometheus".equals(hitRateSource) && !Double.isNaN(usageHitRate)) {
            out.printf(Locale.ROOT, "%-40s %.2f%% (usage cached_tokens / prompt_tokens)%n", "Prefix cache hit rate, per request:", 100 * usageHitRate);
        }
        if (plan.openLoop()) {
            out.printf(Locale.ROOT, "%-40s %.1f ms of a %.1f ms schedule%n", "Sender lag (max):", result.senderLag().maxMs(),
                    result.senderLag().plannedSpanMs());
        }
        if (result.senderLag().fellBehind()) {
            out.printf(Locale.ROOT, "bench-serving: WARNING: the sender fell behind its schedule by up to %.1f ms (more than 10%% of its "
                    + "%.1f ms): this machine could not generate the asked arrivals; the figures are for a lower rate%n",
                    result.senderLag().maxMs(), result.senderLag().plannedSpanMs());
        }
        out.flush();
        if (jsonFile == null && reportDir != null) {
            jsonFile = reportDir.resolve("run.json");
        }
        if (jsonFile != null) {
            writeJson(plan, settings, requests, result, report, hitRate, hitRateSource, usageHitRate, scraped);
            out.println("wrote " + jsonFile);
            out.flush();
        }
        if (reportDir != null) {
            ServingReports.write(List.of(jsonFile), reportDir, out);
            out.flush();
        }
        if (report.numSucceeded() == 0) {
            spec.commandLine().getErr().println("kvserve: bench-serving: all " + report.numFailed() + " measured requests failed "
                    + report.errors());
            return 1;
        }
        return 0;
    }

    private Workload workload(List<String> keyFileTenants) throws IOException {
        check(numTenants == null || numTenants >= 0, "--tenants " + numTenants + " must be >= 0");
        List<String> tenants = !keyFileTenants.isEmpty() ? keyFileTenants
                : Words.tenantNames(numTenants != null ? numTenants : workload == WorkloadKind.shared_prefix ? 4 : 0);
        check(traceFile == null || workload == WorkloadKind.trace, "--trace needs --workload trace");
        return switch (workload) {
            case random -> new RandomWorkload(seed, inputLen, outputLen, promptIds, vocabSize);
            case shared_prefix -> {
                String[] range = systemPromptLen.split(":", 2);
                int min = parseInt(range[0], "--system-prompt-len");
                int max = range.length > 1 ? parseInt(range[1], "--system-prompt-len") : min;
                yield new SharedPrefixWorkload(seed, tenants, sharedPrefixLen, min, max, questionLen, outputLen);
            }
            case few_shot -> new FewShotWorkload(seed, tenants, sharedPrefixLen, numExamples, numShots, exampleLen, questionLen, outputLen);
            case multi_turn -> new MultiTurnWorkload(seed, tenants, sharedPrefixLen, numConversations, numTurns, questionLen, outputLen);
            case trace -> {
                check(traceFile != null, "--workload trace needs --trace FILE");
                yield TraceWorkload.read(traceFile, outputLen);
            }
        };
    }

    private static int parseInt(String s, String option) {
        try {
            return Integer.parseInt(s.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + ": '" + s + "' is not a number");
        }
    }

    /** TENANT=KEY lines, in file order; blank lines and # comments skipped. */
    static Map<String, String> readApiKeys(Path file) throws IOException {
        check(Files.isRegularFile(file), "--api-keys-file " + file + ": no such file");
        Map<String, String> keys = new LinkedHashMap<>();
        List<String> lines = Files.readAllLines(file);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int eq = line.indexOf('=');
            check(eq > 0 && eq < line.length() - 1, file + ":" + (i + 1) + ": expected TENANT=KEY");
            String tenant = line.substring(0, eq).strip();
            check(keys.put(tenant, line.substring(eq + 1).strip()) == null, file + ":" + (i + 1) + ": tenant " + tenant + " given twice");
        }
        check(!keys.isEmpty(), "--api-keys-file " + file + " has no TENANT=KEY line");
        return keys;
    }

    private Map<String, String> createTenants(URI gateway, List<String> tenants, PrintWriter out) throws IOException, InterruptedException {
        String prefix = tenantIdPrefix != null ? tenantIdPrefix : "bench-" + java.util.UUID.randomUUID().toString().substring(0, 8) + "-";
        Map<String, String> keys = new LinkedHashMap<>();
        try (HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build()) {
            GatewayAdmin admin = new GatewayAdmin(http, gateway, operatorToken);
            for (String tenant : tenants) {
                keys.put(tenant, admin.createTenantKey(prefix + tenant, tenantLimits, "bench-serving", out));
            }
        }
        return keys;
    }

    /** One line and a non-zero exit when nothing listens at the target, rather than N failed requests. */
    static void checkReachable(URI baseUrl) throws IOException {
        int port = baseUrl.getPort() >= 0 ? baseUrl.getPort() : "https".equals(baseUrl.getScheme()) ? 443 : 80;
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(baseUrl.getHost(), port), 5000);
        } catch (IOException e) {
            throw new IOException("cannot reach " + baseUrl + " (" + e.getMessage() + "); is the server up at --url?", e);
        }
    }

    /** The summed {@code vllm:prefix_cache_hits} and {@code _queries} of the instances; null when any scrape fails or lacks them. */
    static double[] scrapePrefixCache(List<URI> instances) {
        return sum(scrapeInstances(instances));
    }

    private static double[] sum(double[][] perInstance) {
        if (perInstance == null) {
            return null;
        }
        double hits = 0;
        double queries = 0;
        for (double[] instance : perInstance) {
            hits += instance[0];
            queries += instance[1];
        }
        return new double[] {hits, queries};
    }

    /** Each instance's deltas (hits, queries, finished requests) between two scrapes; null when either failed. */
    private static double[][] instanceDeltas(double[][] before, double[][] after) {
        if (before == null || after == null) {
            return null;
        }
        double[][] deltas = new double[after.length][3];
        for (int i = 0; i < after.length; i++) {
            for (int j = 0; j < 3; j++) {
                deltas[i][j] = after[i][j] - before[i][j];
            }
        }
        return deltas;
    }

    /**
     * Each instance's {@code vllm:prefix_cache_hits}, {@code _queries} and {@code vllm:request_success}
     * totals (NaN for the last when absent); null when any scrape fails or lacks the first two.
     */
    static double[][] scrapeInstances(List<URI> instances) {
        double[][] totals = new double[instances.size()][];
        try (HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()) {
            for (int i = 0; i < instances.size(); i++) {
                URI instance = instances.get(i);
                HttpRequest.Builder request = HttpRequest.newBuilder(instance.resolve("/actuator/prometheus")).timeout(Duration.ofSeconds(10)).GET();
                HttpResponse<String> r = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() != 200) {
                    return null;
                }
                PrometheusText text = PrometheusText.parse(r.body());
                double h = text.sum("vllm:prefix_cache_hits_total");
                double q = text.sum("vllm:prefix_cache_queries_total");
                if (Double.isNaN(h) || Double.isNaN(q)) {
                    return null;
                }
                double finished = text.sum("vllm:request_success_total");
                totals[i] = new double[] {h, q, Double.isNaN(finished) ? 0 : finished}; // absent until a request finishes
            }
        } catch (IOException | RuntimeException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
        return totals;
    }

    /** Publishes the workload's shared prefix (--publish-prefix-url) and checks with kvshare that the requests' prompts match it. */
    private PrefixPublisher.Prefix publishPrefix(Workload requests, String modelName, PrintWriter out) throws IOException, InterruptedException {
        check(requests instanceof SharedPrefixWorkload, "--publish-prefix-url applies to --workload shared-prefix only");
        check(tokenizerModel != null, "--publish-prefix-url needs --tokenizer-model FILE (the served model's file), to tokenize the prefix "
                + "as the scheduler does");
        check(kvBlockSize >= 1, "--kv-block-size " + kvBlockSize + " must be >= 1");
        SharedPrefixWorkload shared = (SharedPrefixWorkload) requests;
        URI kvshare = baseUrl(publishPrefixUrl);
        String token = kvshareOperatorToken != null ? kvshareOperatorToken
                : blankToNull(System.getenv("KVSHARE_OPERATOR_TOKEN")) != null ? System.getenv("KVSHARE_OPERATOR_TOKEN") : "local-operator";
        PrefixPublisher.Prefix prefix = PrefixPublisher.prefixIds(tokenizerModel, shared, kvBlockSize);
        try (HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build()) {
            PrefixPublisher.publish(http, kvshare, token, modelName, publishPrefixName, prefix.tokenIds());
            out.printf(Locale.ROOT, "bench-serving: published %d tokens (%d blocks) of the shared prefix as %s/%s at %s%n",
                    prefix.tokenIds().length, prefix.numBlocks(), modelName, publishPrefixName, kvshare);
            Thread.sleep(2000); // the scheduler re-reads published prefixes every second
            int[] probe = PrefixPublisher.promptIds(tokenizerModel, shared, shared.tenants().getFirst());
            publishedBlocksChecked = PrefixPublisher.publishedBlocksOf(http, kvshare, modelName, "bench-serving-publish-probe", probe);
        }
        if (publishedBlocksChecked >= 0 && publishedBlocksChecked != prefix.numBlocks()) {
            throw new IllegalStateException("kvshare matches " + publishedBlocksChecked + " published blocks of a request's prompt, not the "
                    + prefix.numBlocks() + " just published: the published ids do not match the prompts");
        }
        out.println(publishedBlocksChecked >= 0
                ? "bench-serving: kvshare matches all " + publishedBlocksChecked + " published blocks at the start of a request's prompt"
                : "bench-serving: WARNING: kvshare did not answer the check of the published prefix (POST /v1/hits)");
        out.flush();
        return prefix;
    }

    /** The load's shape from the options, with the defaults filled in. */
    LoadRunner.Plan plan() {
        check(!(concurrency != null && requestRate != null), "--concurrency and --request-rate exclude each other "
                + "(closed loop or open loop); for an open loop with a cap use --request-rate R --max-concurrency N");
        check(numRequests == null || numRequests >= 1, "--num-requests " + numRequests + " must be >= 1");
        check(duration == null || (!duration.isNegative() && !duration.isZero()), "--duration " + duration + " must be > 0");
        check(numWarmup == null || numWarmup >= 0, "--warmup " + numWarmup + " must be >= 0");
        boolean trace = workload == WorkloadKind.trace;
        OpenArrival open = arrival != null ? arrival : requestRate != null ? OpenArrival.poisson : trace && concurrency == null ? OpenArrival.trace : null;
        check(open == null || concurrency == null, "--arrival " + open + " is an open loop; --concurrency makes a closed one");
        check(open != OpenArrival.trace || trace, "--arrival trace replays a trace's timestamps: give --workload trace --trace FILE");
        check(open != OpenArrival.trace || requestRate == null, "--arrival trace takes its times from the trace, not --request-rate");
        check(open == null || open == OpenArrival.trace || requestRate != null, "--arrival " + open + " needs --request-rate");
        check(maxConcurrency == null || open != null, "--max-concurrency applies to the open loop only (with --request-rate); "
                + "a closed loop is capped by --concurrency");
        if (open == null) {
            int users = concurrency == null ? 1 : concurrency;
            check(users >= 1, "--concurrency " + users + " must be >= 1");
            // a trace has as many requests as lines (the runner stops there)
            int n = numRequests != null ? numRequests : duration != null || trace ? -1 : 4 * users;
            if (n < 0 && duration == null) {
                n = Integer.MAX_VALUE;
            }
            return new LoadRunner.Plan(users, 0, 0, n, duration, numWarmup != null ? numWarmup : trace ? 0 : users, seed,
                    LoadRunner.Arrival.closed, 1);
        }
        double rate = open == OpenArrival.trace ? 0 : requestRate;
        check(open == OpenArrival.trace || rate > 0, "--request-rate " + rate + " must be > 0 (or inf)");
        check(open != OpenArrival.burst || burstSize >= 1, "--burst-size " + burstSize + " must be >= 1");
        check(open != OpenArrival.burst || !Double.isInfinite(rate), "--arrival burst needs a finite --request-rate");
        int cap = maxConcurrency == null ? 0 : maxConcurrency;
        check(maxConcurrency == null || cap >= 1, "--max-concurrency " + cap + " must be >= 1");
        int n = numRequests != null ? numRequests : duration != null ? -1 : trace ? Integer.MAX_VALUE : cap > 0 ? 4 * cap : 1000;
        return new LoadRunner.Plan(0, rate, cap, n, duration, numWarmup != null ? numWarmup : cap, seed,
                LoadRunner.Arrival.valueOf(open.name()), open == OpenArrival.burst ? burstSize : 1);
    }

    private String describe(LoadRunner.Plan plan, OpenAiStreamClient.Settings settings, Workload requests) {
        String load = !plan.openLoop() ? "closed loop, " + plan.concurrency() + " users"
                : (plan.arrival() == LoadRunner.Arrival.trace ? "open loop at the trace's timestamps"
                : String.format(Locale.ROOT, "open loop at %s req/s (%s%s)", rate(plan.requestRate()), plan.arrival(),
                        plan.arrival() == LoadRunner.Arrival.burst ? " of " + plan.burstSize() : ""))
                + (plan.maxConcurrency() > 0 ? ", at most " + plan.maxConcurrency() + " in flight" : "");
        int n = requests.size() >= 0 ? Math.min(Math.max(0, requests.size() - plan.numWarmup()), plan.numRequests() < 0 ? Integer.MAX_VALUE : plan.numRequests())
                : plan.numRequests();
        String count = (n >= 0 ? n + " requests" : "requests")
                + (plan.duration() != null ? " for at most " + plan.duration().toMillis() / 1000.0 + " s" : "")
                + " after " + plan.numWarmup() + " warm-up";
        return String.format(Locale.ROOT, "bench-serving: %s at %s, model %s; %s; %s; workload %s %s%s",
                settings.api(), settings.baseUrl(), settings.model(), load, count, requests.name(), requests.params(),
                settings.ignoreEos() ? " (ignore_eos)" : "");
    }

    private void writeJson(LoadRunner.Plan plan, OpenAiStreamClient.Settings settings, Workload requests,
                           LoadRunner.Result result, BenchReport report, double hitRate, String hitRateSource,
                           double usageHitRate, List<URI> scraped) throws IOException {
        ObjectNode json = StreamDecoder.mapper().createObjectNode();
        ObjectNode config = json.putObject("config");
        config.put("url", settings.baseUrl().toString());
        config.put("api", settings.api().name());
        config.put("model", settings.model());
        config.put("mode", plan.openLoop() ? "open_loop" : "closed_loop");
        config.put("concurrency", plan.concurrency());
        config.put("arrival", plan.arrival().name());
        if (plan.openLoop()) {
            if (plan.arrival() == LoadRunner.Arrival.trace) {
                config.putNull("request_rate");
            } else {
                config.put("request_rate", rate(plan.requestRate()));
            }
            config.put("max_concurrency", plan.maxConcurrency());
            if (plan.arrival() == LoadRunner.Arrival.burst) {
                config.put("burst_size", plan.burstSize());
            }
        }
        config.put("num_requests", plan.numRequests() == Integer.MAX_VALUE ? -1 : plan.numRequests());
        if (plan.duration() == null) {
            config.putNull("duration_s");
        } else {
            config.put("duration_s", plan.duration().toMillis() / 1000.0);
        }
        config.put("num_warmup", plan.numWarmup());
        config.put("workload", requests.name());
        ObjectNode params = (ObjectNode) StreamDecoder.mapper().valueToTree(requests.params());
        if (published != null) {
            params.put("published_prefix_tokens", published.tokenIds().length);
            params.put("published_prefix_blocks", published.numBlocks());
            params.put("published_prefix_rendered_tokens", published.renderedHeadTokens());
            params.put("published_prefix_name", publishPrefixName);
            params.put("published_prefix_kvshare_url", publishPrefixUrl);
            params.put("published_prefix_blocks_matched", publishedBlocksChecked);
        }
        config.set("workload_params", params);
        config.put("api_keys", !settings.apiKeysByTenant().isEmpty() ? (apiKeysFile != null ? "api-keys-file" : "admin-api")
                : settings.apiKey() != null ? "one" : "none");
        ArrayNode metrics = config.putArray("metrics_urls");
        scraped.forEach(u -> metrics.add(u.toString()));
        config.put("input_len", inputLen);
        config.put("output_len", outputLen);
        config.put("prompt_ids", promptIds);
        config.put("seed", seed);
        config.put("temperature", settings.temperature());
        config.put("ignore_eos", settings.ignoreEos());
        config.put("timeout_s", settings.timeout().toMillis() / 1000.0);
        ObjectNode summary = json.putObject("summary");
        report.writeTo(summary);
        BenchReport.putMaybe(summary, "prefix_cache_hit_rate", hitRate);
        if (hitRateSource == null) {
            summary.putNull("prefix_cache_hit_rate_source");
        } else {
            summary.put("prefix_cache_hit_rate_source", hitRateSource);
        }
        // cached / prompt tokens of the completed requests whose usage said: the instances' counters
        // can differ (they count a prompt's first scheduled chunk, not the whole prompt, as queried)
        BenchReport.putMaybe(summary, "prefix_cache_hit_rate_usage", usageHitRate);
        ObjectNode lag = summary.putObject("sender_lag");
        lag.put("max_ms", result.senderLag().maxMs());
        lag.put("planned_span_ms", result.senderLag().plannedSpanMs());
        lag.put("fell_behind", result.senderLag().fellBehind());
        if (instanceDeltas != null) {
            ArrayNode instances = summary.putArray("instances");
            for (int i = 0; i < scraped.size(); i++) {
                ObjectNode instance = instances.addObject();
                instance.put("metrics_url", scraped.get(i).toString());
                instance.put("requests", instanceDeltas[i][2]);
                instance.put("prefix_cache_hits", instanceDeltas[i][0]);
                instance.put("prefix_cache_queries", instanceDeltas[i][1]);
            }
        }
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

    /** The workload's name as the report writes it ({@code shared-prefix}); the enum's ({@code shared_prefix}) is taken too. */
    static final class WorkloadConverter implements CommandLine.ITypeConverter<WorkloadKind> {
        @Override
        public WorkloadKind convert(String value) {
            try {
                return WorkloadKind.valueOf(value.trim().replace('-', '_'));
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException("'" + value + "' is not a workload (random, shared-prefix, few-shot, multi-turn, trace)");
            }
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
