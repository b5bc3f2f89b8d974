package io.kvserve.testsupport.redis;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Finds a real Redis for tests, once per JVM, in this order:
 * <ol>
 *   <li>{@code KVSERVE_TEST_REDIS_URL} (environment variable or system property), e.g.
 *       {@code redis://127.0.0.1:6379};</li>
 *   <li>a {@code redis:7-alpine} container through Testcontainers, when a Docker engine answers;</li>
 *   <li>a {@code redis-server} from PATH, spawned on a free loopback port and stopped when the JVM
 *       exits;</li>
 *   <li>none: {@link #find()} is empty and {@link #whyUnavailable()} says how to get one.</li>
 * </ol>
 * Never a mock: what the tests talk to is a Redis server.
 */
public final class RedisFixture {

    public static final String URL_VARIABLE = "KVSERVE_TEST_REDIS_URL";
    static final String REDIS_IMAGE = "redis:7-alpine";

    private static final Object LOCK = new Object();
    private static Optional<RedisEndpoint> found;
    private static final List<String> attempts = new ArrayList<>();
    private static AutoCloseable owned;

    private RedisFixture() {
    }

    /** The Redis for this JVM's tests, started on first call; empty if none can be had. */
    public static Optional<RedisEndpoint> find() {
        synchronized (LOCK) {
            if (found == null) {
                found = locate();
                if (owned != null) {
                    AutoCloseable toClose = owned;
                    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                        try {
                            toClose.close();
                        } catch (Exception ignored) {
                            // the JVM is exiting
                        }
                    }, "kvserve-test-redis-stop"));
                }
            }
            return found;
        }
    }

    /** Why {@link #find()} is empty: each source tried, and how to enable one. */
    public static String whyUnavailable() {
        synchronized (LOCK) {
            return "No Redis for tests (" + String.join("; ", attempts) + "). Enable one of: set "
                    + URL_VARIABLE + "=redis://host:port, start a Docker engine, or install redis-server "
                    + "on PATH (Debian/Ubuntu: apt-get install redis-server).";
        }
    }

    private static Optional<RedisEndpoint> locate() {
        String url = Optional.ofNullable(System.getProperty(URL_VARIABLE)).orElse(System.getenv(URL_VARIABLE));
        if (url != null && !url.isBlank()) {
            // An explicit URL is the user's choice: if it is wrong, say so rather than fall through.
            RedisEndpoint endpoint = RedisEndpoint.parse(url, URL_VARIABLE);
            if (!RespPing.ping(endpoint, Duration.ofSeconds(2))) {
                throw new IllegalStateException(URL_VARIABLE + "=" + url + " does not answer PING");
            }
            return Optional.of(endpoint);
        }
        attempts.add(URL_VARIABLE + " not set");

        if (dockerMayBeThere()) {
            try {
                Optional<RedisEndpoint> fromContainer = TestcontainersRedis.start().map(container -> {
                    owned = container;
                    return container.endpoint();
                });
                if (fromContainer.isPresent()) {
                    return fromContainer;
                }
                attempts.add("Testcontainers found no working Docker engine");
            } catch (RuntimeException | LinkageError e) {
                attempts.add("Testcontainers failed: " + e);
            }
        } else {
            attempts.add("no Docker engine (no DOCKER_HOST, no /var/run/docker.sock)");
        }

        Optional<Path> executable = RedisServerProcess.findExecutable();
        if (executable.isEmpty()) {
            attempts.add("no redis-server on PATH");
            return Optional.empty();
        }
        try {
            RedisServerProcess process = RedisServerProcess.start(executable.get());
            owned = process;
            return Optional.of(process.endpoint());
        } catch (IOException e) {
            attempts.add(e.getMessage());
            return Optional.empty();
        }
    }

    private static boolean dockerMayBeThere() {
        String dockerHost = System.getenv("DOCKER_HOST");
        return (dockerHost != null && !dockerHost.isBlank()) || Files.exists(Path.of("/var/run/docker.sock"))
                || Files.exists(Path.of(System.getProperty("user.home"), ".testcontainers.properties"));
    }
}
