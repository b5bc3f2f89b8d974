package io.kvserve.cli;

import java.io.IOException;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import redis.embedded.RedisServer;

/**
 * {@code kvserve embedded-redis}: a Redis for machines without one, from the embedded-redis library
 * (it ships redis-server builds for Linux, macOS and Windows and runs one as a child process).
 * {@code bin/kvserve up} falls back to it when there is neither {@code REDIS_URL} nor a
 * {@code redis-server} on PATH. Runs until SIGTERM or Ctrl-C, which stop the server with it.
 */
@Command(name = "embedded-redis", mixinStandardHelpOptions = true,
        description = {"Run an embedded Redis (no persistence) on 127.0.0.1 until stopped: what 'up' uses when no "
                + "redis-server is installed."})
final class EmbeddedRedisCommand implements Callable<Integer> {

    @Option(names = {"-p", "--port"}, defaultValue = "6390", description = "Port (default ${DEFAULT-VALUE}).")
    int port;

    @Override
    public Integer call() throws IOException, InterruptedException {
        RedisServer server = RedisServer.newRedisServer().port(port).bind("127.0.0.1")
                .setting("save \"\"").setting("appendonly no").onShutdownForceStop(true).build();
        server.start();
        System.out.println("kvserve: embedded Redis on redis://127.0.0.1:" + port);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                server.stop();
            } catch (IOException e) {
                System.err.println("kvserve: embedded Redis did not stop cleanly: " + e.getMessage());
            }
            stopped.countDown();
        }));
        stopped.await();
        return 0;
    }
}
