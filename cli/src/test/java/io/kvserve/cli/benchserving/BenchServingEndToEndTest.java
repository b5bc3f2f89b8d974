package io.kvserve.cli.benchserving;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The whole command against a small OpenAI-like server that streams chunks with known delays, answers
 * every third request with 429, stalls, or breaks mid-stream, as each test sets it.
 */
class BenchServingEndToEndTest {

    static final long TTFT_DELAY_MS = 120;
    static final long ITL_DELAY_MS = 40;
    static final int NUM_CHUNKS = 4;
    /** Measured gaps may come out shorter than the server's sleeps by how much later the earlier chunk was delivered; on loopback that is well under this. */
    static final double DELIVERY_SLACK_MS = 5;

    enum Mode { STREAM, EVERY_THIRD_429, STALL, BREAK_MID_STREAM }

    volatile Mode mode = Mode.STREAM;
    volatile boolean prometheus = true;
    final AtomicInteger numRequests = new AtomicInteger();
    final ConcurrentLinkedQueue<JsonNode> bodies = new ConcurrentLinkedQueue<>();
    final ConcurrentLinkedQueue<String> authorizations = new ConcurrentLinkedQueue<>();
    final AtomicInteger maxInFlight = new AtomicInteger();
    final AtomicInteger inFlight = new AtomicInteger();
    final ConcurrentLinkedQueue<String> published = new ConcurrentLinkedQueue<>();
    final ConcurrentLinkedQueue<JsonNode> hitQueries = new ConcurrentLinkedQueue<>();
    volatile JsonNode publishedBody;
    volatile int publishStatus = 200;
    HttpServer server;
    String url;

    @TempDir
    Path dir;

