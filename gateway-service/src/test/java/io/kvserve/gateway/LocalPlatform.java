package io.kvserve.gateway;

import io.kvserve.common.model.gen.ModelGenerator;
import io.kvserve.common.model.gen.ModelPreset;
import io.kvserve.kvshare.KvshareApplication;
import io.kvserve.scheduler.SchedulerApplication;
import java.io.IOException;
import java.net.ServerSocket;
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
import java.util.Map;
import java.util.UUID;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The whole platform for end-to-end tests, all of it real: kvshare, the scheduler and the gateway in
 * this JVM (closed together at the end: Spring Boot servers in one JVM share Reactor Netty's loops),
 * and each inference instance as its own JVM process, so a test can kill one the hard way.
 */
final class LocalPlatform implements AutoCloseable {

    static final String OPERATOR_TOKEN = "test-operator-" + UUID.randomUUID();

    final String run = UUID.randomUUID().toString().substring(0, 8);
    final String model = "gw-" + run;
    final String redisUrl;
    final Path modelFile;
    private final Path dir;
    private final Map<String, Process> instances = new LinkedHashMap<>();
    private final Map<String, Integer> instancePorts = new LinkedHashMap<>();
    private final List<ConfigurableApplicationContext> contexts = new ArrayList<>();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    String schedulerUrl;
    String gatewayUrl;

    LocalPlatform(String redisUrl, Path dir) throws IOException {
        this.redisUrl = redisUrl;
        this.dir = dir;
        this.modelFile = dir.resolve(model + ".gguf");
        new ModelGenerator(ModelPreset.TINY, 7).writeGguf(modelFile, ModelGenerator.WeightType.F32);
    }

    /** Starts an inference instance process on a free port, registered in Redis under {@code id}. */
    void startInstance(String id, String... extraArgs) throws IOException {
        int port = freePort();
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"),
                "io.kvserve.inference.InferenceServerApplication",
                "--server.port=" + port, "--kvserve.engine.model=" + modelFile,
                "--kvserve.engine.threads=1", "--kvserve.engine.max-num-seqs=16",
                "--kvserve.engine.kv-cache.memory=64MB",
                "--kvserve.redis.url=" + redisUrl, "--kvserve.redis.kv-event-stream=kvserve:kv-events:gw-" + run,
                "--kvserve.instance.id=" + id, "--kvserve.instance.advertised-url=http://127.0.0.1:" + port,
                "--kvserve.instance.heartbeat-interval=500ms", "--kvserve.instance.registration-ttl=30s",
                "--kvserve.instance.drain-timeout=1s", "--spring.application.name=gw-test-" + id));
        command.addAll(List.of(extraArgs));
        Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(dir.resolve(id + ".log").toFile()).start();
        instances.put(id, process);
        instancePorts.put(id, port);
    }

    String instanceUrl(String id) {
        return "http://127.0.0.1:" + instancePorts.get(id);
    }

    /** Waits until every started instance answers ready. */
    void awaitInstancesReady() throws Exception {
        for (String id : instances.keySet()) {
            await(() -> {
                if (!instances.get(id).isAlive()) {
                    throw new AssertionError("instance " + id + " exited; its log:\n" + log(id));
                }
                return get(instanceUrl(id) + "/actuator/health/readiness").statusCode() == 200;
            }, "instance " + id + " is ready", Duration.ofSeconds(90));
        }
    }

    long pid(String id) {
        return instances.get(id).pid();
    }

    /** Kills an instance as a crash would: SIGKILL, no drain, no deregistration. */
    void kill(String id) throws InterruptedException {
        Process process = instances.get(id);
        process.destroyForcibly();
        process.waitFor();
    }

    String log(String id) {
        try {
            return Files.readString(dir.resolve(id + ".log"));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    void startServices(String... gatewayArgs) throws Exception {
        String prefix = "kvshare-gw-" + run + ":";
        ConfigurableApplicationContext kvshare = KvshareApplication.create().run("--server.port=0",
                "--kvshare.redis-url=" + redisUrl, "--kvshare.key-prefix=" + prefix,
                "--kvshare.kv-event-stream=kvserve:kv-events:gw-" + run, "--kvshare.consumer-group=gw-" + run,
                "--kvshare.registry-refresh=200ms", "--spring.application.name=gw-test-kvshare");
        contexts.add(kvshare);
        String kvshareUrl = "http://127.0.0.1:" + kvshare.getEnvironment().getProperty("local.server.port");
        ConfigurableApplicationContext scheduler = SchedulerApplication.create().run("--server.port=0",
                "--scheduler.redis-url=" + redisUrl, "--scheduler.kvshare-url=" + kvshareUrl,
                "--scheduler.kvshare-key-prefix=" + prefix, "--scheduler.models." + model + "=" + modelFile,
                "--scheduler.registry-refresh=200ms", "--spring.application.name=gw-test-scheduler");
        contexts.add(scheduler);
        schedulerUrl = "http://127.0.0.1:" + scheduler.getEnvironment().getProperty("local.server.port");
        List<String> args = new ArrayList<>(List.of("--server.port=0", "--gateway.redis.url=" + redisUrl,
                "--gateway.redis.key-prefix=kvserve-test:gw-" + run + ":",
                "--gateway.admin.operator-token=" + OPERATOR_TOKEN, "--gateway.routing.scheduler-url=" + schedulerUrl,
                "--gateway.routing.models-refresh=500ms", "--spring.application.name=gw-test-gateway"));
        args.addAll(List.of(gatewayArgs));
        ConfigurableApplicationContext gateway = GatewayApplication.create().run(args.toArray(String[]::new));
        contexts.add(gateway);
        gatewayUrl = "http://127.0.0.1:" + gateway.getEnvironment().getProperty("local.server.port");
    }

    HttpResponse<String> get(String url) {
        try {
            return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            return new FailedResponse(url, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    interface Check {
        boolean ok() throws Exception;
    }

    static void await(Check condition, String what, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (condition.ok()) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("timed out after " + timeout.toSeconds() + "s waiting until " + what);
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    @Override
    public void close() {
        instances.values().forEach(Process::destroyForcibly);
        for (Process process : instances.values()) {
            try {
                process.waitFor();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        for (int i = contexts.size() - 1; i >= 0; i--) {
            contexts.get(i).close();
        }
    }

    /** A connection that failed, as a response with status 0 (so polling code can keep polling). */
    private record FailedResponse(String url, IOException error) implements HttpResponse<String> {
        @Override public int statusCode() { return 0; }
        @Override public HttpRequest request() { return HttpRequest.newBuilder(URI.create(url)).build(); }
        @Override public java.util.Optional<HttpResponse<String>> previousResponse() { return java.util.Optional.empty(); }
        @Override public java.net.http.HttpHeaders headers() { return java.net.http.HttpHeaders.of(Map.of(), (a, b) -> true); }
        @Override public String body() { return error.toString(); }
        @Override public java.util.Optional<javax.net.ssl.SSLSession> sslSession() { return java.util.Optional.empty(); }
        @Override public URI uri() { return URI.create(url); }
        @Override public HttpClient.Version version() { return HttpClient.Version.HTTP_1_1; }
    }
}
