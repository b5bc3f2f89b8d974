package io.kvserve.cli.benchserving;

import io.kvserve.common.model.gen.ModelGenerator;
import io.kvserve.common.model.gen.ModelPreset;
import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.RedisClient;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * The platform {@code bench-gateway} measures, brought up on this machine: a generated tiny model and
 * four child JVMs started as {@code bin/kvserve} starts them ({@code serve}, {@code kvshare},
 * {@code scheduler}, {@code gateway}, each with the launcher's JVM options for that command), so each
 * service has its own heap, collector and event loops as in production, and the load generator in
 * this JVM shares none of them. Only the CPU is shared, which on a small machine is the point to keep
 * in mind when reading the figures. Everything is named after a random run id (model name, Redis key
 * prefixes, the KV event stream, the instance id), so a run never mixes with other data on the same
 * Redis, and closing stops the four processes and then deletes every key with the run id in its name.
 */
final class GatewayBenchStack implements AutoCloseable {

    /**
     * What the benchmark needs of a running platform.
     *
     * @param gatewayUrl  the gateway, without {@code /v1}
     * @param instanceUrl the inference instance behind it, without {@code /v1} (the direct path)
     * @param model       the model name both serve
     * @param schedulerUrl the scheduler, whose placement latency is part of the gateway route's TTFT; null when unknown
     * @param kvshareUrl  kvshare, which the scheduler asks for prefix hits; null when unknown
     */
    record Endpoints(URI gatewayUrl, URI instanceUrl, String model, URI schedulerUrl, URI kvshareUrl) {
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
    private final Map<String, Process> processes = new LinkedHashMap<>();
    private String redisUrl;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    /** Ctrl-C (or SIGTERM) of the launcher must not leave four JVMs behind. */
    private final Thread stopOnExit = new Thread(this::close, "bench-gateway-stop");
    private boolean closed;

    private GatewayBenchStack(Path dir) {
        this.dir = dir;
    }

    /** Brings the platform up; progress lines go to {@code log}. On failure, what was started is stopped. */
    static GatewayBenchStack start(String redisUrl, InstanceShape shape, int concurrency, PrintWriter log) throws Exception {
        GatewayBenchStack stack = new GatewayBenchStack(Files.createTempDirectory("kvserve-bench-gateway-"));
        Runtime.getRuntime().addShutdownHook(stack.stopOnExit);
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

    /**
     * JVM options of the engine's and the control-plane services' processes: bin/kvserve's default
     * (the serial collector with an 8 MB young generation, chosen for the engine's long-lived arrays).
     */
    private static final List<String> SERVICE_JVM_OPTIONS = List.of("-XX:+UseSerialGC", "-Xmn8m");
    /**
     * JVM options of the gateway's process: bin/kvserve's for {@code gateway} (G1: a stream's buffers
     * live for seconds, which an 8 MB young generation promotes wholesale).
     */
    private static final List<String> GATEWAY_JVM_OPTIONS = List.of("-XX:+UseG1GC");

    private void startAll(String redisUrl, InstanceShape shape, int concurrency, PrintWriter log) throws Exception {
        this.redisUrl = redisUrl;
        Path modelFile = dir.resolve(model + ".gguf");
        new ModelGenerator(ModelPreset.TINY, 1).writeGguf(modelFile, ModelGenerator.WeightType.F32);
        log.printf("bench-gateway: run %s in %s: model %s (preset tiny), Redis %s%n", run, dir, model, redisUrl);
        log.flush();

        URI instanceUrl = localUrl(freePort());
        URI kvshareUrl = localUrl(freePort());
        URI schedulerUrl = localUrl(freePort());
        URI gatewayUrl = localUrl(freePort());
        String kvsharePrefix = "kvshare-bench-gw-" + run + ":";
        String eventStream = "kvserve:kv-events:bench-gw-" + run;
        start("instance", SERVICE_JVM_OPTIONS, "serve",
                "--model", modelFile.toString(), "--port", port(instanceUrl), "--host", "127.0.0.1",
                "--threads", Integer.toString(shape.engineThreads()),
                "--max-num-seqs", Integer.toString(shape.maxNumSeqs()),
                "--max-num-batched-tokens", Integer.toString(shape.maxNumBatchedTokens()),
                // both routes send the same prompts in a round: neither may find the other's prefixes cached
                "--no-prefix-caching",
                "--redis-url", redisUrl, "--instance-id", "bench-gw-" + run,
                "--set", "kvserve.engine.max-num-waiting=" + shape.maxNumWaiting(),
                "--set", "kvserve.redis.kv-event-stream=" + eventStream,
                "--set", "kvserve.instance.advertised-url=" + instanceUrl,
                "--set", "kvserve.instance.heartbeat-interval=500ms",
                "--set", "kvserve.instance.internal-token=" + internalToken,
                "--set", "kvserve.instance.drain-timeout=1s");
        start("kvshare", SERVICE_JVM_OPTIONS, "kvshare", "--port", port(kvshareUrl), "--redis-url", redisUrl,
                "--set", "kvshare.key-prefix=" + kvsharePrefix, "--set", "kvshare.kv-event-stream=" + eventStream,
                "--set", "kvshare.consumer-group=bench-gw-" + run, "--set", "kvshare.registry-refresh=200ms");
        // no admission queueing in the scheduler: the instance queues what it cannot run, on both routes alike
        start("scheduler", SERVICE_JVM_OPTIONS, "scheduler", "--port", port(schedulerUrl), "--redis-url", redisUrl,
                "--kvshare-url", kvshareUrl.toString(), "--model", model + "=" + modelFile,
                "--set", "scheduler.kvshare-key-prefix=" + kvsharePrefix, "--set", "scheduler.registry-refresh=200ms",
                "--set", "scheduler.max-load=" + (shape.maxNumWaiting() + shape.maxNumSeqs()),
                "--set", "scheduler.max-kv-usage=1.0");
        // one upstream connection and one bulkhead permit per open stream, with room to spare
        int numUpstream = Math.max(4096, 2 * concurrency);
        start("gateway", GATEWAY_JVM_OPTIONS, "gateway", "--port", port(gatewayUrl), "--redis-url", redisUrl,
                "--scheduler-url", schedulerUrl.toString(), "--operator-token", operatorToken,
                "--internal-token", internalToken,
                "--set", "gateway.redis.key-prefix=kvserve-bench:gw-" + run + ":",
                "--set", "gateway.routing.models-refresh=500ms",
                "--set", "gateway.routing.max-connections-per-instance=" + numUpstream,
                "--set", "resilience4j.bulkhead.configs.default.max-concurrent-calls=" + numUpstream);
        log.printf("bench-gateway: instance %s, kvshare %s, scheduler %s, gateway %s (child JVMs, logs in %s)%n",
                instanceUrl, kvshareUrl, schedulerUrl, gatewayUrl, dir);
        log.flush();

        Map<String, URI> services = new LinkedHashMap<>();
        services.put("instance", instanceUrl);
        services.put("kvshare", kvshareUrl);
        services.put("scheduler", schedulerUrl);
        services.put("gateway", gatewayUrl);
        for (Map.Entry<String, URI> service : services.entrySet()) {
            Process process = processes.get(service.getKey());
            await(() -> {
                if (!process.isAlive()) {
                    throw new IllegalStateException(service.getKey() + " exited (code " + process.exitValue()
                            + "); its log: " + dir.resolve(service.getKey() + ".log"));
                }
                return status(service.getValue().resolve("/actuator/health/readiness")) == 200;
            }, service.getKey() + " is ready", Duration.ofSeconds(120));
        }
        endpoints = new Endpoints(gatewayUrl, instanceUrl, model, schedulerUrl, kvshareUrl);
    }

    /** Starts {@code bin/kvserve <command> args} as a child JVM on this launcher's classpath, its output in NAME.log. */
    private void start(String name, List<String> jvmOptions, String command, String... args) throws IOException {
        List<String> line = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector"));
        line.addAll(jvmOptions);
        line.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.kvserve.cli.KvserveCli", command));
        line.addAll(List.of(args));
        line.addAll(List.of("--set", "spring.application.name=bench-gw-" + name));
        processes.put(name, new ProcessBuilder(line).redirectErrorStream(true)
                .redirectOutput(dir.resolve(name + ".log").toFile()).start());
    }

    private static URI localUrl(int port) {
        return URI.create("http://127.0.0.1:" + port);
    }

    private static String port(URI url) {
        return Integer.toString(url.getPort());
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

    /**
     * Stops the processes, the gateway first (its streams end before the instance's), each given 10 s to
     * drain; then deletes the run's keys (tenant, key, quota counters, kvshare's index, the KV event
     * stream, the registration): all of them, and only them, carry the random run id in their names.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (Thread.currentThread() != stopOnExit) {
            try {
                Runtime.getRuntime().removeShutdownHook(stopOnExit);
            } catch (IllegalStateException e) {
                // the JVM is shutting down: the hook runs close() too, and finds it done
            }
        }
        List<Process> stopping = new ArrayList<>(processes.values());
        java.util.Collections.reverse(stopping);
        stopping.forEach(Process::destroy);
        for (Process process : stopping) {
            try {
                if (!process.waitFor(10, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
            }
        }
        http.close();
        if (redisUrl != null) {
            deleteRunKeys();
        }
    }

    private void deleteRunKeys() {
        RedisClient client = RedisClient.create(redisUrl);
        try (StatefulRedisConnection<String, String> connection = client.connect()) {
            RedisCommands<String, String> redis = connection.sync();
            ScanArgs matching = ScanArgs.Builder.matches("*" + run + "*").limit(1000);
            ScanCursor cursor = ScanCursor.INITIAL;
            do {
                KeyScanCursor<String> page = redis.scan(cursor, matching);
                if (!page.getKeys().isEmpty()) {
                    redis.unlink(page.getKeys().toArray(String[]::new));
                }
                cursor = page;
            } while (!cursor.isFinished());
        } catch (RuntimeException e) {
            // the figures are printed already; a Redis that went away keeps a few small keys of this run
            System.err.println("bench-gateway: could not delete the run's keys (*" + run + "*) from " + redisUrl + ": " + e);
        } finally {
            client.shutdown();
        }
    }
}
