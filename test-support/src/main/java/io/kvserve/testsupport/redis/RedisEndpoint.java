package io.kvserve.testsupport.redis;

import java.net.URI;
import java.util.UUID;

/**
 * A Redis that a test may talk to, and where it came from.
 *
 * @param host   host name or address
 * @param port   TCP port
 * @param source how the fixture found it, for test logs ("KVSERVE_TEST_REDIS_URL", "testcontainers",
 *               "redis-server")
 */
public record RedisEndpoint(String host, int port, String source) {

    public RedisEndpoint {
        if (host == null || host.isBlank()) {
            throw new IllegalArgumentException("Redis host is empty");
        }
        if (port <= 0 || port > 65_535) {
            throw new IllegalArgumentException("Redis port " + port + " is out of range 1..65535");
        }
    }

    /** The endpoint as a {@code redis://host:port} URI, as Lettuce and Spring Data Redis take it. */
    public String uri() {
        return "redis://" + host + ":" + port;
    }

    /**
     * A key prefix no other test run uses, so tests can share one Redis (CI's, say) without
     * stepping on each other's keys or flushing anyone's data.
     */
    public String uniqueKeyPrefix(String testName) {
        return "kvserve-test:" + testName + ":" + UUID.randomUUID() + ":";
    }

    /** Parses {@code redis://host:port} (database path and credentials are not supported here). */
    public static RedisEndpoint parse(String url, String source) {
        URI uri;
        try {
            uri = URI.create(url.trim());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + "='" + url + "' is not a URI: " + e.getMessage(), e);
        }
        if (!"redis".equals(uri.getScheme()) || uri.getHost() == null) {
            throw new IllegalArgumentException(
                    source + "='" + url + "' is not of the form redis://host:port (e.g. redis://127.0.0.1:6379)");
        }
        int port = uri.getPort() == -1 ? 6379 : uri.getPort();
        return new RedisEndpoint(uri.getHost(), port, source);
    }
}
