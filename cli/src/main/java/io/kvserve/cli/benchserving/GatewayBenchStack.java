package io.kvserve.cli.benchserving;

import io.kvserve.common.model.gen.ModelGenerator;
import io.kvserve.common.model.gen.ModelPreset;
import io.kvserve.gateway.GatewayApplication;
import io.kvserve.kvshare.KvshareApplication;
import io.kvserve.scheduler.SchedulerApplication;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The platform {@code bench-gateway} measures, brought up on this machine: a generated tiny model, one
 * inference instance as a child JVM (the engine has its own process and heap, as in production),
 * kvshare, the scheduler and the gateway in this JVM (Spring Boot servers in one JVM share Reactor
 * Netty's event loops, as the gateway's own end-to-end tests run them). Everything is named after a
 * random run id (model name, Redis key prefixes, the KV event stream, the instance id), so a run
 * never mixes with other data on the same Redis. Closing stops the instance and the services.
 */
final class GatewayBenchStack implements AutoCloseable {

    /**
     * What the benchmark needs of a running platform.
     *
     * @param gatewayUrl  the gateway, without {@code /v1}
     * @param instanceUrl the inference instance behind it, without {@code /v1} (the direct path)
     * @param model       the model name both serve
     */
    record Endpoints(URI gatewayUrl, URI instanceUrl, String model) {
    }

    /**
     * The instance's shape.
     *
     * @param maxNumSeqs          sequences running at once; the rest of the streams wait in its queue
     * @param maxNumBatchedTokens token budget per engine step
     * @param engineThreads       matmul threads
     * @param maxNumWaiting       queued requests the instance accepts before answering 429
     */
    record InstanceShape(int maxNumSeqs, int maxNumBatchedTokens, int engineThreads, int maxNumWaiting) {
    }

    final String run = UUID.randomUUID().toString().substring(0, 8);
    final String model = "bench-gw-" + run;
    final String operatorToken = "bench-operator-" + UUID.randomUUID();
    private final String internalToken = "bench-internal-" + UUID.randomUUID();
    private final Path dir;
    private final List<ConfigurableApplicationContext> contexts = new ArrayList<>();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private Process instance;

    private GatewayBenchStack(Path dir) {
        this.dir = dir;
    }

    /** Brings the platform up; progress lines go to {@code log}. On failure, what was started is stopped. */
    static GatewayBenchStack start(String redisUrl, InstanceShape shape, int concurrency, PrintWriter log) throws Exception {
        GatewayBenchStack stack = new GatewayBenchStack(Files.createTempDirectory("kvserve-bench-gateway-"));
        try {
            stack.startAll(redisUrl, shape, concurrency, log);
            return stack;
        } catch (Exception | Error e) {
            stack.close();
            throw e;
        }
    }

    private Endpoints endpoints;

    Endpoints endpoints() {
        return endpoints;
    }

    /** Where the model, the instance's log and the services' log are. */
    Path dir() {
        return dir;
    }

    private void startAll(String redisUrl, InstanceShape shape, int concurrency, PrintWriter log) throws Exception {
        Path modelFile = dir.resolve(model + ".gguf");
        new ModelGenerator(ModelPreset.TINY, 1).writeGguf(modelFile, ModelGenerator.WeightType.F32);
        log.printf("bench-gateway: run %s in %s: model %s (preset tiny), Redis %s%n", run, dir, model, redisUrl);
        log.flush();

        int instancePort = freePort();
        URI instanceUrl = URI.create("http://127.0.0.1:" + instancePort);
        instance = startInstance(modelFile, instancePort, redisUrl, shape);

        String kvsharePrefix = "kvshare-bench-gw-" + run + ":";
        String eventStream = "kvserve:kv-events:bench-gw-" + run;
        ConfigurableApplicationContext kvshare = startService(KvshareApplication.create(), "--kvshare.redis-url=" + redisUrl,
                "--kvshare.key-prefix=" + kvsharePrefix, "--kvshare.kv-event-stream=" + eventStream,
                "--kvshare.consumer-group=bench-gw-" + run, "--kvshare.registry-refresh=200ms",
                "--spring.application.name=bench-gw-kvshare");
        URI kvshareUrl = localUrl(kvshare);
        // no admission queueing in the scheduler: the instance queues what it cannot run, on both paths alike
        ConfigurableApplicationContext scheduler = startService(SchedulerApplication.create(),
                "--scheduler.redis-url=" + redisUrl, "--scheduler.kvshare-url=" + kvshareUrl,
                "--scheduler.kvshare-key-prefix=" + kvsharePrefix, "--scheduler.models." + model + "=" + modelFile,
                "--scheduler.registry-refresh=200ms", "--scheduler.max-load=" + (shape.maxNumWaiting() + shape.maxNumSeqs()),
                "--scheduler.max-kv-usage=1.0", "--spring.application.name=bench-gw-scheduler");
        URI schedulerUrl = localUrl(scheduler);
        // one upstream connection and one bulkhead permit per open stream, with room to spare
        int numUpstream = Math.max(4096, 2 * concurrency);
        ConfigurableApplicationContext gateway = startService(GatewayApplication.create(),
                "--gateway.redis.url=" + redisUrl, "--gateway.redis.key-prefix=kvserve-bench:gw-" + run + ":",
                "--gateway.admin.operator-token=" + operatorToken, "--gateway.routing.scheduler-url=" + schedulerUrl,
                "--gateway.routing.internal-token=" + internalToken, "--gateway.routing.models-refresh=500ms",
                "--gateway.routing.max-connections-per-instance=" + numUpstream,
                "--resilience4j.bulkhead.configs.default.max-concurrent-calls=" + numUpstream,
                "--spring.application.name=bench-gw-gateway");
        URI gatewayUrl = localUrl(gateway);
        log.printf("bench-gateway: instance %s (pid %d, log %s), kvshare %s, scheduler %s, gateway %s%n", instanceUrl,
                instance.pid(), dir.resolve("instance.log"), kvshareUrl, schedulerUrl, gatewayUrl);
        log.flush();

        await(() -> {
            if (!instance.isAlive()) {
                throw new IllegalStateException("the inference instance exited (code " + instance.exitValue()
                        + "); its log: " + dir.resolve("instance.log"));
            }
            return status(instanceUrl.resolve("/actuator/health/readiness")) == 200;
        }, "the inference instance is ready", Duration.ofSeconds(120));
        endpoints = new Endpoints(gatewayUrl, instanceUrl, model);
    }

