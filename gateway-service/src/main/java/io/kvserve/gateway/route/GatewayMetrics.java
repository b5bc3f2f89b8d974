package io.kvserve.gateway.route;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The gateway's own figures. {@code kvserve_gateway_overhead_seconds} is the time the gateway itself
 * adds, without the scheduler's and the instance's time:
 *
 * <pre>
 *   phase="request": (placement call sent - request arrived)           auth, quota, validation
 *                  + (upstream call sent - placement answered)          building the instance call
 *                  + (first frame handed to the client - it arrived)    relaying the first frame
 *   phase="chunk":   frame handed to the client's connection - frame complete from the instance
 * </pre>
 *
 * {@code kvserve_gateway_time_to_first_token_seconds} is what the client sees, everything included.
 */
public final class GatewayMetrics {

    private static final Duration[] LATENCY_SLOS = {
            Duration.ofNanos(50_000), Duration.ofNanos(100_000), Duration.ofNanos(250_000), Duration.ofNanos(500_000),
            Duration.ofMillis(1), Duration.ofMillis(2), Duration.ofMillis(5), Duration.ofMillis(10),
            Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250)};

    private final MeterRegistry registry;
    private final Timer requestOverhead;
    private final Timer chunkOverhead;
    private final Timer timeToFirstToken;
    private final AtomicInteger numOpenStreams = new AtomicInteger();

    public GatewayMetrics(MeterRegistry registry) {
        this.registry = registry;
        this.requestOverhead = overhead("request");
        this.chunkOverhead = overhead("chunk");
        this.timeToFirstToken = Timer.builder("kvserve.gateway.time.to.first.token")
                .description("Time from the request's arrival to its first token leaving the gateway")
                .serviceLevelObjectives(Duration.ofMillis(10), Duration.ofMillis(50), Duration.ofMillis(100),
                        Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(2),
                        Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(30))
                .register(registry);
        Gauge.builder("kvserve.gateway.open.streams", numOpenStreams, AtomicInteger::get)
                .description("Streams open through the gateway now").register(registry);
    }

    private Timer overhead(String phase) {
        return Timer.builder("kvserve.gateway.overhead")
                .description("Time the gateway itself adds, scheduler and instance time excluded")
                .tag("phase", phase).serviceLevelObjectives(LATENCY_SLOS) // quantiles from the buckets:
                .register(registry); // client-side percentiles cost a histogram rotation on every chunk
    }

    void requestOverhead(long nanos) {
        requestOverhead.record(nanos, TimeUnit.NANOSECONDS);
    }

    void chunkOverhead(long nanos) {
        chunkOverhead.record(nanos, TimeUnit.NANOSECONDS);
    }

    void timeToFirstToken(long nanos) {
        timeToFirstToken.record(nanos, TimeUnit.NANOSECONDS);
    }

    void streamOpened() {
        numOpenStreams.incrementAndGet();
    }

    void streamClosed() {
        numOpenStreams.decrementAndGet();
    }

    public int numOpenStreams() {
        return numOpenStreams.get();
    }

    /** A finished request: {@code outcome} is the HTTP status, or {@code cancelled} / {@code failed_mid_stream}. */
    void request(String tenantId, String api, String outcome) {
        Counter.builder("kvserve.gateway.requests").description("Requests by tenant, endpoint and outcome")
                .tags("tenant", tenantId, "api", api, "outcome", outcome).register(registry).increment();
    }

    /** A request moved on from {@code instanceId} before its first token. */
    void failover(String instanceId, String reason) {
        Counter.builder("kvserve.gateway.failovers").description("Retries on the next instance before the first token")
                .tags("instance", instanceId, "reason", reason).register(registry).increment();
    }

    /** Hits predicted by the scheduler and delivered by the instance, per tenant. */
    void hits(String tenantId, int predictedTokens, int deliveredTokens) {
        Counter.builder("kvserve.gateway.prefix.hit.tokens").tags("tenant", tenantId, "kind", "predicted")
                .register(registry).increment(predictedTokens);
        Counter.builder("kvserve.gateway.prefix.hit.tokens").tags("tenant", tenantId, "kind", "delivered")
                .register(registry).increment(deliveredTokens);
    }
}
