package io.kvserve.gateway.route;

import io.github.resilience4j.bulkhead.BulkheadFullException;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.kvserve.common.openai.OpenAiError;
import io.kvserve.common.openai.OpenAiException;
import io.kvserve.common.openai.OpenAiJson;
import io.kvserve.common.openai.PlacementAnswer;
import io.kvserve.common.openai.PlacementAnswer.Target;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.web.reactive.function.client.WebClientException;
import reactor.core.publisher.Flux;

/**
 * Runs a placed request on its instance and relays what comes back.
 *
 * <pre>
 *   instance, fallback 1, fallback 2, ...   tried in order while nothing has reached the client:
 *                                           refused connection, 429/5xx, open breaker, full
 *                                           bulkhead, no first token in time -&gt; next one
 *   first frame relayed                     a stream is committed to that instance: a later
 *                                           failure ends it with an error event + [DONE]
 *   stream ends without [DONE]              the same: the client always sees how a stream ended
 *   non-streamed request                    assembled here from the instance's stream
 *                                           ({@link ResponseAssembly}): nothing reaches the client
 *                                           before the end, so any failure may move on
 * </pre>
 *
 * The gateway asks every instance for the usage chunk (it reconciles the token quota with it) and
 * passes it on only to clients that asked for it. A cancelled subscription (client gone) cancels
 * the instance call at once: the connection closes and the instance aborts the request.
 */
public final class Relay {

    private static final Logger LOG = LoggerFactory.getLogger(Relay.class);
    private static final Duration RETRY_AFTER = Duration.ofSeconds(1);
    private static final byte[] DATA_PREFIX = "data: ".getBytes(StandardCharsets.US_ASCII);

    private final InstanceClient instances;
    private final GatewayMetrics metrics;

    public Relay(InstanceClient instances, GatewayMetrics metrics) {
        this.instances = instances;
        this.metrics = metrics;
    }

    /**
     * The frames to write to the client. Fails before its first frame (with the {@link
     * OpenAiException} to answer) when no instance could begin; never fails after it.
     */
    public Flux<Frame> frames(RoutedCall call, byte[] generateBody) {
        List<Target> targets = targets(call.placement);
        Flux<Frame> frames = attempt(call, targets, 0, generateBody).doOnNext(frame -> {
            call.started = true;
            if (frame.isError()) {
                call.failedMidStream = true; // the instance's own error event (engine error, abort)
            } else if (frame.hasUsage()) {
                call.captureUsage(frame);
            }
        });
        if (!call.stream) {
            return frames.onErrorMap(e -> toOpenAi(call, e));
        }
        return frames.filter(frame -> call.clientWantsUsage || !frame.hasUsage())
                .onErrorResume(e -> {
                    if (!call.started) {
                        return Flux.error(toOpenAi(call, e));
                    }
                    call.failedMidStream = true;
                    return Flux.just(errorFrame(midStreamMessage(call, e)), Frame.now(Frame.DONE));
                });
    }

    private Flux<Frame> attempt(RoutedCall call, List<Target> targets, int index, byte[] body) {
        Target target = targets.get(index);
        return Flux.defer(() -> {
            call.attempt(target);
            Flux<Frame> frames = instances.generate(target, body, call.requestId)
                    .doOnNext(frame -> call.numUpstreamFrames++);
            return call.stream ? frames : ResponseAssembly.of(call.api, target.id(), frames).flux();
        }).onErrorResume(e -> {
            if (call.started || index + 1 >= targets.size() || !retryable(e)) {
                return Flux.error(e);
            }
            Target next = targets.get(index + 1);
            metrics.failover(target.id(), reason(e));
            LOG.info("request {}: instance {} failed before the first token ({}); trying {}", call.requestId,
                    target.id(), e.getMessage(), next.id());
            return attempt(call, targets, index + 1, body);
        });
    }

    private static List<Target> targets(PlacementAnswer placement) {
        List<Target> targets = new ArrayList<>(1 + placement.fallbacks().size());
        targets.add(placement.instance());
        targets.addAll(placement.fallbacks());
        return targets;
    }

