package io.kvserve.platform;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's first command as a new user meets it: a fresh clone of this checkout, {@code bin/kvserve
 * up} (which builds the clone, starts Redis, the demo model, an inference instance, kvshare, the
 * scheduler and the gateway, and prints a key), a streamed chat completion through the gateway with
 * that key, then {@code bin/kvserve down} — after which no process of the clone may be left.
 */
class LocalPlatformTest {

    private static final Duration UP_TIMEOUT = Duration.ofMinutes(10); // the clone builds itself first

    @Test
    void freshClone_up_streamedChatThroughTheGateway_down_leavesNothingRunning(@TempDir Path dir) throws Exception {
        Path checkout = Path.of(System.getProperty("user.dir")).getParent();
        assumeTrue(Files.isDirectory(checkout.resolve(".git")), "not a git checkout: nothing to clone");
        Path clone = dir.resolve("kvserve");
        run(dir, List.of("git", "clone", "--quiet", checkout.toString(), clone.toString()), Duration.ofMinutes(2));

        int port = freePort();
        int gatewayPort = freePort();
        int redisPort = freePort();
        List<String> up = new ArrayList<>(List.of(clone.resolve("bin/kvserve").toString(), "up", "--port",
                Integer.toString(port), "--gateway-port", Integer.toString(gatewayPort)));
        ProcessBuilder builder = new ProcessBuilder(up).directory(clone.toFile()).redirectErrorStream(true);
        builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
        String redisUrl = System.getenv("KVSERVE_TEST_REDIS_URL");
        if (redisUrl != null && !redisUrl.isBlank()) {
            builder.environment().put("REDIS_URL", redisUrl);
        } else {
            assumeTrue(onPath("redis-server") || "1".equals(System.getenv("KVSERVE_TEST_REDIS_REQUIRED")),
                    "no redis-server on PATH and no KVSERVE_TEST_REDIS_URL");
            up.addAll(List.of("--redis-port", Integer.toString(redisPort)));
            builder.command(up);
        }
        Process platform = builder.start();
        try {
            StringBuilder output = new StringBuilder();
            CompletableFuture<Boolean> ready = CompletableFuture.supplyAsync(() -> awaitReady(platform, output));
            boolean isReady;
            try {
                isReady = ready.get(UP_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                throw new AssertionError("bin/kvserve up did not get ready within " + UP_TIMEOUT.toMinutes()
                        + " min; it said:\n" + output + "\nbuild log tail:\n" + tail(clone.resolve(".kvserve/build.log")));
            }
            assertThat(isReady).as("bin/kvserve up printed its ready line; it said:%n%s", output).isTrue();
            assertThat(output).contains("http://127.0.0.1:" + gatewayPort + "/v1").contains("sk-kvs-");

            String key = Files.readString(clone.resolve(".kvserve/run/demo-key")).strip();
            HttpResponse<String> chat = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + gatewayPort + "/v1/chat/completions"))
                    .timeout(Duration.ofSeconds(60)).header("authorization", "Bearer " + key)
                    .header("content-type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"demo-tiny\",\"messages\":[{\"role\":"
                            + "\"user\",\"content\":\"Hi\"}],\"max_tokens\":16,\"stream\":true}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(chat.statusCode()).as(chat.body()).isEqualTo(200);
            assertThat(chat.body()).contains("\"object\":\"chat.completion.chunk\"").contains("\"content\":")
                    .endsWith("data: [DONE]\n\n");

            String down = run(clone, List.of(clone.resolve("bin/kvserve").toString(), "down"), Duration.ofMinutes(1));
            assertThat(down).contains("stopping");
            assertThat(platform.waitFor(30, TimeUnit.SECONDS)).as("up exits after down").isTrue();
            awaitNoProcessOf(clone, Duration.ofSeconds(15));
        } finally {
            platform.destroyForcibly();
            killEverythingOf(clone);
        }
    }

    private static String tail(Path file) {
        try {
            List<String> lines = Files.readAllLines(file);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(none: " + e + ")";
        }
    }

    /** Reads up's output until its ready line; the reader stays open (a thread drains the rest). */
    private static boolean awaitReady(Process platform, StringBuilder output) {
        BufferedReader reader = new BufferedReader(new InputStreamReader(platform.getInputStream(),
                StandardCharsets.UTF_8));
        try {
            String line;
            while ((line = reader.readLine()) != null) {
                synchronized (output) {
                    output.append(line).append('\n');
                }
                if (line.startsWith("kvserve: Ctrl-C")) {
                    Thread.ofVirtual().start(() -> drain(reader)); // keep the pipe from filling
                    return true;
                }
            }
            return false;
        } catch (IOException e) {
            return false;
        }
    }

    private static void drain(BufferedReader reader) {
        try {
            while (reader.readLine() != null) {
                // the stop messages
            }
        } catch (IOException ignored) {
            // the process is gone
        }
    }

    /** The processes whose command line names {@code clone} (its JVMs and its redis-server's directory). */
    private static List<ProcessHandle> processesOf(Path clone) {
        String marker = clone.toString();
        try (Stream<ProcessHandle> all = ProcessHandle.allProcesses()) {
            return all.filter(p -> p.pid() != ProcessHandle.current().pid())
                    .filter(p -> commandLine(p).contains(marker)).toList();
        }
    }

    private static String commandLine(ProcessHandle process) {
        try {
            return new String(Files.readAllBytes(Path.of("/proc", Long.toString(process.pid()), "cmdline")),
                    StandardCharsets.UTF_8).replace('\0', ' ');
        } catch (IOException e) {
            return process.info().commandLine().orElse("");
        }
    }

    private static void awaitNoProcessOf(Path clone, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<ProcessHandle> left = processesOf(clone);
        while (!left.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(200);
            left = processesOf(clone);
        }
        assertThat(left).as("processes left after down: %s", left.stream().map(LocalPlatformTest::commandLine)
                .map(c -> c.length() > 200 ? c.substring(0, 200) : c).toList()).isEmpty();
    }

    private static void killEverythingOf(Path clone) {
        processesOf(clone).forEach(ProcessHandle::destroyForcibly);
    }

    private static String run(Path dir, List<String> command, Duration timeout) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true);
        builder.environment().putAll(Map.of("JAVA_HOME", System.getProperty("java.home")));
        Process process = builder.start();
        CompletableFuture<String> output = CompletableFuture.supplyAsync(() -> {
            try {
                return new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                return e.toString();
            }
        });
        assertThat(process.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)).as("%s finishes", command).isTrue();
        String text = output.get(10, TimeUnit.SECONDS);
        assertThat(process.exitValue()).as("%s said:%n%s", command, text).isZero();
        return text;
    }

    private static boolean onPath(String program) {
        String path = System.getenv("PATH");
        return path != null && Stream.of(path.split(":")).anyMatch(d -> Files.isExecutable(Path.of(d, program)));
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
