package io.kvserve.inference.platform;

import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;

/**
 * Logs a recurring failure (Redis down) once per interval with how many were suppressed, so an
 * outage is visible without flooding the log.
 */
final class RateLimitedLog {

    private final Logger log;
    private final long intervalNanos;
    private long lastNanos;
    private boolean logged;
    private int numSuppressed;

    RateLimitedLog(Logger log, long interval, TimeUnit unit) {
        this.log = log;
        this.intervalNanos = unit.toNanos(interval);
    }

    synchronized void warn(String message, Throwable e) {
        long now = System.nanoTime();
        if (logged && now - lastNanos < intervalNanos) {
            numSuppressed++;
            return;
        }
        String suffix = numSuppressed > 0 ? " (" + numSuppressed + " similar failures not logged)" : "";
        log.warn("{}{}: {}", message, suffix, e.toString());
        logged = true;
        lastNanos = now;
        numSuppressed = 0;
    }

    /** Notes a success: the next failure is logged at once. */
    synchronized void recovered(String message) {
        if (logged) {
            log.info(message);
            logged = false;
            numSuppressed = 0;
        }
    }
}
