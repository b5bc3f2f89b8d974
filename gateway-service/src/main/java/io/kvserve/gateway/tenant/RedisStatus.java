package io.kvserve.gateway.tenant;

import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisException;
import io.lettuce.core.api.StatefulRedisConnection;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Whether the gateway's Redis answers: set down by any command that fails for want of Redis, up by
 * any that succeeds, and probed with {@code PING} every so often so that the end of an outage is
 * noticed even when no request reaches Redis (under {@code FAIL_CLOSED} none does).
 */
public final class RedisStatus implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(RedisStatus.class);

    private final Supplier<StatefulRedisConnection<String, String>> connection;
    private final AtomicBoolean up = new AtomicBoolean(true);
    private volatile Disposable probe;

    public RedisStatus(StatefulRedisConnection<String, String> connection) {
        this(() -> connection, true);
    }

    /**
     * @param connection the connection to probe, got anew for each probe
     * @param up         the state until the first probe or command says otherwise
     */
    public RedisStatus(Supplier<StatefulRedisConnection<String, String>> connection, boolean up) {
        this.connection = connection;
        this.up.set(up);
    }

    /** True unless the last command or probe found Redis unreachable. */
    public boolean up() {
        return up.get();
    }

    /** Starts pinging Redis every {@code interval}. */
    public void startProbing(Duration interval) {
        probe = Flux.interval(interval, interval)
                .onBackpressureDrop() // a ping slower than the interval skips ticks instead of ending the probe
                .concatMap(tick -> ping().onErrorResume(e -> Mono.empty()))
                .subscribe(tick -> { }, e -> log.error("the Redis probe stopped", e));
    }

    /** One {@code PING}; updates {@link #up()}. */
    public Mono<Void> ping() {
        return Mono.defer(() -> Mono.fromCompletionStage(connection.get().async().ping()))
                .doOnNext(pong -> markUp())
                .doOnError(this::noteFailure)
                .then();
    }

    /** Records a successful command. */
    public void markUp() {
        if (up.compareAndSet(false, true)) {
            log.warn("gateway Redis is reachable again");
        }
    }

    /** Records a failed command: an outage when {@link #isOutage} says so. */
    public void noteFailure(Throwable e) {
        if (isOutage(e) && up.compareAndSet(true, false)) {
            log.warn("gateway Redis is unreachable ({}); the outage policy is in force", e.toString());
        }
    }

    /**
     * True for failures that mean "Redis is not there" (connection refused or lost, commands rejected
     * while disconnected, timeouts), false for errors Redis answered with (a script error is a bug).
     */
    public static boolean isOutage(Throwable e) {
        Throwable t = e;
        while (t != null) {
            if (t instanceof RedisCommandExecutionException) {
                return false;
            }
            if (t instanceof RedisException || t instanceof TimeoutException || t instanceof IOException) {
                return true;
            }
            t = t.getCause();
        }
        return false;
    }

    @Override
    public void close() {
        Disposable p = probe;
        if (p != null) {
            p.dispose();
        }
    }
}