    private Process startInstance(Path modelFile, int port, String redisUrl, InstanceShape shape) throws IOException {
        // the instance as `bin/kvserve serve` runs it (same JVM options), on this launcher's classpath
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector",
                "-XX:+UseSerialGC", "-Xmn8m", "-Xmx2g",
                "-cp", System.getProperty("java.class.path"),
                "io.kvserve.cli.KvserveCli", "serve",
                "--model", modelFile.toString(), "--port", Integer.toString(port), "--host", "127.0.0.1",
                "--threads", Integer.toString(shape.engineThreads()),
                "--max-num-seqs", Integer.toString(shape.maxNumSeqs()),
                "--max-num-batched-tokens", Integer.toString(shape.maxNumBatchedTokens()),
                // both paths send the same prompts in a round: no path may find the other's prefixes cached
                "--no-prefix-caching",
                "--redis-url", redisUrl, "--instance-id", "bench-gw-" + run,
                "--set", "kvserve.engine.max-num-waiting=" + shape.maxNumWaiting(),
                "--set", "kvserve.redis.kv-event-stream=kvserve:kv-events:bench-gw-" + run,
                "--set", "kvserve.instance.advertised-url=http://127.0.0.1:" + port,
                "--set", "kvserve.instance.heartbeat-interval=500ms",
                "--set", "kvserve.instance.internal-token=" + internalToken,
                "--set", "kvserve.instance.drain-timeout=1s",
                "--set", "spring.application.name=bench-gw-instance"));
        return new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(dir.resolve("instance.log").toFile()).start();
    }

    /** Starts one service in this JVM on a free port, its log in the run's services.log. */
    private ConfigurableApplicationContext startService(SpringApplication app, String... args) {
        // the services' logs go to a file: the benchmark's output is the table
        List<String> all = new ArrayList<>(List.of("--server.port=0", "--logging.threshold.console=OFF",
                "--logging.file.name=" + dir.resolve("services.log")));
        all.addAll(List.of(args));
        ConfigurableApplicationContext context = app.run(all.toArray(String[]::new));
        contexts.add(context);
        return context;
    }

    private static URI localUrl(ConfigurableApplicationContext context) {
        return URI.create("http://127.0.0.1:" + context.getEnvironment().getProperty("local.server.port"));
    }

    private int status(URI url) {
        try {
            return http.send(HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(5)).GET().build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return 0;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    interface Check {
        boolean ok() throws Exception;
    }

    static void await(Check condition, String what, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() - deadline < 0) {
            if (condition.ok()) {
                return;
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("timed out after " + timeout.toSeconds() + " s waiting until " + what);
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    @Override
    public void close() {
        if (instance != null) {
            instance.destroy();
            try {
                if (!instance.waitFor(10, TimeUnit.SECONDS)) {
                    instance.destroyForcibly().waitFor();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                instance.destroyForcibly();
            }
        }
        for (int i = contexts.size() - 1; i >= 0; i--) {
            contexts.get(i).close();
        }
        http.close();
    }
}
