package io.kvserve.cli.benchserving;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
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
 * The whole command against a running platform (--gateway-url, --instance-url) made of two small
 * fakes: an instance that streams a few chunks, and a gateway that streams the same, keeps the
 * overhead histogram and the open-stream gauge the way the real one exposes them, and has (or lacks)
 * the admin API.
 */
class BenchGatewayEndToEndTest {

    static final int NUM_CHUNKS = 4;

    /** A fake service: an OpenAI streaming endpoint, plus the gateway's metrics and admin API when it plays the gateway. */
    static final class FakeService {
        final HttpServer server;
        final AtomicInteger numStreams = new AtomicInteger();
        final AtomicInteger inFlight = new AtomicInteger();
        final ConcurrentLinkedQueue<String> authorizations = new ConcurrentLinkedQueue<>();
        final ConcurrentLinkedQueue<String> adminCalls = new ConcurrentLinkedQueue<>();
        volatile boolean adminApi = true;
        volatile boolean every3rd429;

        FakeService(boolean gateway) throws IOException {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
            server.createContext("/v1/models", e -> respond(e, 200, "{\"object\":\"list\",\"data\":[{\"id\":\"fake-model\",\"object\":\"model\"}]}"));
            server.createContext("/v1/completions", this::stream);
            if (gateway) {
                server.createContext("/admin/v1/tenants", this::admin);
                server.createContext("/actuator/prometheus", e -> respond(e, 200, prometheus(), "text/plain; version=0.0.4"));
                server.createContext("/actuator/metrics/kvserve.gateway.open.streams", e -> respond(e, 200,
                        "{\"name\":\"kvserve.gateway.open.streams\",\"measurements\":[{\"statistic\":\"VALUE\",\"value\":"
                                + inFlight.get() + ".0}]}"));
            }
            server.start();
        }

        String url() {
            return "http://127.0.0.1:" + server.getAddress().getPort();
        }

        /** Every request so far took 40 us of gateway time, every chunk 20 us: all in the first bucket. */
        private String prometheus() {
            int n = numStreams.get();
            StringBuilder text = new StringBuilder("# TYPE kvserve_gateway_overhead_seconds histogram\n");
            for (String le : new String[] {"5.0E-5", "0.001", "0.002", "+Inf"}) {
                text.append("kvserve_gateway_overhead_seconds_bucket{application=\"kvserve-gateway\",phase=\"request\",le=\"")
                        .append(le).append("\"} ").append(n).append('\n');
                text.append("kvserve_gateway_overhead_seconds_bucket{application=\"kvserve-gateway\",phase=\"chunk\",le=\"")
                        .append(le).append("\"} ").append(n * NUM_CHUNKS).append('\n');
            }
            return text.toString();
        }

        private void admin(HttpExchange exchange) throws IOException {
            adminCalls.add(exchange.getRequestMethod() + " " + exchange.getRequestURI().getPath() + " "
                    + exchange.getRequestHeaders().getFirst("Authorization"));
            exchange.getRequestBody().readAllBytes();
            if (!adminApi) {
                respond(exchange, 404, "{\"error\":{\"message\":\"not found\",\"type\":\"invalid_request_error\"}}");
            } else if (exchange.getRequestURI().getPath().endsWith("/keys")) {
                respond(exchange, 201, "{\"id\":\"key_1\",\"key\":\"sk-made-by-admin\"}");
            } else {
                respond(exchange, 201, "{\"id\":\"t\"}");
            }
        }