    /** Whether another instance may succeed: the failure is the instance's, not the request's. */
    static boolean retryable(Throwable e) {
        return switch (e) {
            case UpstreamStatusException s -> s.retryable();
            case InstanceClient.UpstreamTimeoutException t -> true;
            case CallNotPermittedException c -> true;
            case BulkheadFullException b -> true;
            case WebClientException w -> true; // refused, reset, closed before a response
            case IOException io -> true; // closed while the body was coming (PrematureCloseException)
            case OpenAiException o -> false;   // the instance refused the request itself (400, 404, ...)
            default -> false;
        };
    }

    private static String reason(Throwable e) {
        return switch (e) {
            case UpstreamStatusException s -> "status_" + s.status();
            case InstanceClient.UpstreamTimeoutException t -> "timeout";
            case CallNotPermittedException c -> "circuit_open";
            case BulkheadFullException b -> "bulkhead_full";
            case WebClientException w -> "connection";
            case IOException io -> "connection";
            default -> "other";
        };
    }

    /** The error to answer when no instance began the request (noted on the call for its outcome). */
    static OpenAiException toOpenAi(RoutedCall call, Throwable e) {
        OpenAiException error = answer(call, e);
        call.failureStatus = error.status();
        return error;
    }

    private static OpenAiException answer(RoutedCall call, Throwable e) {
        return switch (e) {
            case OpenAiException o -> o;
            // every instance refused: the last one's 429 as it is; any 5xx means "not now": 503
            case UpstreamStatusException s -> s.status() == 429 ? s.error() : OpenAiException.unavailable(
                    s.error().getMessage(), s.error().retryAfter().orElse(RETRY_AFTER));
            case InstanceClient.UpstreamTimeoutException t -> OpenAiException.unavailable(
                    "no inference instance began the request in time: " + t.getMessage(), RETRY_AFTER);
            case CallNotPermittedException c -> OpenAiException.unavailable("every instance that could serve "
                    + "the request is failing (circuit open); try again shortly", RETRY_AFTER);
            case BulkheadFullException b -> OpenAiException.unavailable(
                    "every instance that could serve the request is at its concurrency limit", RETRY_AFTER);
            case WebClientException w -> OpenAiException.unavailable("no inference instance could be reached ("
                    + w.getMostSpecificCause().getClass().getSimpleName() + ")", RETRY_AFTER);
            case IOException io -> OpenAiException.unavailable("the connection to the inference instance "
                    + "failed (" + io.getClass().getSimpleName() + ")", RETRY_AFTER);
            default -> {
                LOG.error("request {}: routing failed", call.requestId, e);
                yield OpenAiException.internal("routing failed: " + e.getClass().getSimpleName());
            }
        };
    }

    private static String midStreamMessage(RoutedCall call, Throwable e) {
        String cause = switch (e) {
            case InstanceClient.UpstreamTimeoutException t -> t.getMessage();
            case UpstreamStatusException s -> s.error().getMessage();
            case InstanceClient.ClientTooSlowException c -> c.getMessage();
            default -> "the connection to instance " + call.instanceId + " failed ("
                    + e.getClass().getSimpleName() + ")";
        };
        LOG.warn("request {}: stream from {} broke after it began: {}", call.requestId, call.instanceId, cause);
        return "the stream broke after it began: " + cause + "; the response is incomplete";
    }

    static Frame errorFrame(String message) {
        byte[] json = OpenAiJson.MAPPER.writeValueAsBytes(new OpenAiError.Body(
                new OpenAiError(message, "server_error", null, "upstream_failed")));
        byte[] bytes = new byte[DATA_PREFIX.length + json.length + 2];
        System.arraycopy(DATA_PREFIX, 0, bytes, 0, DATA_PREFIX.length);
        System.arraycopy(json, 0, bytes, DATA_PREFIX.length, json.length);
        bytes[bytes.length - 2] = '\n';
        bytes[bytes.length - 1] = '\n';
        return Frame.now(bytes);
    }
}
