package io.kvserve.gateway.route;

import io.kvserve.common.openai.OpenAiException;
import io.kvserve.gateway.quota.Lease;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.SignalType;

/**
 * The end of every routed request: the token reservation reconciled with what was really used (the
 * lease is released exactly once, whichever way the request ended), the delivered hit reported to
 * the scheduler, the gateway's metrics and one log line with the request id.
 */
public final class CallAccounting {

    private static final Logger LOG = LoggerFactory.getLogger(CallAccounting.class);

    private final GatewayMetrics metrics;
    private final SchedulerClient scheduler;
    private final Listener listener;

    /**
     * Told of each request's first frame and of its end (the status page's recorder of recent requests,
     * {@code io.kvserve.gateway.status.RecentRequests}). Called on the request's own thread, often an
     * event loop: it must be quick and must not block; what it throws is logged and otherwise ignored.
     */
    public interface Listener {

        /** Tells nothing to no one. */
        Listener NONE = new Listener() {
            @Override
            public void firstFrame(RoutedCall call, long timeToFirstFrameNanos) {
            }

            @Override
            public void ended(RoutedCall call, String outcome, int numAttempts, long durationNanos) {
            }
        };

        /** A stream's first frame left for the client, this long after the request arrived. */
        void firstFrame(RoutedCall call, long timeToFirstFrameNanos);

        /** The request ended with {@code outcome} (as logged) after {@code numAttempts} instance calls. */
        void ended(RoutedCall call, String outcome, int numAttempts, long durationNanos);
    }

    public CallAccounting(GatewayMetrics metrics, SchedulerClient scheduler) {
        this(metrics, scheduler, Listener.NONE);
    }

    public CallAccounting(GatewayMetrics metrics, SchedulerClient scheduler, Listener listener) {
        this.metrics = metrics;
        this.scheduler = scheduler;
        this.listener = listener;
    }

    /** A frame leaves for the client: the gateway's share of its latency. */
    public void handed(RoutedCall call, Frame frame) {
        long now = System.nanoTime();
        if (call.streamOpened.compareAndSet(false, true)) { // the first frame (only streams are handed)
            metrics.streamOpened();
            metrics.requestOverhead(call.requestOverheadNanos(frame.arrivedNanos(), now));
            metrics.timeToFirstToken(now - call.arrivedNanos);
            tell(call, () -> listener.firstFrame(call, now - call.arrivedNanos));
        } else {
            metrics.chunkOverhead(now - frame.arrivedNanos());
        }
    }

    /** The relay ended: completed, failed before any instance began, or cancelled by the client. */
    public void finished(RoutedCall call, Lease lease, SignalType signal) {
        if (!call.finished.compareAndSet(false, true)) {
            return;
        }
        io.kvserve.common.openai.Usage usage = call.usage;
        try {
            if (call.streamOpened.get()) {
                metrics.streamClosed();
            }
            if (!call.stream && call.started && signal == SignalType.ON_COMPLETE) {
                metrics.requestOverhead((call.placementSentNanos - call.arrivedNanos)
                        + (call.upstreamSentNanos - call.placedNanos));
            }
            if (usage != null && call.placement != null) {
                int predicted = call.placement.predictedHitTokens();
                int delivered = usage.promptTokensDetails().cachedTokens();
                metrics.hits(call.tenantId, predicted, delivered);
                scheduler.reportOutcome(call.tenantId, predicted, delivered);
            }
            String outcome = switch (signal) {
                case CANCEL -> "cancelled";
                case ON_ERROR -> call.failureStatus > 0 ? Integer.toString(call.failureStatus) : "failed";
                default -> call.failedMidStream() ? "failed_mid_stream" : "200";
            };
            metrics.request(call.tenantId, call.apiName(), outcome);
            LOG.info("request {} tenant={} api={} instance={} attempts={} outcome={} prompt_tokens={} "
                            + "completion_tokens={} cached_tokens={} predicted_hit_tokens={}", call.requestId,
                    call.tenantId, call.apiName(), call.instanceId, call.numAttempts, outcome,
                    usage == null ? -1 : usage.promptTokens(), usage == null ? -1 : usage.completionTokens(),
                    usage == null ? -1 : usage.promptTokensDetails().cachedTokens(),
                    call.placement == null ? -1 : call.placement.predictedHitTokens());
            tell(call, () -> listener.ended(call, outcome, call.numAttempts, System.nanoTime() - call.arrivedNanos));
        } finally {
            release(call, lease, usage);
        }
    }

    private static void tell(RoutedCall call, Runnable hook) {
        try {
            hook.run();
        } catch (RuntimeException e) {
            LOG.warn("request {}: the call listener failed: {}", call.requestId, e.toString());
        }
    }

    private static void release(RoutedCall call, Lease lease, io.kvserve.common.openai.Usage usage) {
        lease.release(usage != null ? io.kvserve.gateway.quota.Usage.of(usage.promptTokens(), usage.completionTokens(),
                        usage.promptTokensDetails().cachedTokens()) : io.kvserve.gateway.quota.Usage.ofTotal(call.chargedTokens()))
                .subscribe(x -> { }, e -> LOG.warn("request {}: quota release failed: {}", call.requestId, e.toString()));
    }

    /** The request was refused before it was relayed (placement refused, no instance began). */
    public void refused(RoutedCall call, Lease lease, Throwable error) {
        if (!call.finished.compareAndSet(false, true)) {
            return;
        }
        try {
            int status = error instanceof OpenAiException o ? o.status() : 500;
            metrics.request(call.tenantId, call.apiName(), Integer.toString(status));
            LOG.info("request {} tenant={} api={} instance={} attempts={} outcome={} ({})", call.requestId,
                    call.tenantId, call.apiName(), call.instanceId, call.numAttempts, status, error.getMessage());
            tell(call, () -> listener.ended(call, Integer.toString(status), call.numAttempts,
                    System.nanoTime() - call.arrivedNanos));
        } finally {
            release(call, lease, null);
        }
    }
}