        private void stream(HttpExchange exchange) throws IOException {
            inFlight.incrementAndGet();
            try {
                exchange.getRequestBody().readAllBytes();
                String auth = exchange.getRequestHeaders().getFirst("Authorization");
                authorizations.add(auth == null ? "" : auth);
                int n = numStreams.incrementAndGet();
                if (every3rd429 && n % 3 == 0) {
                    respond(exchange, 429, "{\"error\":{\"message\":\"slow down\",\"type\":\"rate_limit_exceeded\"}}");
                    return;
                }
                exchange.getResponseHeaders().set("Content-Type", "text/event-stream");
                exchange.sendResponseHeaders(200, 0);
                try (OutputStream out = exchange.getResponseBody()) {
                    for (int i = 0; i < NUM_CHUNKS; i++) {
                        Thread.sleep(30); // a round lasts ~300 ms: the 100 ms sampler sees streams open
                        event(out, "{\"object\":\"text_completion\",\"choices\":[{\"index\":0,\"text\":\" tok" + i + "\"}]}");
                    }
                    event(out, "{\"object\":\"text_completion\",\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":"
                            + NUM_CHUNKS + ",\"total_tokens\":13}}");
                    event(out, "[DONE]");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                inFlight.decrementAndGet();
                exchange.close();
            }
        }

        void stop() {
            server.stop(0);
        }

        private static void event(OutputStream out, String data) throws IOException {
            out.write(("data: " + data + "\n\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
        }

        private static void respond(HttpExchange exchange, int status, String body) throws IOException {
            respond(exchange, status, body, "application/json");
        }

        private static void respond(HttpExchange exchange, int status, String body, String contentType) throws IOException {
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", contentType);
            exchange.sendResponseHeaders(status, bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    FakeService gateway;
    FakeService instance;

    @TempDir
    Path dir;

    @BeforeEach
    void start() throws IOException {
        gateway = new FakeService(true);
        instance = new FakeService(false);
    }

    @AfterEach
    void stop() {
        gateway.stop();
        instance.stop();
    }

    record Run(int exitCode, String out, String err, JsonNode json) {
    }

    private Run run(String... extra) {
        Path json = dir.resolve("result-" + System.nanoTime() + ".json");
        List<String> args = new ArrayList<>(List.of("--gateway-url", gateway.url(), "--instance-url", instance.url(),
                "--concurrency", "3", "--num-requests", "6", "--warmup", "2", "--rounds", "2", "--json", json.toString()));
        args.addAll(List.of(extra));
        CommandLine cli = new CommandLine(new BenchGatewayCommand());
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int code = cli.execute(args.toArray(String[]::new));
        JsonNode node = json.toFile().exists() ? JsonMapper.builder().build().readTree(json.toFile()) : null;
        return new Run(code, out.toString(), err.toString(), node);
    }

    @Test
    void runningPlatform_withAdminApi_makesAKeyAndComparesBothRoutes() {
        Run r = run("--operator-token", "op-token");

        assertThat(r.exitCode()).as(r.out() + r.err()).isZero();
        assertThat(gateway.adminCalls).hasSize(2).allMatch(call -> call.startsWith("POST /admin/v1/tenants")
                && call.endsWith("Bearer op-token"));
        assertThat(gateway.adminCalls).anyMatch(call -> call.contains("/keys"));
        assertThat(gateway.authorizations).containsOnly("Bearer sk-made-by-admin");
        assertThat(instance.authorizations).containsOnly("");
        // per route: one probe, the warm-up, two rounds
        assertThat(gateway.numStreams.get()).isEqualTo(1 + 2 + 2 * 6);
        assertThat(instance.numStreams.get()).isEqualTo(1 + 2 + 2 * 6);

        JsonNode routes = r.json().get("routes");
        assertThat(routes.get("gateway").get("completed").asInt()).isEqualTo(12);
        assertThat(routes.get("direct").get("completed").asInt()).isEqualTo(12);
        assertThat(routes.get("gateway").get("total_output_tokens").asInt()).isEqualTo(12 * NUM_CHUNKS);
        assertThat(r.json().get("rounds").size()).isEqualTo(4);
        assertThat(r.json().get("rounds").get(0).get("route").asString()).isEqualTo("gateway");
        assertThat(r.json().get("rounds").get(1).get("route").asString()).isEqualTo("direct");
        // the overhead counts only what the measured gateway rounds added (not the probe nor the warm-up)
        JsonNode overhead = r.json().get("gateway_overhead");
        assertThat(overhead.get("request").get("count").asInt()).isEqualTo(12);
        assertThat(overhead.get("chunk").get("count").asInt()).isEqualTo(12 * NUM_CHUNKS);
        assertThat(overhead.get("request").get("p99_ms_from_buckets").asDouble()).isBetween(0.0, 0.05);
        assertThat(overhead.get("chunk").get("share_at_or_below_2ms").asDouble()).isEqualTo(1.0);
        assertThat(r.json().get("peak_open_streams").asInt()).isBetween(1, 3);
        assertThat(r.out()).contains("gateway - direct").contains("request").contains("chunk")
                .contains("Errors: none").contains("Target (gateway overhead p99 < 2 ms per request and per chunk at 3 streams, no errors): met");
    }

    @Test
    void runningPlatform_gatewayWithoutAdminApi_warnsAndUsesTheStandInKey() {
        gateway.adminApi = false;
        Run r = run("--operator-token", "op-token");

        assertThat(r.exitCode()).as(r.out() + r.err()).isZero();
        assertThat(r.out()).contains("WARNING: the gateway has no admin API");
        assertThat(gateway.authorizations).containsOnly("Bearer sk-bench-unauthenticated");
    }

    @Test
    void runningPlatform_givenKey_usesItWithoutTheAdminApi() {
        Run r = run("--api-key", "sk-given");

        assertThat(r.exitCode()).as(r.out() + r.err()).isZero();
        assertThat(gateway.adminCalls).isEmpty();
        assertThat(gateway.authorizations).containsOnly("Bearer sk-given");
    }

    @Test
    void runningPlatform_gatewayRefusesSomeRequests_exitsOneAndCountsThemByType() {
        Run r = run("--api-key", "sk-given");
        assertThat(r.exitCode()).isZero();
        gateway.every3rd429 = true;
        gateway.numStreams.set(0);

        // the probe is the first request and passes; the refused ones come later
        Run refused = run("--api-key", "sk-given");
        assertThat(refused.exitCode()).isEqualTo(1);
        assertThat(refused.json().get("routes").get("gateway").get("errors").get("http_429:rate_limit_exceeded").asInt()).isPositive();
        assertThat(refused.json().get("routes").get("direct").get("failed").asInt()).isZero();
        assertThat(refused.out()).contains("http_429:rate_limit_exceeded").contains("NOT met");
    }
}
