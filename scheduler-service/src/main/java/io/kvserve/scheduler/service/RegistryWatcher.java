package io.kvserve.scheduler.service;

import io.kvserve.common.events.InstanceRegistration;
import io.kvserve.kvshare.ingest.InstanceRegistry;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

/**
 * Keeps the live instances (the registry in Redis) fresh on its own thread. When Redis is away the
 * last known list stays in use (instances that died meanwhile fail at the gateway, which tries the
 * next fallback) and {@link #redisUp()} says so for health and metrics.
 */
public final class RegistryWatcher implements SmartLifecycle {

    private static final Logger LOG = LoggerFactory.getLogger(RegistryWatcher.class);

    private final InstanceRegistry registry;
    private final Duration interval;
    private ScheduledExecutorService executor;
    private volatile boolean redisUp;
    private volatile boolean running;

    public RegistryWatcher(InstanceRegistry registry, Duration interval) {
        this.registry = registry;
        this.interval = interval;
    }

    public boolean redisUp() {
        return redisUp;
    }

    public List<InstanceRegistration> serving(String model) {
        return registry.serving(model);
    }

    private void refresh() {
        try {
            registry.refresh();
            if (!redisUp) {
                LOG.info("instance registry read: {} live instances", registry.live().size());
            }
            redisUp = true;
        } catch (RuntimeException e) {
            if (redisUp) {
                LOG.warn("cannot read the instance registry ({}); placing on the last known instances", e.toString());
            }
            redisUp = false;
        }
    }

    @Override
    public void start() {
        executor = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().name("scheduler-registry")
                .daemon(true).unstarted(r));
        refresh();
        executor.scheduleWithFixedDelay(this::refresh, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
        running = true;
    }

    @Override
    public void stop() {
        running = false;
        if (executor != null) {
            executor.shutdownNow();
        }
    }

    @Override
    public boolean isRunning() {
        return running;
    }
}
