package io.kvserve.testsupport.redis;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * A {@code redis-server} child process on a free loopback port, with persistence off and its
 * working files in a temporary folder. {@link #close()} stops it and removes the folder.
 */
public final class RedisServerProcess implements AutoCloseable {

    private static final Duration START_TIMEOUT = Duration.ofSeconds(10);

    private final Process process;
    private final Path workDir;
    private final RedisEndpoint endpoint;

    private RedisServerProcess(Process process, Path workDir, RedisEndpoint endpoint) {
        this.process = process;
        this.workDir = workDir;
        this.endpoint = endpoint;
    }

    /** The {@code redis-server} executable on PATH, if there is one. */
    public static Optional<Path> findExecutable() {
        String path = System.getenv("PATH");
        if (path == null) {
            return Optional.empty();
        }
        for (String dir : path.split(File.pathSeparator)) {
            Path candidate = Path.of(dir.isEmpty() ? "." : dir, "redis-server");
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    /** Starts {@code executable} on a free port and waits until it answers PING. */
    public static RedisServerProcess start(Path executable) throws IOException {
        Path workDir = Files.createTempDirectory("kvserve-redis-");
        // The port is free when we ask; a race with another process is possible, so retry a few times.
        IOException last = null;
        for (int attempt = 0; attempt < 3; attempt++) {
            int port = freePort();
            // A small shell watches this JVM and stops redis-server when the JVM is gone, even when
            // it was killed and no shutdown hook ran; destroying the shell stops it too.
            String redis = String.join(" ", List.of(
                    quote(executable.toString()),
                    "--port", Integer.toString(port),
                    "--bind", "127.0.0.1",
                    "--save", "''",
                    "--appendonly", "no",
                    "--dir", quote(workDir.toString()),
                    "--logfile", quote(workDir.resolve("redis.log").toString())));
            String watchdog = redis + " & r=$!; trap 'kill $r 2>/dev/null; wait $r; exit 0' TERM INT; "
                    + "while kill -0 " + ProcessHandle.current().pid() + " 2>/dev/null && kill -0 $r 2>/dev/null; do sleep 1; done; "
                    + "kill $r 2>/dev/null; wait $r";
            Process process = new ProcessBuilder("sh", "-c", watchdog)
                    .redirectErrorStream(true)
                    .redirectOutput(workDir.resolve("stdout.log").toFile())
                    .start();
            RedisEndpoint endpoint = new RedisEndpoint("127.0.0.1", port, "redis-server");
            try {
                RespPing.awaitPong(endpoint, START_TIMEOUT, process);
                // The port was free when chosen; make sure the Redis answering is the one we started.
                long serverPid = RespPing.serverPid(endpoint, Duration.ofSeconds(2)).orElse(-1);
                if (process.descendants().noneMatch(child -> child.pid() == serverPid)) {
                    throw new IOException("port " + port + " is answered by another Redis (pid " + serverPid + ")");
                }
                return new RedisServerProcess(process, workDir, endpoint);
            } catch (IOException e) {
                stop(process);
                last = e;
            }
        }
        deleteRecursively(workDir);
        throw new IOException("redis-server at " + executable + " did not start: " + last.getMessage(), last);
    }

    public RedisEndpoint endpoint() {
        return endpoint;
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    @Override
    public void close() {
        stop(process);
        deleteRecursively(workDir);
    }

    /** Stops redis-server and its watchdog shell, waiting for both. */
    private static void stop(Process process) {
        var children = process.descendants().toList();
        children.forEach(ProcessHandle::destroy);
        process.destroy();
        try {
            for (ProcessHandle child : children) {
                child.onExit().get(5, java.util.concurrent.TimeUnit.SECONDS);
            }
            if (!process.waitFor(5, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            children.forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
        }
    }

    private static String quote(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        }
    }

    private static void deleteRecursively(Path dir) {
        try (var paths = Files.walk(dir)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a leftover temp folder is harmless
        }
    }
}
