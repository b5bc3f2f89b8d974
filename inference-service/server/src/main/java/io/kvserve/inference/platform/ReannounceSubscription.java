package io.kvserve.inference.platform;

import io.kvserve.common.events.RedisKeys;
import java.util.concurrent.Executors;
import java.util.concurrent.ExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.data.redis.listener.ChannelTopic;
import org.springframework.data.redis.listener.RedisMessageListenerContainer;

/**
 * Subscribes to {@code kvserve:instance:<id>:reannounce}: any message there makes this instance
 * re-announce its KV cache ({@link RedisKvEventPublisher#requestReannounce()}); kvshare publishes one
 * when its index of this instance is missing or has a gap. The container re-subscribes by itself
 * after Redis comes back.
 */
public final class ReannounceSubscription implements SmartLifecycle {

    private static final Logger LOG = LoggerFactory.getLogger(ReannounceSubscription.class);

    private final RedisConnectionFactory connectionFactory;
    private final InstanceIdentity identity;
    private final RedisKvEventPublisher publisher;
    private RedisMessageListenerContainer container;
    private ExecutorService executor;

    public ReannounceSubscription(RedisConnectionFactory connectionFactory, InstanceIdentity identity,
                                  RedisKvEventPublisher publisher) {
        this.connectionFactory = connectionFactory;
        this.identity = identity;
        this.publisher = publisher;
    }

    @Override
    public synchronized void start() {
        if (container != null) {
            return;
        }
        String channel = RedisKeys.reannounceChannel(identity.id());
        executor = Executors.newSingleThreadExecutor(Thread.ofPlatform().name("kvserve-reannounce").daemon(true)
                .factory());
        container = new RedisMessageListenerContainer();
        container.setConnectionFactory(connectionFactory);
        container.setTaskExecutor(executor);
        container.addMessageListener((message, pattern) -> {
            LOG.info("re-announce requested on {}", channel);
            publisher.requestReannounce();
        }, new ChannelTopic(channel));
        container.afterPropertiesSet();
        try {
            container.start();
        } catch (RuntimeException e) {
            LOG.warn("could not subscribe to {} yet (retrying in the background): {}", channel, e.toString());
        }
    }

    @Override
    public synchronized void stop() {
        if (container == null) {
            return;
        }
        try {
            container.stop();
            container.destroy();
        } catch (Exception e) {
            LOG.debug("closing the re-announce subscription", e);
        }
        executor.shutdownNow();
        container = null;
    }

    @Override
    public synchronized boolean isRunning() {
        return container != null;
    }

    @Override
    public int getPhase() {
        return PlatformConfiguration.PLATFORM_PHASE;
    }
}
