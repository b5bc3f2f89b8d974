package io.kvserve.inference.platform;

import io.kvserve.common.events.InstanceRegistration;
import io.kvserve.common.events.InstanceStatus;
import io.kvserve.common.events.RedisKeys;
import io.kvserve.engine.EngineStats;
import io.kvserve.inference.config.InstanceProperties;
import io.kvserve.inference.model.ModelHost;
import io.kvserve.inference.model.ModelInfo;
import io.kvserve.inference.model.ModelState;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.context.SmartLifecycle;
import org.springframework.context.event.EventListener;
import org.springframework.data.redis.core.RedisOperations;
import org.springframework.data.redis.core.SessionCallback;
import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * Keeps this instance in the registry (format in {@code docs/redis-schema.md}):
 * <pre>
 *   ModelReadyEvent   -> MULTI, HSET kvserve:instance:&lt;id&gt; ..., PEXPIRE ttl, ZADD kvserve:instances now id, EXEC
 *   every heartbeat   -> the same with fresh load figures (num_running, kv_cache_usage, tokens_per_second)
 *   readiness refused -> the same at once with status=draining (the model host is draining)
 *   stop              -> DEL kvserve:instance:&lt;id&gt;, ZREM kvserve:instances id
 * </pre>
 * Every Redis call runs on one platform thread of its own, never on a Netty or engine thread. A failed
 * beat is logged (rate-limited) and simply repeated at the next one; serving never depends on it.
 */
public final class InstanceRegistrar implements SmartLifecycle {

    private static final Logger LOG = LoggerFactory.getLogger(InstanceRegistrar.class);

    private final StringRedisTemplate redis;
    private final InstanceIdentity identity;
    private final InstanceProperties properties;
    private final Supplier<ModelHost> modelHost;
    private final LongSupplier clockMs;
    private final RateLimitedLog failures = new RateLimitedLog(LOG, 30, TimeUnit.SECONDS);
    private final ScheduledExecutorService executor;

    // owned by the executor thread
    private ModelInfo info;
    private long startedAtMs;
    private long lastGenerationTokens;
    private long lastBeatNanos;
    private boolean registered;

    private volatile boolean running;
    private ScheduledFuture<?> beats;

    /**
     * @param modelHost a supplier rather than the bean: a bean dependency would make Spring stop this
     *                  registrar before the model host, unregistering before the drain instead of after
     */
    public InstanceRegistrar(StringRedisTemplate redis, InstanceIdentity identity, InstanceProperties properties,
                             Supplier<ModelHost> modelHost, LongSupplier clockMs) {
        this.redis = redis;
        this.identity = identity;
        this.properties = properties;
        this.modelHost = modelHost;
        this.clockMs = clockMs;
        this.executor = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().name("kvserve-registrar").daemon(true).factory());
    }

    @EventListener
    void onModelReady(ModelHost.ModelReadyEvent event) {
        if (!running) {
            return;
        }
        executor.execute(() -> {
            info = event.info();
            startedAtMs = clockMs.getAsLong();
            lastBeatNanos = System.nanoTime();
            lastGenerationTokens = modelHost.get().stats().map(EngineStats::generationTokens).orElse(0L);
            beat();
        });
        synchronized (this) {
            long intervalMs = properties.heartbeatInterval().toMillis();
            beats = executor.scheduleAtFixedRate(this::beat, intervalMs, intervalMs, TimeUnit.MILLISECONDS);
        }
    }

    @EventListener
    void onReadiness(AvailabilityChangeEvent<ReadinessState> event) {
        if (running && event.getState() == ReadinessState.REFUSING_TRAFFIC) {
            executor.execute(this::beat);
        }
    }

    /** Writes the registration with fresh figures; a failure is logged and retried at the next beat. */
    private void beat() {
        if (info == null) {
            return;
        }
        try {
            InstanceRegistration registration = registration();
            String key = RedisKeys.instance(registration.id());
            write(key, registration);
            if (!registered) {
                LOG.info("registered as {} at {} ({} in {})", registration.id(), registration.url(), key,
                        RedisKeys.INSTANCES);
                registered = true;
            }
            failures.recovered("registry reachable again");
        } catch (RuntimeException e) {
            failures.warn("could not refresh the registration of " + identity.id() + "; retrying in "
                    + properties.heartbeatInterval(), e);
        }
    }

    /** HSET, PEXPIRE and ZADD in one MULTI: a crash between them must not leave a hash without a TTL. */
    private void write(String key, InstanceRegistration registration) {
        redis.execute(new SessionCallback<List<Object>>() {
            @Override
            @SuppressWarnings("unchecked")
            public <K, V> List<Object> execute(RedisOperations<K, V> operations) {
                RedisOperations<String, String> ops = (RedisOperations<String, String>) operations;
                ops.multi();
                ops.opsForHash().putAll(key, registration.toHash());
                ops.expire(key, properties.registrationTtl().toMillis(), TimeUnit.MILLISECONDS);
                ops.opsForZSet().add(RedisKeys.INSTANCES, registration.id(), registration.heartbeatAtMs());
                return ops.exec();
            }
        });
    }

    private InstanceRegistration registration() {
        long now = System.nanoTime();
        EngineStats stats = modelHost.get().stats().orElse(null);
        long generationTokens = stats == null ? lastGenerationTokens : stats.generationTokens();
        double seconds = (now - lastBeatNanos) / 1e9;
        double tokensPerSecond = seconds > 0 ? Math.max(0, generationTokens - lastGenerationTokens) / seconds : 0;
        lastBeatNanos = now;
        lastGenerationTokens = generationTokens;
        InstanceStatus status = modelHost.get().state() == ModelState.READY ? InstanceStatus.READY : InstanceStatus.DRAINING;
        return new InstanceRegistration(identity.id(), identity.url(), info.name(), info.architecture(),
                info.blockSize(), info.numKvBlocks(), info.maxModelLen(), info.kvCapacityTokens(), identity.epoch(),
                startedAtMs, clockMs.getAsLong(), stats == null ? 0 : stats.numRunning(),
                stats == null ? 0 : stats.numWaiting(), stats == null ? 0 : stats.kvCacheUsage(), tokensPerSecond,
                status);
    }

    private void unregister() {
        if (info == null) {
            return;
        }
        try {
            redis.delete(RedisKeys.instance(identity.id()));
            redis.opsForZSet().remove(RedisKeys.INSTANCES, identity.id());
            LOG.info("unregistered {}", identity.id());
        } catch (RuntimeException e) {
            LOG.warn("could not unregister {}; its registration expires in {}: {}", identity.id(),
                    properties.registrationTtl(), e.toString());
        }
        info = null;
    }

    @Override
    public void start() {
        running = true;
    }

    @Override
    public void stop() {
        if (!running) {
            return;
        }
        running = false;
        synchronized (this) {
            if (beats != null) {
                beats.cancel(false);
            }
        }
        try {
            executor.submit(this::unregister).get(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            LOG.warn("unregistering {} did not finish: {}", identity.id(), e.toString());
        }
        executor.shutdownNow();
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    /** Stops after the model host has drained, so the registration says draining until then. */
    @Override
    public int getPhase() {
        return PlatformConfiguration.PLATFORM_PHASE;
    }
}