    @BeforeEach
    void startServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/v1/models", exchange -> respond(exchange, 200,
                "{\"object\":\"list\",\"data\":[{\"id\":\"test-model\",\"object\":\"model\"},{\"id\":\"other\",\"object\":\"model\"}]}"));
        server.createContext("/v1/chat/completions", exchange -> complete(exchange, true));
        server.createContext("/v1/completions", exchange -> complete(exchange, false));
        // an instance's prefix-cache counters: 3 of every 4 prompt tokens looked up are hits
        server.createContext("/actuator/prometheus", exchange -> {
            int n = numRequests.get();
            byte[] text = ("# TYPE vllm:prefix_cache_queries_total counter\n"
                    + "vllm:prefix_cache_queries_total{model_name=\"m\"} " + (4.0 * n) + "\n"
                    + "vllm:prefix_cache_hits_total{model_name=\"m\"} " + (3.0 * n) + "\n").getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(prometheus ? 200 : 404, text.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(text);
            }
        });
        // kvshare's operator API and hit query, for --publish-prefix-url
        server.createContext("/v1/admin/published/", exchange -> {
            published.add(exchange.getRequestMethod() + " " + exchange.getRequestURI().getPath() + " "
                    + exchange.getRequestHeaders().getFirst("Authorization"));
            publishedBody = JsonMapper.builder().build().readTree(exchange.getRequestBody().readAllBytes());
            respond(exchange, publishStatus, publishStatus == 200 ? "{}" : "{\"error\":{\"message\":\"operator token required\"}}");
        });
        server.createContext("/v1/hits", exchange -> {
            JsonNode query = JsonMapper.builder().build().readTree(exchange.getRequestBody().readAllBytes());
            hitQueries.add(query);
            JsonNode ids = publishedBody == null ? null : publishedBody.get("token_ids");
            JsonNode prompt = query.get("queries").get(0).get("token_ids");
            int blocks = 0; // leading whole blocks of the prompt that are the published ids
            while (ids != null && (blocks + 1) * 16 <= ids.size() && (blocks + 1) * 16 <= prompt.size()
                    && java.util.stream.IntStream.range(blocks * 16, (blocks + 1) * 16).allMatch(i -> ids.get(i).asInt() == prompt.get(i).asInt())) {
                blocks++;
            }
            respond(exchange, 200, "{\"status\":\"ok\",\"block_size\":16,\"results\":[{\"num_blocks\":1,\"num_published_blocks\":"
                    + blocks + ",\"instances\":[]}]}");
        });
        server.start();
        url = "http://127.0.0.1:" + server.getAddress().getPort();
    }

    @AfterEach
    void stopServer() {
        server.stop(0);
    }

    private void complete(HttpExchange exchange, boolean chat) throws IOException {
        maxInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
        try {
            JsonNode body = JsonMapper.builder().build().readTree(exchange.getRequestBody().readAllBytes());
            String auth = exchange.getRequestHeaders().getFirst("Authorization");
            ((tools.jackson.databind.node.ObjectNode) body).put("_authorization", auth == null ? "" : auth);
            bodies.add(body);
            authorizations.add(auth == null ? "" : auth);
            int n = numRequests.incrementAndGet();
            if (mode == Mode.EVERY_THIRD_429 && n % 3 == 0) {
                respond(exchange, 429, "{\"error\":{\"message\":\"tenant over its rate\",\"type\":\"rate_limit_exceeded\",\"param\":null,\"code\":null}}");
                return;
            }
            exchange.getResponseHeaders().set("Content-Type", "text/event-stream");
            exchange.sendResponseHeaders(200, 0); // chunked: each flush goes out as it is written
            try (OutputStream out = exchange.getResponseBody()) {
                event(out, chat ? "{\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}"
                        : "{\"object\":\"text_completion\",\"choices\":[{\"index\":0,\"text\":\"\"}]}");
                if (mode == Mode.STALL) {
                    sleep(10_000);
                }
                sleep(TTFT_DELAY_MS);
                for (int i = 0; i < NUM_CHUNKS; i++) {
                    if (i > 0) {
                        sleep(ITL_DELAY_MS);
                    }
                    event(out, chat ? "{\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" tok" + i + "\"}}]}"
                            : "{\"object\":\"text_completion\",\"choices\":[{\"index\":0,\"text\":\" tok" + i + "\"}]}");
                    if (mode == Mode.BREAK_MID_STREAM && i == 1) {
                        event(out, "{\"error\":{\"message\":\"engine failed\",\"type\":\"server_error\",\"param\":null,\"code\":null}}");
                        event(out, "[DONE]");
                        return;
                    }
                }
                event(out, "{\"object\":\"chat.completion.chunk\",\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":" + NUM_CHUNKS + ",\"total_tokens\":13,"
                        + "\"prompt_tokens_details\":{\"cached_tokens\":6}}}");
                event(out, "[DONE]");
            }
        } catch (IOException e) {
            // the client went away (a timed-out request): nothing to do
        } finally {
            inFlight.decrementAndGet();
            exchange.close();
        }
    }

    private static void event(OutputStream out, String data) throws IOException {
        out.write(("data: " + data + "\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static void respond(HttpExchange exchange, int status, String json) throws IOException {
        byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    record Run(int exitCode, String out, String err, JsonNode json) {
    }

    private Run run(String... args) {
        Path json = dir.resolve("result-" + System.nanoTime() + ".json");
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--json", json.toString()));
        CommandLine cli = new CommandLine(new BenchServingCommand());
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int code = cli.execute(all.toArray(String[]::new));
        JsonNode node = json.toFile().exists() ? JsonMapper.builder().build().readTree(json.toFile()) : null;
        return new Run(code, out.toString(), err.toString(), node);
    }

    @Test
    void chat_closedLoop_measuresAtLeastTheInjectedDelays() {
        Run r = run("--url", url, "--concurrency", "4", "--num-requests", "8", "--warmup", "2",
                "--input-len", "16", "--output-len", "4", "--api-key", "sk-test");
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode summary = r.json().get("summary");
        assertThat(summary.get("completed").asInt()).isEqualTo(8);
        assertThat(summary.get("failed").asInt()).isZero();
        assertThat(summary.get("total_output_tokens").asInt()).isEqualTo(8 * NUM_CHUNKS);
        assertThat(summary.get("total_input_tokens").asInt()).isEqualTo(8 * 9);
        assertThat(numRequests.get()).isEqualTo(10);
        assertThat(maxInFlight.get()).isLessThanOrEqualTo(4);

        JsonNode requests = r.json().get("requests");
        assertThat(requests.size()).isEqualTo(10);
        int measured = 0;
        for (JsonNode req : requests) {
            assertThat(req.get("error").isNull()).isTrue();
            if (req.get("warmup").asBoolean()) {
                continue;
            }
            measured++;
            double ttft = req.get("ttft_ms").asDouble();
            assertThat(ttft).isGreaterThanOrEqualTo(TTFT_DELAY_MS);
            assertThat(req.get("itl_ms").size()).isEqualTo(NUM_CHUNKS - 1);
            for (JsonNode gap : req.get("itl_ms")) {
                assertThat(gap.asDouble()).isGreaterThanOrEqualTo(ITL_DELAY_MS - DELIVERY_SLACK_MS);
            }
            assertThat(req.get("e2e_ms").asDouble()).isGreaterThanOrEqualTo(TTFT_DELAY_MS + (NUM_CHUNKS - 1) * ITL_DELAY_MS);
            assertThat(req.get("tpot_ms").asDouble()).isGreaterThanOrEqualTo(ITL_DELAY_MS - DELIVERY_SLACK_MS);
            assertThat(req.get("output_tokens").asInt()).isEqualTo(NUM_CHUNKS);
        }
        assertThat(measured).isEqualTo(8);
        assertThat(summary.get("median_ttft_ms").asDouble()).isGreaterThanOrEqualTo(TTFT_DELAY_MS);
        assertThat(summary.get("p99_itl_ms").asDouble()).isGreaterThanOrEqualTo(ITL_DELAY_MS - DELIVERY_SLACK_MS);

        // what was sent: the discovered model, streaming with usage, greedy, ignore_eos, the key
        assertThat(bodies).allSatisfy(body -> {
            assertThat(body.get("model").asString()).isEqualTo("test-model");
            assertThat(body.get("stream").asBoolean()).isTrue();
            assertThat(body.get("stream_options").get("include_usage").asBoolean()).isTrue();
            assertThat(body.get("ignore_eos").asBoolean()).isTrue();
            assertThat(body.get("max_tokens").asInt()).isEqualTo(4);
            assertThat(body.get("temperature").asDouble()).isZero();
            assertThat(body.get("messages").get(0).get("content").asString().split(" ")).hasSize(16);
        });
        assertThat(authorizations).containsOnly("Bearer sk-test");

        assertThat(r.out()).contains("Successful requests:                     8")
                .contains("Mean TTFT (ms):").contains("P99 ITL (ms):").contains("(none)");
        assertThat(r.json().get("config").get("mode").asString()).isEqualTo("closed_loop");
    }

    private Path tinyModel() {
        Path model = dir.resolve("tiny.gguf");
        int code = new CommandLine(new io.kvserve.cli.KvserveCli()).execute("model", "generate", "--preset", "tiny", "--type", "q8_0",
                "--seed", "3", "-o", model.toString());
        assertThat(code).isZero();
        return model;
    }

    @Test
    void publishPrefix_putsTheSharedPrefixAsTheRenderedPromptsIds_wholeBlocks_andChecksTheMatch() throws IOException {
        Path model = tinyModel();
        Run r = run("--url", url, "--model", "m", "--workload", "shared-prefix", "--tenants", "3", "--shared-prefix-len", "64",
                "--system-prompt-len", "8", "--question-len", "4", "--output-len", "4", "-c", "1", "-n", "3", "--warmup", "0",
                "--publish-prefix-url", url, "--tokenizer-model", model.toString(), "--kvshare-operator-token", "op-secret");
        assertThat(r.exitCode()).as(r.err()).isZero();

        // one PUT of {"token_ids": [...]} for the model, under the default name, with the operator token
        assertThat(published).containsExactly("PUT /v1/admin/published/m/bench-shared-prefix Bearer op-secret");
        assertThat(publishedBody.propertyNames()).containsExactly("token_ids");
        JsonNode ids = publishedBody.get("token_ids");
        assertThat(ids.size()).isPositive().satisfies(n -> assertThat(n % 16).isZero());
        // the ids start every tenant's chat-rendered prompt: what the scheduler tokenizes and kvshare hashes
        SharedPrefixWorkload workload = new SharedPrefixWorkload(0, Words.tenantNames(3), 64, 8, 8, 4, 4);
        for (String tenant : workload.tenants()) {
            int[] prompt = PrefixPublisher.promptIds(model, workload, tenant);
            for (int i = 0; i < ids.size(); i++) {
                assertThat(prompt[i]).as("token %d of %s's prompt", i, tenant).isEqualTo(ids.get(i).asInt());
            }
        }
        // ... and the command had kvshare confirm it, with a probe tenant's token ids
        assertThat(hitQueries).hasSize(1);
        assertThat(hitQueries.peek().get("model").asString()).isEqualTo("m");
        assertThat(r.out()).contains("published " + ids.size() + " tokens (" + ids.size() / 16 + " blocks)")
                .contains("kvshare matches all " + ids.size() / 16 + " published blocks");
        JsonNode params = r.json().get("config").get("workload_params");
        assertThat(params.get("published_prefix_tokens").asInt()).isEqualTo(ids.size());
        assertThat(params.get("published_prefix_blocks_matched").asInt()).isEqualTo(ids.size() / 16);
        assertThat(params.get("published_prefix_name").asString()).isEqualTo("bench-shared-prefix");
        // the instance's finished requests, per --metrics-url (the stand-in has no request counter: 0)
        assertThat(r.json().get("summary").get("instances")).hasSize(1);
    }

    @Test
    void publishPrefix_refused_failsBeforeTheRunWithKvsharesAnswer() {
        publishStatus = 403;
        Path model = tinyModel();
        Run r = run("--url", url, "--model", "m", "--workload", "shared-prefix", "--tenants", "2", "--shared-prefix-len", "64",
                "--system-prompt-len", "8", "--question-len", "4", "--output-len", "4", "-c", "1", "-n", "2", "--warmup", "0",
                "--publish-prefix-url", url, "--tokenizer-model", model.toString(), "--kvshare-operator-token", "wrong");
        assertThat(r.exitCode()).isNotZero();
        assertThat(r.err()).contains("publishing the shared prefix at " + url + "/v1/admin/published/m/bench-shared-prefix failed: HTTP 403")
                .contains("operator token required").contains("--kvshare-operator-token");
        assertThat(numRequests.get()).isZero();
        assertThat(r.json()).isNull();
    }

    @Test
    void report_writesTheRunsTableAndPlotsBesideItsJson() throws IOException {
        Path reportDir = dir.resolve("report-" + System.nanoTime());
        Run r = run("--url", url, "--model", "m", "-c", "2", "-n", "4", "--warmup", "0", "--input-len", "4",
                "--output-len", "4", "--report", reportDir.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        String table = java.nio.file.Files.readString(reportDir.resolve("report.md"));
        double p99 = r.json().get("summary").get("p99_ttft_ms").asDouble();
        assertThat(table).contains(String.format(java.util.Locale.ROOT, "%.2f", p99));
        assertThat(javax.imageio.ImageIO.read(reportDir.resolve("latency-cdf.png").toFile())).isNotNull();
        assertThat(r.out()).contains(reportDir.resolve("report.md").toString());
    }

    @Test
    void rateLimited_429s_areCountedByTypeAndTheRunGoesOn() {
        mode = Mode.EVERY_THIRD_429;
        Run r = run("--url", url, "--model", "m", "-c", "2", "-n", "6", "--warmup", "0", "--input-len", "4", "--output-len", "4");
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode summary = r.json().get("summary");
        assertThat(summary.get("completed").asInt()).isEqualTo(4);
        assertThat(summary.get("failed").asInt()).isEqualTo(2);
        assertThat(summary.get("errors").get("http_429:rate_limit_exceeded").asInt()).isEqualTo(2);
        assertThat(summary.get("errors").size()).isEqualTo(1);
        List<JsonNode> failed = new ArrayList<>();
        r.json().get("requests").forEach(req -> {
            if (!req.get("error").isNull()) {
                failed.add(req.get("error"));
            }
        });
        assertThat(failed).hasSize(2).allSatisfy(e -> {
            assertThat(e.get("status").asInt()).isEqualTo(429);
            assertThat(e.get("type").asString()).isEqualTo("rate_limit_exceeded");
            assertThat(e.get("message").asString()).isEqualTo("tenant over its rate");
        });
        assertThat(r.out()).contains("Failed requests:                         2").contains("http_429:rate_limit_exceeded");
    }

    @Test
    void stalledStream_timesOut_andErrorMidStream_isCounted() {
        mode = Mode.STALL;
        Run stalled = run("--url", url, "--model", "m", "-c", "1", "-n", "1", "--warmup", "0", "--timeout", "300ms",
                "--input-len", "4", "--output-len", "4");
        assertThat(stalled.exitCode()).as("all measured requests failed").isEqualTo(1);
        assertThat(stalled.err()).contains("all 1 measured requests failed");
        assertThat(stalled.json().get("summary").get("errors").get("timeout").asInt()).isEqualTo(1);
        assertThat(stalled.json().get("summary").get("duration_s").asDouble()).isLessThan(5);

        mode = Mode.BREAK_MID_STREAM;
        Run broken = run("--url", url, "--model", "m", "-c", "1", "-n", "2", "--warmup", "0", "--input-len", "4", "--output-len", "4");
        assertThat(broken.json().get("summary").get("errors").get("stream:server_error").asInt()).isEqualTo(2);
    }

    @Test
    void sharedPrefix_keysPerTenant_sendsEachTenantsKey_andBreaksDownPerTenant() throws IOException {
        mode = Mode.EVERY_THIRD_429;
        Path keys = dir.resolve("keys.txt");
        java.nio.file.Files.writeString(keys, "# tenant=key\nacme=sk-acme\nglobex=sk-globex\n\ninitech = sk-initech\n");
        Run r = run("--url", url, "--model", "m", "--workload", "shared-prefix", "--api-keys-file", keys.toString(),
                "--shared-prefix-len", "8", "--system-prompt-len", "16:32", "--question-len", "4", "--output-len", "4",
                "-c", "3", "-n", "30", "--warmup", "0", "--slo-ttft-ms", "60000", "--slo-tpot-ms", "60000");
        assertThat(r.exitCode()).as(r.err()).isZero();

        // each request went with the key of the tenant whose system prompt it carries
        assertThat(bodies).hasSize(30).allSatisfy(body -> {
            String system = body.get("messages").get(0).get("content").asString();
            String tenant = system.substring(system.indexOf("Tenant ") + 7, system.indexOf(". ", system.indexOf("Tenant ")));
            assertThat(body.get("_authorization").asString()).isEqualTo("Bearer sk-" + tenant);
        });
        JsonNode summary = r.json().get("summary");
        JsonNode tenants = summary.get("tenants");
        assertThat(tenants.propertyNames()).containsExactlyInAnyOrder("acme", "globex", "initech");
        int completed = 0;
        int failed = 0;
        for (String t : tenants.propertyNames()) {
            JsonNode figures = tenants.get(t);
            completed += figures.get("completed").asInt();
            failed += figures.get("failed").asInt();
            if (figures.get("completed").asInt() > 0) {
                assertThat(figures.get("median_ttft_ms").asDouble()).isGreaterThanOrEqualTo(TTFT_DELAY_MS);
                assertThat(figures.get("p99_ttft_ms").asDouble()).isGreaterThanOrEqualTo(figures.get("median_ttft_ms").asDouble());
                assertThat(figures.get("prefix_cache_hit_rate").asDouble()).isEqualTo(6.0 / 9);
            }
        }
        assertThat(completed).isEqualTo(20);
        assertThat(failed).isEqualTo(10);
        assertThat(summary.get("errors").get("http_429:rate_limit_exceeded").asInt()).isEqualTo(10);
        // the instance's counters, scraped before and after: 3 hits per 4 queries
        assertThat(summary.get("prefix_cache_hit_rate").asDouble()).isEqualTo(0.75);
        assertThat(summary.get("prefix_cache_hit_rate_source").asString()).isEqualTo("prometheus");
        assertThat(summary.get("prefix_cache_hit_rate_usage").asDouble()).isEqualTo(6.0 / 9);
        // generous SLOs: every completed request is good, failed ones are not
        assertThat(summary.get("goodput").get("fraction").asDouble()).isEqualTo(20.0 / 30);
        assertThat(summary.get("goodput").get("slo_ttft_ms").asDouble()).isEqualTo(60000);
        assertThat(summary.get("fluidity_index").get("mean").asDouble()).isEqualTo(1.0);
        assertThat(summary.get("sender_lag").get("fell_behind").asBoolean()).isFalse();
        JsonNode config = r.json().get("config");
        assertThat(config.get("workload").asString()).isEqualTo("shared-prefix");
        assertThat(config.get("arrival").asString()).isEqualTo("closed");
        assertThat(config.get("workload_params").get("tenants").size()).isEqualTo(3);
        for (JsonNode req : r.json().get("requests")) {
            assertThat(req.get("tenant").asString()).isIn("acme", "globex", "initech");
            if (req.get("error").isNull()) {
                assertThat(req.get("cached_tokens").asInt()).isEqualTo(6);
            } else {
                assertThat(req.get("cached_tokens").isNull()).isTrue();
            }
        }
    }

    @Test
    void noMetricsEndpoint_hitRateFromUsage_andNoSlo_goodputIsCompletedRate() {
        prometheus = false;
        Run r = run("--url", url, "--model", "m", "-c", "2", "-n", "4", "--warmup", "0", "--input-len", "4", "--output-len", "4");
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode summary = r.json().get("summary");
        assertThat(summary.get("prefix_cache_hit_rate").asDouble()).isEqualTo(6.0 / 9);
        assertThat(summary.get("prefix_cache_hit_rate_source").asString()).isEqualTo("usage");
        assertThat(summary.get("goodput").get("slo_ttft_ms").isNull()).isTrue();
        assertThat(summary.get("goodput").get("fraction").asDouble()).isEqualTo(1.0);
        assertThat(summary.get("fluidity_index").get("mean").isNull()).isTrue();
        assertThat(summary.get("tenants").isEmpty()).isTrue();
        assertThat(r.json().get("requests").get(0).get("tenant").isNull()).isTrue();
    }

    @Test
    void trace_replaysTimestamps_andSkipsMalformedLinesNamingThem() throws IOException {
        Path trace = dir.resolve("trace.jsonl");
        java.nio.file.Files.writeString(trace, String.join("\n",
                "{\"timestamp_ms\": 1000, \"tenant\": \"a\", \"prompt\": \"one two three\", \"max_tokens\": 3}",
                "{\"timestamp_ms\": 1300, \"messages\": [{\"role\": \"user\", \"content\": \"hello there\"}]}",
                "{\"timestamp_ms\": 1400, \"prompt\": ",
                "{\"timestamp_ms\": 1600, \"tenant\": \"b\", \"messages\": [{\"role\": \"system\", \"content\": \"be brief\"},"
                        + " {\"role\": \"user\", \"content\": \"why\"}]}"));
        Run r = run("--url", url, "--model", "m", "--workload", "trace", "--trace", trace.toString(), "--output-len", "5");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains(trace + ":3: not JSON");
        JsonNode config = r.json().get("config");
        assertThat(config.get("arrival").asString()).isEqualTo("trace");
        assertThat(config.get("workload_params").get("num_skipped_lines").asInt()).isEqualTo(1);
        JsonNode requests = r.json().get("requests");
        assertThat(requests.size()).isEqualTo(3);
        double[] expectedMs = {0, 300, 600};
        for (int i = 0; i < 3; i++) {
            assertThat(requests.get(i).get("send_ms").asDouble()).isBetween(expectedMs[i], expectedMs[i] + 100);
        }
        assertThat(requests.get(0).get("tenant").asString()).isEqualTo("a");
        assertThat(requests.get(1).get("tenant").isNull()).isTrue();
        assertThat(requests.get(2).get("tenant").asString()).isEqualTo("b");
        List<JsonNode> sent = new ArrayList<>(bodies);
        sent.sort(java.util.Comparator.comparingInt(b -> b.get("messages").size()));
        assertThat(sent.get(2).get("messages").get(0).get("content").asString()).isEqualTo("be brief");
        assertThat(bodies).anySatisfy(b -> assertThat(b.get("max_tokens").asInt()).isEqualTo(3));
        assertThat(bodies).filteredOn(b -> b.get("max_tokens").asInt() == 5).hasSize(2);
    }

    @Test
    void apiKeysFile_missingATenantOfTheTrace_isRefusedNamingIt() throws IOException {
        Path keys = dir.resolve("keys.txt");
        java.nio.file.Files.writeString(keys, "a=sk-a\n");
        Path trace = dir.resolve("t.jsonl");
        java.nio.file.Files.writeString(trace, "{\"timestamp_ms\": 0, \"tenant\": \"a\", \"prompt\": \"x\"}\n"
                + "{\"timestamp_ms\": 10, \"tenant\": \"b\", \"prompt\": \"y\"}\n");
        Run r = run("--url", url, "--model", "m", "--workload", "trace", "--trace", trace.toString(), "--api-keys-file", keys.toString());
        assertThat(r.exitCode()).isNotZero();
        assertThat(r.err()).contains("no API key for tenant(s) [b]");
        assertThat(numRequests.get()).isZero();
    }

    @Test
    void bursts_sendEachBurstAtOnce_atTheMeanRate() {
        Run r = run("--url", url, "--model", "m", "--request-rate", "10", "--arrival", "burst", "--burst-size", "3", "-n", "6",
                "--input-len", "4", "--output-len", "4");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.json().get("config").get("arrival").asString()).isEqualTo("burst");
        assertThat(r.json().get("config").get("burst_size").asInt()).isEqualTo(3);
        JsonNode requests = r.json().get("requests");
        for (int i = 0; i < 6; i++) {
            double sendMs = requests.get(i).get("send_ms").asDouble();
            if (i < 3) {
                assertThat(sendMs).isLessThan(100);
            } else {
                assertThat(sendMs).isBetween(300.0, 400.0);
            }
        }
    }

    @Test
    void completionsWithIds_openLoop_sendsIdsAtTheRate() {
        Run r = run("--url", url, "--model", "m", "--api", "completions", "--prompt-ids", "--vocab-size", "1000",
                "--request-rate", "inf", "--max-concurrency", "3", "-n", "6", "--input-len", "10", "--output-len", "4");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.json().get("summary").get("completed").asInt()).isEqualTo(6);
        assertThat(r.json().get("config").get("request_rate").asString()).isEqualTo("inf");
        assertThat(maxInFlight.get()).isLessThanOrEqualTo(3);
        assertThat(numRequests.get()).isEqualTo(6 + 3); // warm-up defaults to --max-concurrency
        assertThat(bodies).allSatisfy(body -> {
            assertThat(body.get("prompt").isArray()).isTrue();
            assertThat(body.get("prompt").size()).isEqualTo(10);
        });
        assertThat(r.json().get("summary").get("mean_ttft_ms").asDouble()).isGreaterThanOrEqualTo(TTFT_DELAY_MS);
    }

    @Test
    void unreachableTarget_failsAtOnceWithOneLine() throws IOException {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        Run r = run("--url", "http://127.0.0.1:" + closedPort, "--model", "m", "-c", "2", "-n", "3", "--warmup", "0");
        assertThat(r.exitCode()).isNotZero();
        assertThat(r.err()).contains("cannot reach http://127.0.0.1:" + closedPort).contains("is the server up");
        assertThat(r.json()).isNull();
    }

    @Test
    void serverThatDropsEveryConnection_countsConnectionErrors_andExitsNonZero() throws IOException {
        try (ServerSocket dropping = new ServerSocket(0)) {
            Thread.ofVirtual().start(() -> {
                while (!dropping.isClosed()) {
                    try {
                        dropping.accept().close();
                    } catch (IOException e) {
                        return;
                    }
                }
            });
            Run r = run("--url", "http://127.0.0.1:" + dropping.getLocalPort(), "--model", "m", "-c", "2", "-n", "3", "--warmup", "0");
            assertThat(r.exitCode()).isEqualTo(1);
            assertThat(r.json().get("summary").get("failed").asInt()).isEqualTo(3);
            assertThat(r.json().get("summary").get("errors").propertyNames()).singleElement().asString().startsWith("connection:");
        }
    }

    @Test
    void options_conflictingOrMisplaced_areRejectedWithTheFix() {
        assertThat(plan("--concurrency", "4", "--request-rate", "2")).contains("exclude each other");
        assertThat(plan("--concurrency", "4", "--max-concurrency", "2")).contains("open loop only");
        assertThat(plan("--concurrency", "0")).contains("--concurrency 0");
        BenchServingCommand defaults = new BenchServingCommand();
        new CommandLine(defaults).parseArgs("--concurrency", "64");
        assertThat(defaults.plan()).isEqualTo(new LoadRunner.Plan(64, 0, 0, 256, null, 64, 0));
        BenchServingCommand timed = new BenchServingCommand();
        new CommandLine(timed).parseArgs("--request-rate", "inf", "--duration", "1m");
        assertThat(timed.plan()).isEqualTo(new LoadRunner.Plan(0, Double.POSITIVE_INFINITY, 0, -1, java.time.Duration.ofMinutes(1), 0, 0));
        assertThat(plan("--arrival", "burst")).contains("--arrival burst needs --request-rate");
        assertThat(plan("--arrival", "trace")).contains("give --workload trace --trace FILE");
        assertThat(plan("--workload", "trace", "-c", "2", "--arrival", "trace")).contains("--arrival trace is an open loop");
        assertThat(plan("--request-rate", "inf", "--arrival", "burst")).contains("finite --request-rate");
        BenchServingCommand trace = new BenchServingCommand();
        new CommandLine(trace).parseArgs("--workload", "trace");
        assertThat(trace.plan().arrival()).isEqualTo(LoadRunner.Arrival.trace);
        assertThat(trace.plan().numWarmup()).isZero();
        BenchServingCommand bursts = new BenchServingCommand();
        new CommandLine(bursts).parseArgs("--request-rate", "4", "--arrival", "burst", "--burst-size", "5");
        assertThat(bursts.plan()).isEqualTo(new LoadRunner.Plan(0, 4, 0, 1000, null, 0, 0, LoadRunner.Arrival.burst, 5));
        Run ids = run("--url", url, "--model", "m", "--prompt-ids");
        assertThat(ids.exitCode()).isNotZero();
        assertThat(ids.err()).contains("--api completions");
    }

    private static String plan(String... args) {
        BenchServingCommand command = new BenchServingCommand();
        new CommandLine(command).parseArgs(args);
        try {
            command.plan();
            return "";
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
    }
}
