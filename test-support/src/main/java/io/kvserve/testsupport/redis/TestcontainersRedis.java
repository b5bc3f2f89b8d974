package io.kvserve.testsupport.redis;

import java.util.Optional;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.utility.DockerImageName;

/** A Redis container, kept in its own class so Testcontainers loads only when Docker may be there. */
final class TestcontainersRedis implements AutoCloseable {

    private static final int REDIS_PORT = 6379;

    private final GenericContainer<?> container;

    private TestcontainersRedis(GenericContainer<?> container) {
        this.container = container;
    }

    static Optional<TestcontainersRedis> start() {
        if (!DockerClientFactory.instance().isDockerAvailable()) {
            return Optional.empty();
        }
        GenericContainer<?> container = new GenericContainer<>(DockerImageName.parse(RedisFixture.REDIS_IMAGE))
                .withExposedPorts(REDIS_PORT)
                .withCommand("redis-server", "--save", "", "--appendonly", "no");
        container.start();
        return Optional.of(new TestcontainersRedis(container));
    }

    RedisEndpoint endpoint() {
        return new RedisEndpoint(container.getHost(), container.getMappedPort(REDIS_PORT), "testcontainers");
    }

    @Override
    public void close() {
        container.stop();
    }
}
